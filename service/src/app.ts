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
  type onRequestHookHandler,
} from "fastify";
import FindMyWay, { type HTTPMethod } from "find-my-way";
import { HEALTH_ROUTES, isOpenRoute, type Authenticator, type AuthResult } from "./auth";
import { decodeBody, encodeResponse } from "./compression";
import { createCore, type CoreOptions, type InferenceCore } from "./core/inference";
import { REQUEST_ID_HEADER, requestId } from "./core/request-id";
import { NO_MODEL, type ServiceMetrics } from "./metrics/service-metrics";
import { InputError, show } from "./model/errors";
import { packageInfo } from "./package-info";
import { HEADER_LENGTH, parseInferBody } from "./protocol/tensor";
import { extensionRoutes } from "./routes/extensions";
import { perModelPaths } from "./routes/openapi";
import { opsRoutes } from "./routes/ops";
import { v1Routes } from "./routes/v1";
import { v2Routes } from "./routes/v2";
import { webRoutes } from "./routes/web";

export interface HttpOptions {
  /** Fastify logger setting; false is a silent logger. @default JSON logs at config.LOG_LEVEL to stdout */
  readonly logger?: FastifyServerOptions["logger"];
  /** @default the service's public/ directory */
  readonly publicDir?: string;
}

/**
 * The core the app serves (built, started and closed by its owner, as server.ts does), or what to
 * build one from: then the app builds it (createCore), starts its key reload and closes it with
 * itself.
 */
export type AppOptions = HttpOptions &
  ({ readonly core: InferenceCore } | (CoreOptions & { readonly core?: undefined }));

/** A log field that may carry request headers, with `authorization` replaced. */
function withoutCredentials(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const v = value as Record<string, unknown>;
  if ("authorization" in v) return { ...v, authorization: "[redacted]" };
  if (typeof v.headers === "object" && v.headers !== null && "authorization" in v.headers) {
    return { ...v, headers: { ...v.headers, authorization: "[redacted]" } };
  }
  return value;
}

/**
 * pino serializers of the fields that can carry credentials (a request, its headers, gRPC
 * metadata): the `authorization` header becomes "[redacted]". Serializers run only for lines that
 * log those fields, so the per-request line pays nothing (pino's `redact` would cost every line).
 * Fastify's own request serializer logs no headers; this one keeps its fields.
 */
export const CREDENTIAL_SERIALIZERS = {
  req: (req: FastifyRequest): Record<string, unknown> => {
    if (req !== null && typeof req === "object" && "raw" in req && "socket" in req) {
      const r = req;
      return {
        method: r.method,
        url: r.url,
        version: r.headers?.["accept-version"],
        host: r.host,
        remoteAddress: r.ip,
        remotePort: r.socket?.remotePort,
      };
    }
    return withoutCredentials(req) as Record<string, unknown>;
  },
  request: withoutCredentials,
  headers: withoutCredentials,
  metadata: withoutCredentials,
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- an OpenAPI path item, edited in place
type Loose = any;

/** Longest error message sent to a client (they never echo more than a short prefix of input). */
const MAX_ERROR_LENGTH = 300;

/** Methods answered with 405 (and listed in Allow) when the path exists under another method. */
const METHODS: readonly HTTPMethod[] = [
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "OPTIONS",
  "TRACE",
];

/**
 * Request bodies: JSON, with or without `Content-Type: application/json` (a request without a
 * Content-Type is JSON, as KServe, Triton and MLServer take it), and the binary tensor data
 * extension (a JSON header of Inference-Header-Content-Length bytes, then raw tensors), with
 * `application/octet-stream` or no Content-Type. Any other type is a 415. A Content-Encoding
 * (gzip, deflate, br) is decoded here, the decoded size held to `bodyLimit` (a bomb is a 413).
 */
export function installBodyParsers(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  const parse = (request: FastifyRequest, body: Buffer): unknown => {
    const h = request.headers[HEADER_LENGTH];
    const encoding = request.headers["content-encoding"];
    const raw = encoding === undefined ? body : decodeBody(encoding, body, bodyLimit);
    return parseInferBody(raw, Array.isArray(h) ? h[0] : h);
  };
  app.addContentTypeParser(
    ["application/json", "application/octet-stream"],
    { parseAs: "buffer" },
    (request, body, done) => {
      try {
        done(null, parse(request, body as Buffer));
      } catch (e) {
        done(e as Error, undefined);
      }
    },
  );
  app.addContentTypeParser("*", { parseAs: "buffer" }, (request, body, done) => {
    const type = request.headers["content-type"];
    if (type !== undefined) {
      done(
        new InputError(
          `unsupported Content-Type ${show(type)}; send application/json (or no Content-Type), ` +
            `or application/octet-stream with Inference-Header-Content-Length for binary tensors`,
          415,
        ),
        undefined,
      );
      return;
    }
    try {
      done(null, parse(request, body as Buffer));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
}

/** One structured line per request, at completion, with the route pattern and model. */
export class RequestLog extends LogController {
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

/**
 * The service's request completion: metrics, then the shadow prediction (after the response was
 * sent; it never throws), then the log line. Fastify calls this once per finished response, so
 * no onResponse hook is needed.
 */
class CompletedRequests extends RequestLog {
  constructor(private readonly metrics: ServiceMetrics) {
    super();
  }

  requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const http = this.metrics.httpChildren(
      request.method,
      request.routeOptions.url ?? "unmatched",
      reply.statusCode,
      request.metricModel,
      request.metricVersion,
    );
    http.requests.inc();
    http.duration.observe(reply.elapsedTime / 1000);
    const after = request.afterResponse;
    if (after) setImmediate(after);
    super.requestCompleted(error, request, reply);
  }
}

/**
 * One onRequest hook for the whole gate, before any body is read: protected routes need a
 * credential (401 with WWW-Authenticate, 403 without the role, 503 while no key is loaded), and
 * at most `maxInFlight` requests are served at once: one more gets 503 with Retry-After at once
 * instead of waiting in an unbounded queue. The health probes are never shed or checked.
 */
export function installGate(
  app: FastifyInstance,
  auth: Authenticator,
  maxInFlight: number,
  retryAfterSeconds: number,
): void {
  let inFlight = 0;
  const release = () => {
    inFlight--;
  };
  const retryAfter = String(retryAfterSeconds);
  const shed = {
    error: `overloaded: ${maxInFlight} requests in flight; retry after ${retryAfter} s`,
  };
  const refuse = (reply: FastifyReply, result: Exclude<AuthResult, { ok: true }>) => {
    if (result.challenge !== undefined) reply.header("www-authenticate", result.challenge);
    if (result.status === 503) reply.header("retry-after", retryAfter);
    void reply.code(result.status).send({ error: result.error });
  };
  /** The gate of one route, decided once when the route is added (no per-request URL test). */
  const gate = (checked: boolean): onRequestHookHandler =>
    function gateHook(request, reply, done) {
      if (maxInFlight > 0) {
        if (inFlight >= maxInFlight) {
          void reply.code(503).header("retry-after", retryAfter).send(shed);
          return;
        }
        inFlight++;
        reply.raw.on("close", release);
      }
      if (!checked) return done();
      const answer = auth.check(request.headers.authorization);
      if (!(answer instanceof Promise)) {
        if (answer.ok) return done();
        return refuse(reply, answer);
      }
      answer.then(
        (result) => (result.ok ? done() : refuse(reply, result)),
        (e: unknown) => done(e as Error),
      );
    };
  const checkedGate = gate(true);
  const openGate = gate(false);
  app.addHook("onRoute", (route) => {
    if (HEALTH_ROUTES.has(route.url)) return; // the probes: never shed or checked
    const checked = auth.mode !== "none" && !isOpenRoute(route.url);
    if (!checked && maxInFlight === 0) return;
    const hook = checked ? checkedGate : openGate;
    const existing = route.onRequest;
    route.onRequest =
      existing === undefined
        ? [hook]
        : [hook, ...(Array.isArray(existing) ? existing : [existing])];
  });
}

/** The OpenAPI document's security: bearer on every protected operation, none on the open ones. */
function markSecurity(paths: Record<string, Loose>): void {
  for (const [url, item] of Object.entries(paths)) {
    const open = isOpenRoute(url.replace(/\{([^}]+)\}/g, ":$1"));
    for (const operation of Object.values(item as Record<string, Loose>)) {
      if (typeof operation !== "object" || operation === null) continue;
      operation.security = open ? [] : [{ bearerAuth: [] }];
      if (!open) {
        operation.responses ??= {};
        operation.responses["401"] ??= {
          description: "No credential, or one that is not valid (see WWW-Authenticate)",
        };
        operation.responses["403"] ??= { description: "A valid token without the scoring role" };
      }
    }
  }
}

/** Builds the whole HTTP application; no listening, no process concerns. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const owned = opts.core === undefined;
  const core = opts.core === undefined ? createCore(opts) : opts.core;
  const { config, store, readiness, metrics, auth } = core;
  const serializers = CREDENTIAL_SERIALIZERS;
  const app = Fastify({
    // Always a logger (false = silent): Fastify reports completed requests, which the metrics
    // ride on (CompletedRequests), only when it has one. Credentials are redacted in every line.
    logger:
      opts.logger === false
        ? { level: "silent" }
        : typeof opts.logger === "object" && opts.logger !== null
          ? { ...opts.logger, serializers: { ...opts.logger.serializers, ...serializers } }
          : { level: config.LOG_LEVEL, serializers },
    bodyLimit: config.BODY_LIMIT_BYTES,
    logController: new CompletedRequests(metrics),
    requestIdHeader: false,
    genReqId: (req) => requestId(req.headers[REQUEST_ID_HEADER]),
    // During shutdown, requests on connections that are still open are served, not refused.
    return503OnClosing: false,
    // Errors the router raises before any route runs: the usual error body, no echo of the URL.
    frameworkErrors: (err, _request, reply) => {
      const message =
        err.code === "FST_ERR_MAX_PARAM_LENGTH"
          ? "a path parameter is longer than 100 characters (model names have at most 63)"
          : err.code === "FST_ERR_BAD_URL"
            ? "the URL is not valid (bad percent-encoding)"
            : "bad request";
      void (reply as FastifyReply).code(400).send({ error: message });
    },
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
  });
  if (owned) {
    app.addHook("onClose", async () => core.close());
    core.watchKeys((line) => app.log.warn(line));
  }
  installGate(app, auth, config.MAX_IN_FLIGHT, config.RETRY_AFTER_SECONDS);

  // Every route's methods, to answer a wrong method on a known path with 405 and Allow.
  const routes = FindMyWay({ defaultRoute: () => undefined });
  app.addHook("onRoute", (route) => {
    const methods = (Array.isArray(route.method) ? route.method : [route.method]) as HTTPMethod[];
    for (const method of methods) {
      if (!METHODS.includes(method) || routes.hasRoute(method, route.url)) continue;
      routes.on(method, route.url, () => undefined);
      if (method === "GET" && !routes.hasRoute("HEAD", route.url)) {
        routes.on("HEAD", route.url, () => undefined);
      }
    }
  });
  installBodyParsers(app, config.BODY_LIMIT_BYTES);

  app.decorateRequest("metricModel", NO_MODEL);
  app.decorateRequest("metricVersion", NO_MODEL);
  app.decorateRequest("afterResponse", null);
  // One hook for every response (a hook fewer on the hot path than separate ones): the request
  // id, `connection: close` while not ready (starting, or draining for shutdown), and
  // Accept-Encoding for bodies of 1 KiB or more.
  app.addHook("onSend", (request, reply, payload, done) => {
    reply.header(REQUEST_ID_HEADER, request.id);
    if (!readiness.ready) reply.header("connection", "close");
    encodeResponse(request, reply, payload, 1024, done);
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
    let message = err.message;
    if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      message = `unsupported Content-Type ${show(request.headers["content-type"])}; send application/json`;
    } else if (err.code === "FST_ERR_BAD_URL") {
      message = "the URL is not valid (bad percent-encoding)";
    }
    if (message.length > MAX_ERROR_LENGTH) message = `${message.slice(0, MAX_ERROR_LENGTH - 3)}...`;
    return reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split("?")[0];
    const allowed = METHODS.filter((m) => routes.find(m, path) !== null);
    const shown = path.length > 80 ? `${path.slice(0, 77)}...` : path;
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header("allow", allowed.join(", "))
        .send({
          error: `method ${request.method} not allowed on ${shown}; use ${allowed.join(", ")}`,
        });
    }
    return reply.code(404).send({ error: `no route ${request.method} ${shown}` });
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: "mlops-platform inference service",
        description:
          "Open Inference Protocol v2 and KServe v1 endpoints for the bundled tabular models, " +
          "plus health, metrics and a web form.",
        version: packageInfo().version,
      },
      components: {
        schemas: {},
        ...(auth.mode === "none"
          ? {}
          : {
              securitySchemes: {
                bearerAuth: {
                  type: "http",
                  scheme: "bearer",
                  description:
                    auth.mode === "key"
                      ? "One of the stack's two keys (`npm run keys -- show`)."
                      : "A Microsoft Entra ID access token for the endpoint's app, with its scoring role.",
                },
              },
            }),
      },
    },
    // Each model's own infer/predict operations, with its inputs spelled out.
    transformObject: (doc) => {
      if (!("openapiObject" in doc)) return doc.swaggerObject;
      const api = doc.openapiObject;
      const paths: Record<string, Loose> = {
        ...api.paths,
        ...perModelPaths(store, config.MAX_BATCH_ROWS),
      };
      // tritonclient posts no body to the repository index: the body is optional there.
      const index = paths["/v2/repository/index"]?.post;
      if (index?.requestBody) index.requestBody.required = false;
      if (auth.mode !== "none") markSecurity(paths);
      return { ...api, paths };
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

  await app.register(async (scope) => v2Routes(scope, core));
  await app.register(async (scope) => extensionRoutes(scope, core));
  await app.register(async (scope) => v1Routes(scope, core));
  await app.register(async (scope) => opsRoutes(scope, core));
  await app.register(async (scope) =>
    webRoutes(scope, opts.publicDir ?? path.join(packageInfo().root, "public")),
  );
  return app;
}
