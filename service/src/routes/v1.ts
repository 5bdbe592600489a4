import type { FastifyInstance } from "fastify";
import { InputError } from "../model/errors";
import { columnsFromV1 } from "../model/input";
import { predict, type InferenceCore } from "../core/inference";
import { queueShadow, resolveModel, routeModel } from "./model-request";
import {
  errorResponses,
  modelParams,
  modelReadySchema,
  v1PredictRequestSchema,
  v1PredictResponseSchema,
} from "./schemas";

/**
 * KServe v1 (data plane v1): list, model readiness, `:predict`. Readiness uses each model's default
 * version; `:predict` is answered by the MODEL_TRAFFIC split (or the default version) and shadowed.
 */
export async function v1Routes(app: FastifyInstance, core: InferenceCore): Promise<void> {
  const tags = ["KServe v1"];

  app.get("/v1/models", {
    schema: {
      tags,
      summary: "List models",
      response: {
        200: {
          type: "object",
          properties: { models: { type: "array", items: { type: "string" } } },
          required: ["models"],
        },
      },
    },
    handler: async () => ({ models: core.store.names() }),
  });

  // find-my-way cannot split "name:predict" inside one segment, so the segment is parsed here.
  app.get<{ Params: { name: string } }>("/v1/models/:name", {
    schema: {
      tags,
      summary: "Model readiness",
      params: modelParams,
      response: { 200: modelReadySchema, ...errorResponses },
    },
    handler: async (request, reply) => {
      const m = resolveModel(core, request, reply, request.params.name);
      return { name: m.artifact.name, ready: true };
    },
  });

  app.post<{ Params: { target: string }; Body: { instances: unknown[] } }>("/v1/models/:target", {
    schema: {
      tags,
      summary: "Predict: POST /v1/models/{name}:predict",
      params: {
        type: "object",
        properties: {
          target: {
            type: "string",
            description: "`<model name>:predict`, e.g. mpg-regressor:predict",
          },
        },
        required: ["target"],
      },
      body: v1PredictRequestSchema,
      response: { 200: v1PredictResponseSchema, ...errorResponses },
    },
    handler: async (request, reply) => {
      const { target } = request.params;
      const colon = target.lastIndexOf(":");
      const verb = colon < 0 ? "" : target.slice(colon + 1);
      if (verb !== "predict") {
        throw new InputError(
          `unsupported verb in '${target}'; use POST /v1/models/{name}:predict`,
          404,
        );
      }
      const m = routeModel(core, request, reply, target.slice(0, colon));
      const input = columnsFromV1(m.artifact, request.body.instances, core.config.MAX_BATCH_ROWS);
      const p = predict(core, request.log, m, input, request.body);
      queueShadow(core, request, m, input, p);
      if (p.kind === "regression") return { predictions: p.values };
      const labels = m.artifact.kind === "classification" ? m.artifact.classLabels : [];
      return {
        predictions: p.labels.map((label, i) => ({
          label,
          probabilities: Object.fromEntries(labels.map((c, k) => [c, p.probabilities[i][k]])),
        })),
      };
    },
  });
}
