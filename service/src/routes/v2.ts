import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { InferenceCore } from "../core/inference";
import { modelMetadata, serverMetadata } from "../core/metadata";
import { inferV2, type InferRequestV2, type OutputTensor } from "../protocol/infer";
import { encodeTensor, HEADER_LENGTH } from "../protocol/tensor";
import { resolveModel, routeModel } from "./model-request";
import {
  errorResponses,
  inferRequestSchema,
  inferResponseSchema,
  modelMetadataSchema,
  modelParams,
  modelReadySchema,
  versionedModelParams,
} from "./schemas";

interface ModelRoute {
  Params: { name: string; version?: string };
}

interface InferRoute extends ModelRoute {
  Body: InferRequestV2;
}

/** Extensions of the Open Inference Protocol this server implements (GET /v2). */
export const EXTENSIONS = ["binary_tensor_data", "model_configuration", "statistics"];

/**
 * Binary tensor data extension, response side: when the request asks for binary outputs
 * (`parameters.binary_data_output` for all, or `binary_data` on a requested output), those
 * outputs carry `parameters.binary_data_size` instead of `data`, and their bytes follow the JSON
 * header, whose length is in the Inference-Header-Content-Length response header.
 */
function binaryOutputs(body: InferRequestV2, outputs: OutputTensor[]): Buffer[] | null {
  const all = body.parameters?.binary_data_output === true;
  const wanted = (name: string) =>
    all || body.outputs?.find((o) => o.name === name)?.parameters?.binary_data === true;
  let buffers: Buffer[] | null = null;
  for (const o of outputs) {
    if (!wanted(o.name)) continue;
    const buf = encodeTensor(o.datatype, o.data);
    (buffers ??= []).push(buf);
    o.parameters = { ...o.parameters, binary_data_size: buf.length };
    delete (o as Partial<OutputTensor>).data;
  }
  return buffers;
}

/** Open Inference Protocol v2 (REST). */
export async function v2Routes(app: FastifyInstance, core: InferenceCore): Promise<void> {
  const tags = ["Open Inference Protocol v2"];

  app.get("/v2", {
    schema: {
      tags,
      summary: "Server metadata",
      response: {
        200: {
          type: "object",
          properties: {
            name: { type: "string" },
            version: { type: "string" },
            extensions: { type: "array", items: { type: "string" } },
          },
          required: ["name", "version", "extensions"],
        },
        ...errorResponses,
      },
    },
    handler: async () => serverMetadata(EXTENSIONS),
  });

  app.get("/v2/health/live", {
    schema: {
      tags,
      summary: "Liveness",
      response: {
        200: { type: "object", properties: { live: { type: "boolean" } }, required: ["live"] },
      },
    },
    handler: async () => ({ live: true }),
  });

  const readySchema = {
    type: "object",
    properties: { ready: { type: "boolean" } },
    required: ["ready"],
  } as const;
  app.get("/v2/health/ready", {
    schema: {
      tags,
      summary: "Readiness: 200 when serving, 503 before startup completes and from SIGTERM on",
      response: { 200: readySchema, 503: readySchema },
    },
    handler: async (_request, reply) => {
      const ready = core.readiness.ready;
      return reply.code(ready ? 200 : 503).send({ ready });
    },
  });

  const metadata = async (request: FastifyRequest<ModelRoute>, reply: FastifyReply) =>
    modelMetadata(
      core,
      resolveModel(core, request, reply, request.params.name, request.params.version),
    );
  const ready = async (request: FastifyRequest<ModelRoute>, reply: FastifyReply) => {
    const m = resolveModel(core, request, reply, request.params.name, request.params.version);
    return { name: m.artifact.name, ready: true };
  };
  const infer = async (request: FastifyRequest<InferRoute>, reply: FastifyReply) => {
    const { name, version } = request.params;
    // Only unversioned requests are split (MODEL_TRAFFIC) and shadowed (MODEL_SHADOW).
    const m =
      version === undefined
        ? routeModel(core, request, reply, name)
        : resolveModel(core, request, reply, name, version);
    const body = request.body;
    const result = inferV2(core, request.log, m, body, version === undefined);
    request.afterResponse = result.shadow;
    const response = {
      model_name: m.artifact.name,
      model_version: m.artifact.version,
      ...(body.id !== undefined ? { id: body.id } : {}),
      outputs: result.outputs,
    };
    const buffers =
      body.parameters !== undefined || body.outputs !== undefined
        ? binaryOutputs(body, result.outputs)
        : null;
    if (buffers === null) return response;
    const header = Buffer.from(JSON.stringify(response));
    return reply
      .header("content-type", "application/octet-stream")
      .header(HEADER_LENGTH, header.length)
      .send(Buffer.concat([header, ...buffers]));
  };

  for (const [prefix, params] of [
    ["/v2/models/:name", modelParams],
    ["/v2/models/:name/versions/:version", versionedModelParams],
  ] as const) {
    app.get<ModelRoute>(prefix, {
      schema: {
        tags,
        summary: "Model metadata",
        params,
        response: { 200: modelMetadataSchema, ...errorResponses },
      },
      handler: metadata,
    });
    app.get<ModelRoute>(`${prefix}/ready`, {
      schema: {
        tags,
        summary: "Model readiness",
        params,
        response: { 200: modelReadySchema, ...errorResponses },
      },
      handler: ready,
    });
    app.post<InferRoute>(`${prefix}/infer`, {
      schema: {
        tags,
        summary: "Inference",
        params,
        body: inferRequestSchema,
        response: { 200: inferResponseSchema, ...errorResponses },
      },
      handler: infer,
    });
  }
}
