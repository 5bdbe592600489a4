/**
 * Open Inference Protocol v2 over gRPC (`inference.GRPCInferenceService`, proto/grpc_predict_v2.proto)
 * on its own port: the same models, A/B split, shadows, validation (protocol/infer.ts), drift,
 * statistics and metrics as REST. Inputs come as typed `contents` or `raw_input_contents`;
 * outputs always go as `raw_output_contents` (as Triton answers, and as tritonclient reads).
 */
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import type { FastifyBaseLogger } from "fastify";
import type { AuthResult } from "../auth";
import { findModel, MODEL_VERSION_HEADER, splitModel, type InferenceCore } from "../core/inference";
import { modelMetadata, serverMetadata } from "../core/metadata";
import { modelStatistics, repositoryIndex } from "../core/repository";
import { REQUEST_ID_HEADER, requestId } from "../core/request-id";
import { NO_MODEL } from "../metrics/service-metrics";
import { InputError, quote } from "../model/errors";
import type { LoadedModel } from "../model/store";
import { packageInfo } from "../package-info";
import { inferV2, type InferRequestV2 } from "../protocol/infer";
import { decodeTensor, encodeTensor } from "../protocol/tensor";

/** Extensions the gRPC ServerMetadata advertises: statistics (ModelStatistics). */
export const GRPC_EXTENSIONS: readonly string[] = ["statistics"];

export const PROTO_FILE = path.join(packageInfo().root, "proto", "grpc_predict_v2.proto");

/** The service definition, loaded from the .proto at runtime (snake_case fields, int64 as numbers). */
export function inferenceService(): grpc.ServiceDefinition {
  const def = protoLoader.loadSync(PROTO_FILE, {
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    inference: { GRPCInferenceService: { service: grpc.ServiceDefinition } };
  };
  return pkg.inference.GRPCInferenceService.service;
}

type Param = { parameter_choice?: string } & Record<string, unknown>;

interface TensorContents {
  int_contents: number[];
  int64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}

interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, Param>;
  inputs: {
    name: string;
    datatype: string;
    shape: number[];
    parameters: Record<string, Param>;
    contents: TensorContents | null;
  }[];
  outputs: { name: string; parameters: Record<string, Param> }[];
  raw_input_contents: Buffer[];
}

/** The gRPC status of each refusal of the authentication gate. */
const AUTH_STATUS: Readonly<Record<401 | 403 | 503, grpc.status>> = {
  401: grpc.status.UNAUTHENTICATED,
  403: grpc.status.PERMISSION_DENIED,
  503: grpc.status.UNAVAILABLE,
};

const STATUS_OF: Readonly<Record<number, grpc.status>> = {
  404: grpc.status.NOT_FOUND,
  413: grpc.status.RESOURCE_EXHAUSTED,
};

/** An InferParameter map as plain values. */
function params(p: Record<string, Param> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p ?? {})) {
    if (v.parameter_choice !== undefined) out[k] = v[v.parameter_choice];
  }
  return out;
}

/** Typed `contents` of one input, by its datatype. */
function typedValues(datatype: string, c: TensorContents | null): unknown[] {
  if (!c) return [];
  switch (datatype) {
    case "FP64":
      return c.fp64_contents;
    case "FP32":
      return c.fp32_contents;
    case "INT64":
      return c.int64_contents;
    case "INT32":
      return c.int_contents;
    case "BYTES":
      return c.bytes_contents.map((b) => b.toString("utf8"));
    default:
      return [];
  }
}

/** A gRPC ModelInferRequest as the JSON-form request that inferV2 validates. */
export function toV2Request(r: GrpcInferRequest): InferRequestV2 {
  const raw = r.raw_input_contents;
  if (raw.length > 0 && raw.length !== r.inputs.length) {
    throw new InputError(
      `raw_input_contents has ${raw.length} entries for ${r.inputs.length} inputs; give one per input, or none`,
    );
  }
  if (r.id.length > 256) throw new InputError(`id is longer than 256 characters`);
  return {
    ...(r.id !== "" ? { id: r.id } : {}),
    parameters: params(r.parameters),
    inputs: r.inputs.map((t, i) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      parameters: params(t.parameters),
      data:
        raw.length > 0
          ? decodeTensor(t.datatype, raw[i], `input ${quote(t.name)}`)
          : typedValues(t.datatype, t.contents),
    })),
    ...(r.outputs.length > 0
      ? { outputs: r.outputs.map((o) => ({ name: o.name, parameters: params(o.parameters) })) }
      : {}),
  };
}

/**
 * The gRPC server, not yet bound. Every call is logged on completion (like REST requests: reqId,
 * method, code, model, version, ms) and counted in inference_grpc_requests_total.
 */
export function createGrpcServer(
  core: InferenceCore,
  log: FastifyBaseLogger,
  extensions: readonly string[],
): grpc.Server {
  const server = new grpc.Server({
    "grpc.max_receive_message_length": core.config.BODY_LIMIT_BYTES,
    "grpc.max_send_message_length": -1,
  });

  /** Wraps a unary handler: ids, errors -> status codes, log line, metrics. */
  function unary<Req, Res>(
    method: string,
    handle: (
      req: Req,
      call: grpc.ServerUnaryCall<Req, Res>,
      answered: (m: LoadedModel) => void,
    ) => Res | { response: Res; after: (() => void) | null },
    open = false,
  ): grpc.handleUnaryCall<Req, Res> {
    const serve: grpc.handleUnaryCall<Req, Res> = (call, callback) => {
      const start = process.hrtime.bigint();
      const reqId = requestId(call.metadata.get(REQUEST_ID_HEADER)[0]);
      let model = NO_MODEL;
      let version = NO_MODEL;
      const answered = (m: LoadedModel) => {
        model = m.artifact.name;
        version = m.artifact.version;
      };
      let code = grpc.status.OK;
      let after: (() => void) | null = null;
      const md = new grpc.Metadata();
      md.set(REQUEST_ID_HEADER, reqId);
      try {
        const out = handle(call.request, call, answered);
        let response: Res;
        if (out && typeof out === "object" && "response" in out && "after" in out) {
          response = out.response;
          after = out.after;
        } else response = out as Res;
        if (version !== NO_MODEL) md.set(MODEL_VERSION_HEADER, version);
        call.sendMetadata(md);
        callback(null, response);
      } catch (err) {
        let details = "internal error";
        if (err instanceof InputError) {
          code = STATUS_OF[err.statusCode] ?? grpc.status.INVALID_ARGUMENT;
          details = err.message;
        } else {
          code = grpc.status.INTERNAL;
          log.error({ err, reqId, method }, "gRPC call failed");
        }
        call.sendMetadata(md);
        callback({ code, details });
      }
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const codeName = grpc.status[code];
      const m = core.metrics.grpcChildren(method, codeName, model, version);
      m.requests.inc();
      m.duration.observe(ms / 1000);
      log.info(
        { reqId, method, code: codeName, model, version, ms },
        code === grpc.status.OK ? "request completed" : "request failed",
      );
      if (after) setImmediate(after);
    };
    if (open || core.auth.mode === "none") return serve;
    /** Refused before any work: the same answer as HTTP's 401/403/503, as a gRPC status. */
    const refuse = (
      result: Exclude<AuthResult, { ok: true }>,
      callback: grpc.sendUnaryData<Res>,
    ) => {
      const code = AUTH_STATUS[result.status];
      const codeName = grpc.status[code];
      core.metrics.grpcChildren(method, codeName, NO_MODEL, NO_MODEL).requests.inc();
      log.info({ method, code: codeName }, "request refused");
      callback({ code, details: result.error });
    };
    return (call, callback) => {
      const header = call.metadata.get("authorization")[0];
      const answer = core.auth.check(typeof header === "string" ? header : undefined);
      const next = (result: AuthResult) =>
        result.ok ? serve(call, callback) : refuse(result, callback);
      if (answer instanceof Promise) {
        answer.then(next, (err: unknown) => {
          log.error({ err, method }, "gRPC authentication failed");
          callback({ code: grpc.status.INTERNAL, details: "internal error" });
        });
      } else next(answer);
    };
  }

  const abHeader = core.config.AB_SUBJECT_HEADER;
  server.addService(inferenceService(), {
    // The probes stay open, as /v2/health/live and /v2/health/ready do.
    ServerLive: unary("ServerLive", () => ({ live: true }), true),
    ServerReady: unary("ServerReady", () => ({ ready: core.readiness.ready }), true),
    ServerMetadata: unary("ServerMetadata", () => serverMetadata(extensions)),
    ModelReady: unary<{ name: string; version: string }, { ready: boolean }>(
      "ModelReady",
      (req, _call, answered) => {
        answered(findModel(core, req.name, req.version || undefined));
        return { ready: true };
      },
    ),
    ModelMetadata: unary<{ name: string; version: string }, unknown>(
      "ModelMetadata",
      (req, _call, answered) => {
        const m = findModel(core, req.name, req.version || undefined);
        answered(m);
        const md = modelMetadata(core, m);
        const tensor = (t: { name: string; datatype: string; shape: number[] }) => ({
          name: t.name,
          datatype: t.datatype,
          shape: t.shape,
        });
        return {
          name: md.name,
          versions: md.versions,
          platform: md.platform,
          inputs: md.inputs.map(tensor),
          outputs: md.outputs.map(tensor),
        };
      },
    ),
    ModelStatistics: unary<{ name: string; version: string }, unknown>("ModelStatistics", (req) =>
      modelStatistics(core, req.name || undefined, req.version || undefined),
    ),
    RepositoryIndex: unary("RepositoryIndex", () => ({ models: repositoryIndex(core) })),
    ModelInfer: unary<GrpcInferRequest, unknown>("ModelInfer", (req, call, answered) => {
      const versioned = req.model_version !== "";
      let m: LoadedModel;
      if (versioned) m = findModel(core, req.model_name, req.model_version);
      else {
        const subject = call.metadata.get(abHeader)[0];
        m = splitModel(core, req.model_name, typeof subject === "string" ? subject : undefined);
      }
      answered(m);
      const body = toV2Request(req);
      const result = inferV2(core, log, m, body, !versioned);
      return {
        response: {
          model_name: m.artifact.name,
          model_version: m.artifact.version,
          id: req.id,
          outputs: result.outputs.map((o) => ({
            name: o.name,
            datatype: o.datatype,
            shape: o.shape,
          })),
          raw_output_contents: result.outputs.map((o) => encodeTensor(o.datatype, o.data)),
        },
        after: result.shadow,
      };
    }),
  });
  return server;
}

/** Binds the server; resolves with the port actually bound (for GRPC_PORT=0). */
export function bindGrpc(server: grpc.Server, host: string, port: number): Promise<number> {
  const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) =>
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
}
