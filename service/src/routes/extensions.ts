import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { InferenceCore } from "../core/inference";
import { MODEL_PLATFORM, outputNames } from "../core/metadata";
import { modelStatistics, repositoryIndex } from "../core/repository";
import type { LoadedModel } from "../model/store";
import { resolveModel } from "./model-request";
import { errorResponses, modelParams, versionedModelParams } from "./schemas";

/**
 * Extensions of the Open Inference Protocol that the ecosystem's clients (tritonclient) call:
 * model configuration, inference statistics, and the model repository index (only the index:
 * models are fixed at startup, so load/unload are not offered and `model_repository` is not
 * advertised).
 */

interface ModelRoute {
  Params: { name: string; version?: string };
}

/** Triton's model configuration, as far as it describes these models. */
export function modelConfig(core: InferenceCore, m: LoadedModel) {
  const a = m.artifact;
  const classes = a.kind === "classification" ? a.classLabels.length : 0;
  return {
    name: a.name,
    platform: MODEL_PLATFORM,
    backend: "",
    version_policy: { specific: { versions: core.store.versions(a.name) } },
    // Inputs and outputs are whole batches ([N] tensors), so there is no implicit batch dimension.
    max_batch_size: 0,
    input: a.features.map((f) => ({
      name: f.name,
      data_type: f.type === "number" ? "TYPE_FP64" : "TYPE_STRING",
      dims: [-1],
    })),
    output: outputNames(a).map((name) =>
      name === "probabilities"
        ? { name, data_type: "TYPE_FP64", dims: [-1, classes], label_filename: "" }
        : { name, data_type: a.kind === "regression" ? "TYPE_FP64" : "TYPE_STRING", dims: [-1] },
    ),
    parameters: {
      version: { string_value: a.version },
      kind: { string_value: a.kind },
      max_batch_rows: { string_value: String(core.config.MAX_BATCH_ROWS) },
    },
  };
}

const durationSchema = {
  type: "object",
  properties: { count: { type: "integer" }, ns: { type: "integer" } },
  required: ["count", "ns"],
} as const;

const statsSchema = {
  type: "object",
  properties: {
    model_stats: {
      type: "array",
      items: {
        type: "object",
        properties: {
          name: { type: "string" },
          version: { type: "string" },
          last_inference: { type: "integer" },
          inference_count: { type: "integer" },
          execution_count: { type: "integer" },
          inference_stats: {
            type: "object",
            properties: Object.fromEntries(
              [
                "success",
                "fail",
                "queue",
                "compute_input",
                "compute_infer",
                "compute_output",
                "cache_hit",
                "cache_miss",
              ].map((k) => [k, durationSchema]),
            ),
          },
          batch_stats: { type: "array", items: { type: "object", additionalProperties: true } },
        },
        required: ["name", "version", "inference_count", "execution_count", "inference_stats"],
      },
    },
  },
  required: ["model_stats"],
} as const;

const configSchema = {
  type: "object",
  properties: {
    name: { type: "string" },
    platform: { type: "string" },
    backend: { type: "string" },
    version_policy: { type: "object", additionalProperties: true },
    max_batch_size: { type: "integer" },
    input: { type: "array", items: { type: "object", additionalProperties: true } },
    output: { type: "array", items: { type: "object", additionalProperties: true } },
    parameters: { type: "object", additionalProperties: true },
  },
  required: ["name", "platform", "max_batch_size", "input", "output"],
} as const;

export async function extensionRoutes(app: FastifyInstance, core: InferenceCore): Promise<void> {
  const tags = ["Open Inference Protocol v2 extensions"];

  const config = async (request: FastifyRequest<ModelRoute>, reply: FastifyReply) =>
    modelConfig(
      core,
      resolveModel(core, request, reply, request.params.name, request.params.version),
    );
  const stats = async (request: FastifyRequest<ModelRoute>) =>
    modelStatistics(core, request.params.name, request.params.version);

  app.get("/v2/models/stats", {
    schema: {
      tags,
      summary: "Inference statistics of every loaded model version",
      response: { 200: statsSchema, ...errorResponses },
    },
    handler: stats,
  });
  for (const [prefix, params] of [
    ["/v2/models/:name", modelParams],
    ["/v2/models/:name/versions/:version", versionedModelParams],
  ] as const) {
    app.get<ModelRoute>(`${prefix}/config`, {
      schema: {
        tags,
        summary: "Model configuration (model_configuration extension)",
        params,
        response: { 200: configSchema, ...errorResponses },
      },
      handler: config,
    });
    app.get<ModelRoute>(`${prefix}/stats`, {
      schema: {
        tags,
        summary:
          "Inference statistics (statistics extension); unversioned: every version of the model",
        params,
        response: { 200: statsSchema, ...errorResponses },
      },
      handler: stats,
    });
  }

  app.post<{ Body: { ready?: boolean } | undefined }>("/v2/repository/index", {
    schema: {
      tags,
      summary: "Model repository index: every loaded model version (all are READY)",
      body: {
        type: "object",
        properties: { ready: { type: "boolean" } },
        additionalProperties: false,
      },
      response: {
        200: {
          type: "array",
          items: {
            type: "object",
            properties: {
              name: { type: "string" },
              version: { type: "string" },
              state: { type: "string" },
              reason: { type: "string" },
            },
            required: ["name", "version", "state"],
          },
        },
        ...errorResponses,
      },
    },
    // tritonclient sends an empty body: the same as {}.
    preValidation: (request, _reply, done) => {
      if (request.body === undefined) request.body = {};
      done();
    },
    handler: async () => repositoryIndex(core),
  });
}
