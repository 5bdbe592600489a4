import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import * as path from "node:path";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifyServerOptions,
} from "fastify";
import type { ServiceConfig } from "./config";
import { NO_MODEL, ServiceMetrics } from "./metrics";
import type { ModelStore } from "./model/store";
import { TrafficRouter } from "./model/traffic";
import { packageInfo } from "./package-info";
import type { Readiness, RouteContext } from "./routes/context";
import { opsRoutes } from "./routes/ops";
import { v1Routes } from "./routes/v1";
import { v2Routes } from "./routes/v2";
import { webRoutes } from "./routes/web";

export interface AppOptions {
  readonly config: ServiceConfig;
  readonly store: ModelStore;
  /** Shared with server.ts, which flips it. @default { ready: true } */
  readonly readiness?: Readiness;
  /** Fastify logger setting. @default JSON logs at config.LOG_LEVEL to stdout */
  readonly logger?: FastifyServerOptions["logger"];
  /** @default the service's public/ directory */
  readonly publicDir?: string;
  /** A/B split and shadows. @default built from config.MODEL_TRAFFIC and config.MODEL_SHADOW */
  readonly traffic?: TrafficRouter;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honours a well-formed incoming x-request-id; otherwise mints a UUID. */
export function requestId(req: IncomingMessage): string {
  const h = req.headers["x-request-id"];
  return typeof h === "string" && REQUEST_ID.test(h) ? h : randomUUID();
}

/** One structured line per request, at completion, with the route pattern and model. */
class RequestLog extends LogController {
  constructor() {
    super({ requestIdLogLabel: "reqId" });
  }

  incomingRequest(): void {}

  requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const fields = {
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: reply.statusCode,
      model: request.metricModel,
      version: request.metricVersion,
      ms: reply.elapsedTime,
    };
    if (error) reply.log.error({ ...fields, err: error }, "request errored");
    else reply.log.info(fields, "request completed");
  }
}

/** Builds the whole HTTP application; no listening, no process concerns. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { config, store } = opts;
  const readiness = opts.readiness ?? { ready: true };
  const app = Fastify({
    logger: opts.logger ?? { level: config.LOG_LEVEL },
    bodyLimit: config.BODY_LIMIT_BYTES,
    logController: new RequestLog(),
    requestIdHeader: false,
    genReqId: requestId,
    // During shutdown, requests on connections that are still open are served, not refused.
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
  });
  const traffic =
    opts.traffic ?? new TrafficRouter(store, config.MODEL_TRAFFIC, config.MODEL_SHADOW);
  const metrics = new ServiceMetrics(store, () => readiness.ready, traffic);
  const ctx: RouteContext = { store, config, metrics, readiness, traffic };

  app.decorateRequest("metricModel", NO_MODEL);
  app.decorateRequest("metricVersion", NO_MODEL);
  app.decorateRequest("afterResponse", null);
  app.addHook("onRequest", (request, reply, done) => {
    reply.header("x-request-id", request.id);
    // Not ready (starting, or draining for shutdown): ask clients not to reuse this connection.
    if (!readiness.ready) reply.header("connection", "close");
    done();
  });
  app.addHook("onResponse", (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? "unmatched",
      status: String(reply.statusCode),
      model: request.metricModel,
      version: request.metricVersion,
    };
    const seconds = reply.elapsedTime / 1000;
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, seconds);
    // The shadow prediction runs only now, after the response was sent; it never throws.
    const after = request.afterResponse;
    if (after) setImmediate(after);
    done();
  });

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const status =
      err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600
        ? err.statusCode
        : 500;
    if (status >= 500) {
      request.log.error({ err }, "request failed");
      return reply.code(status).send({ error: "internal server error" });
    }
    request.log.debug({ err: err.message, code: err.code }, "client error");
    return reply.code(status).send({ error: err.message });
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split("?")[0]}` }),
  );

  await app.register(swagger, {
    openapi: {
      info: {
        title: "mlops-platform inference service",
        description:
          "Open Inference Protocol v2 and KServe v1 endpoints for the bundled tabular models, " +
          "plus health, metrics and a web form.",
        version: packageInfo().version,
      },
      components: { schemas: {} },
    },
  });
  await app.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });
  app.get("/openapi.json", {
    schema: {
      tags: ["Operations"],
      summary: "OpenAPI 3 document",
      response: { 200: { type: "object", additionalProperties: true } },
    },
    handler: async () => app.swagger(),
  });

  await app.register(async (scope) => v2Routes(scope, ctx));
  await app.register(async (scope) => v1Routes(scope, ctx));
  await app.register(async (scope) => opsRoutes(scope, ctx));
  await app.register(async (scope) =>
    webRoutes(scope, opts.publicDir ?? path.join(packageInfo().root, "public")),
  );
  return app;
}
