/**
 * Open Inference Protocol v2 inference, independent of the transport: REST (routes/v2.ts) and
 * gRPC (grpc/server.ts) both call inferV2 with a request already decoded into JSON form.
 */
import { InputError, quote } from "../model/errors";
import { columnsFromV2, type V2InputTensor } from "../model/input";
import type { LoadedModel } from "../model/store";
import { add, nowNs } from "../model/stats";
import { predict, shadowTask, type CoreLog, type InferenceCore } from "../core/inference";
import { outputNames } from "../core/metadata";

export interface InferRequestV2 {
  id?: string;
  parameters?: Record<string, unknown>;
  inputs: V2InputTensor[];
  outputs?: { name: string; parameters?: Record<string, unknown> }[];
}

export interface OutputTensor {
  name: string;
  datatype: "FP64" | "BYTES";
  shape: number[];
  data: (number | string)[];
  parameters?: Record<string, unknown>;
}

export interface InferResult {
  readonly outputs: OutputTensor[];
  /** The shadow prediction to run once the response has been sent, or null. */
  readonly shadow: (() => void) | null;
}

/**
 * Validates the request against the model, predicts, records drift, metrics and statistics, and
 * builds the output tensors (all requested outputs, or all outputs of the model). Client mistakes
 * throw InputError (4xx) naming the field; the statistics count them as failures.
 * @param shadowed whether a MODEL_SHADOW version gets a copy (unversioned requests only)
 */
export function inferV2(
  core: InferenceCore,
  log: CoreLog,
  m: LoadedModel,
  body: InferRequestV2,
  shadowed: boolean,
): InferResult {
  const stats = m.stats;
  const t0 = nowNs();
  try {
    const available = outputNames(m.artifact);
    let requested = available;
    if (body.outputs !== undefined) {
      requested = body.outputs.map((o) => o.name);
      for (const name of requested) {
        if (!available.includes(name)) {
          throw new InputError(
            `unknown output ${quote(String(name))}; ${m.artifact.name} has outputs ${available.join(", ")}`,
          );
        }
      }
    }
    const input = columnsFromV2(m.artifact, body.inputs, core.config.MAX_BATCH_ROWS);
    const t1 = nowNs();
    const p = predict(core, log, m, input, body);
    const t2 = nowNs();
    const outputs: OutputTensor[] = [];
    for (const name of requested) {
      if (p.kind === "regression") {
        outputs.push({ name, datatype: "FP64", shape: [input.rows], data: p.values });
      } else if (name === "predict") {
        outputs.push({
          name,
          datatype: "BYTES",
          shape: [input.rows],
          data: p.labels,
          parameters: { content_type: "str" },
        });
      } else {
        const labels = m.artifact.kind === "classification" ? m.artifact.classLabels : [];
        outputs.push({
          name,
          datatype: "FP64",
          shape: [input.rows, labels.length],
          data: p.probabilities.flat(),
          parameters: { class_names: labels },
        });
      }
    }
    const t3 = nowNs();
    add(stats.computeInput, t1 - t0);
    add(stats.computeInfer, t2 - t1);
    add(stats.computeOutput, t3 - t2);
    add(stats.success, t3 - t0);
    stats.executionCount++;
    stats.inferenceCount += input.rows;
    stats.lastInference = Date.now();
    return { outputs, shadow: shadowed ? shadowTask(core, log, m, input, p) : null };
  } catch (e) {
    add(stats.fail, nowNs() - t0);
    throw e;
  }
}
