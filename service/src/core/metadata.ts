/**
 * What the service says about itself and its models, the same over HTTP and gRPC: server
 * metadata, model metadata (inputs with their training ranges and categories, outputs, the
 * A/B split and shadow) and the outputs a model produces.
 */
import type { ModelArtifact } from "../model/artifact";
import type { LoadedModel } from "../model/store";
import { packageInfo } from "../package-info";
import type { InferenceCore } from "./inference";

/** The platform name of every model (model metadata, Triton's model configuration). */
export const MODEL_PLATFORM = "mlops-platform-linear";

/** The server metadata (GET /v2, gRPC ServerMetadata) with the extensions the transport offers. */
export function serverMetadata(extensions: readonly string[]) {
  return { name: "mlops-platform-inference", version: packageInfo().version, extensions };
}

/** The outputs a model produces, as listed in its metadata. */
export function outputNames(a: ModelArtifact): string[] {
  return a.kind === "regression" ? ["predict"] : ["predict", "probabilities"];
}

/** The model metadata of one loaded version (GET /v2/models/{name}, gRPC ModelMetadata). */
export function modelMetadata(core: InferenceCore, m: LoadedModel) {
  const a = m.artifact;
  const weights = core.traffic.weights(a.name);
  const shadow = core.traffic.shadowVersion(a.name);
  const outputs =
    a.kind === "regression"
      ? [{ name: "predict", datatype: "FP64", shape: [-1], parameters: { target: a.target.name } }]
      : [
          {
            name: "predict",
            datatype: "BYTES",
            shape: [-1],
            parameters: { content_type: "str", target: a.target.name },
          },
          {
            name: "probabilities",
            datatype: "FP64",
            shape: [-1, a.classLabels.length],
            parameters: { class_names: a.classLabels },
          },
        ];
  return {
    name: a.name,
    versions: core.store.versions(a.name),
    platform: MODEL_PLATFORM,
    inputs: a.features.map((f) =>
      f.type === "number"
        ? {
            name: f.name,
            datatype: "FP64",
            shape: [-1],
            parameters: { content_type: "np", training_min: f.min, training_max: f.max },
          }
        : {
            name: f.name,
            datatype: "BYTES",
            shape: [-1],
            parameters: { content_type: "str", categories: f.categories },
          },
    ),
    outputs,
    parameters: {
      version: a.version,
      kind: a.kind,
      description: a.description,
      target: a.target.name,
      ...(a.kind === "classification" ? { class_names: a.classLabels } : {}),
      metrics: a.metrics,
      created_at: a.createdAt,
      data_sha256: a.training.dataSha256,
      // How unversioned requests are answered (MODEL_TRAFFIC / MODEL_SHADOW), when configured.
      ...(weights ? { traffic: Object.fromEntries(weights) } : {}),
      ...(shadow !== undefined ? { shadow_version: shadow } : {}),
    },
  };
}
