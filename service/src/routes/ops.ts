import type { FastifyInstance } from "fastify";
import type { InferenceCore } from "../core/inference";

/** Prometheus exposition of the service's own registry. */
export async function opsRoutes(app: FastifyInstance, core: InferenceCore): Promise<void> {
  app.get("/metrics", {
    schema: {
      tags: ["Operations"],
      summary: "Prometheus metrics",
      produces: ["text/plain"],
      response: { 200: { type: "string" } },
    },
    handler: async (_request, reply) => {
      const text = await core.metrics.registry.metrics();
      return reply.header("content-type", core.metrics.registry.contentType).send(text);
    },
  });
}
