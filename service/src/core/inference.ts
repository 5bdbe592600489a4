import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from "fastify";
import type { Authenticator } from "../auth";
import type { ServiceConfig } from "../config";
import type { ServiceMetrics } from "../metrics/service-metrics";
import { InputError, quote } from "../model/errors";
import type { FeatureColumns } from "../model/input";
import type { Prediction } from "../model/predictor";
import type { LoadedModel, ModelStore } from "../model/store";
import type { TrafficRouter } from "../model/traffic";

/** Mutable readiness flag: false until listening, and again from SIGTERM on. */
export interface Readiness {
  ready: boolean;
}

export interface RouteContext {
  readonly store: ModelStore;
  readonly config: ServiceConfig;
  readonly metrics: ServiceMetrics;
  readonly readiness: Readiness;
  readonly traffic: TrafficRouter;
  /** Who may call the protected routes (HTTP and gRPC alike). */
  readonly auth: Authenticator;
}

declare module "fastify" {
  interface FastifyInstance {
    /** What the routes share (models, config, metrics, readiness, A/B); gRPC uses it too. */
    inference: RouteContext;
  }
  interface FastifyRequest {
    /** Model label for metrics: set once a request resolved to a loaded model. */
    metricModel: string;
    /** Version label for metrics: the version that answered (or was chosen to). */
    metricVersion: string;
    /** Work to run once the response has been sent (the shadow prediction), or null. */
    afterResponse: (() => void) | null;
  }
}

/** Response header naming the model version that answered. */
export const MODEL_VERSION_HEADER = "x-model-version";

function answeredBy(request: FastifyRequest, reply: FastifyReply, m: LoadedModel): LoadedModel {
  request.metricModel = m.artifact.name;
  request.metricVersion = m.artifact.version;
  void reply.header(MODEL_VERSION_HEADER, m.artifact.version);
  return m;
}

function notFound(ctx: RouteContext, name: string): InputError {
  return new InputError(
    `model ${quote(name)} not found; available: ${ctx.store.names().join(", ")}`,
    404,
  );
}

/**
 * Finds a model (default version when `version` is undefined) or throws a 404 naming it.
 * For metadata, readiness and versioned inference: never split.
 */
export function findModel(ctx: RouteContext, name: string, version?: string): LoadedModel {
  const m = ctx.store.get(name, version);
  if (!m) {
    if (!ctx.store.has(name)) throw notFound(ctx, name);
    throw new InputError(
      `model ${quote(name)} has no version ${quote(version ?? "")}; available: ${ctx.store.versions(name).join(", ")}`,
      404,
    );
  }
  return m;
}

/**
 * The version that answers an unversioned inference request: the MODEL_TRAFFIC split (sticky by
 * `subject`, the AB_SUBJECT_HEADER value, random without one) or the default version. Throws a
 * 404 naming an unknown model.
 */
export function splitModel(ctx: RouteContext, name: string, subject?: string): LoadedModel {
  const routed = ctx.traffic.route(name, subject);
  if (!routed) throw notFound(ctx, name);
  const m = routed.model;
  if (routed.assignment !== "default") {
    ctx.metrics.abAssignments.inc({
      model: name,
      version: m.artifact.version,
      assignment: routed.assignment,
    });
  }
  return m;
}

/** findModel, recorded on the request (metrics labels, x-model-version). */
export function resolveModel(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
  version?: string,
): LoadedModel {
  return answeredBy(request, reply, findModel(ctx, name, version));
}

/** splitModel by the request's subject header, recorded on the request. */
export function routeModel(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  name: string,
): LoadedModel {
  const header = request.headers[ctx.config.AB_SUBJECT_HEADER];
  const subject = Array.isArray(header) ? header.join(",") : header;
  return answeredBy(request, reply, splitModel(ctx, name, subject));
}

/**
 * After an unversioned prediction: if the model has a MODEL_SHADOW version (other than the one
 * that answered), predicts the same validated input with it once the response has been sent, and
 * records only metrics. Any failure there is counted and logged, never seen by the client.
 */
export function queueShadow(
  ctx: RouteContext,
  request: FastifyRequest,
  answered: LoadedModel,
  input: FeatureColumns,
  answer: Prediction,
): void {
  request.afterResponse = shadowTask(ctx, request.log, answered, input, answer);
}

/** The shadow prediction of an answered request, to run after the response, or null. */
export function shadowTask(
  ctx: RouteContext,
  log: FastifyBaseLogger,
  answered: LoadedModel,
  input: FeatureColumns,
  answer: Prediction,
): (() => void) | null {
  const shadow = ctx.traffic.shadowFor(answered);
  if (!shadow) return null;
  return () => runShadow(ctx, log, answered, shadow, input, answer);
}

function runShadow(
  ctx: RouteContext,
  log: FastifyBaseLogger,
  answered: LoadedModel,
  shadow: LoadedModel,
  input: FeatureColumns,
  answer: Prediction,
): void {
  const model = shadow.artifact.name;
  const version = shadow.artifact.version;
  try {
    const p = shadow.predictor.predict(input);
    ctx.metrics.shadowPredictions.inc({ model, version }, input.rows);
    const labels = { model, version, primary_version: answered.artifact.version };
    if (p.kind === "regression" && answer.kind === "regression") {
      for (let r = 0; r < input.rows; r++) {
        ctx.metrics.shadowAbsDiff.observe(labels, Math.abs(p.values[r] - answer.values[r]));
      }
    } else if (p.kind === "classification" && answer.kind === "classification") {
      let agree = 0;
      for (let r = 0; r < input.rows; r++) if (p.labels[r] === answer.labels[r]) agree++;
      if (agree > 0) ctx.metrics.shadowAgreement.inc({ ...labels, agree: "true" }, agree);
      if (agree < input.rows) {
        ctx.metrics.shadowAgreement.inc({ ...labels, agree: "false" }, input.rows - agree);
      }
    }
  } catch (err) {
    ctx.metrics.shadowErrors.inc({ model, version });
    log.warn({ err, model, version }, "shadow prediction failed");
  }
}

/** Predicts, then records drift and prediction counts (and maybe samples the payload to the log). */
export function predict(
  ctx: RouteContext,
  log: FastifyBaseLogger,
  model: LoadedModel,
  input: FeatureColumns,
  payload: unknown,
): Prediction {
  const rate = ctx.config.PAYLOAD_LOG_SAMPLE_RATE;
  if (rate > 0 && Math.random() < rate) {
    log.info(
      { model: model.artifact.name, version: model.artifact.version, payload },
      "payload sample",
    );
  }
  const prediction = model.predictor.predict(input);
  model.drift.observe(input);
  ctx.metrics.predictionsFor(model).inc(input.rows);
  return prediction;
}
