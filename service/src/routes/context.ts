import type { FastifyRequest } from "fastify";
import type { ServiceConfig } from "../config";
import type { ServiceMetrics } from "../metrics";
import { InputError } from "../model/input";
import type { FeatureColumns, Prediction } from "../model/predictor";
import type { LoadedModel, ModelStore } from "../model/store";

/** Mutable readiness flag: false until listening, and again from SIGTERM on. */
export interface Readiness {
  ready: boolean;
}

export interface RouteContext {
  readonly store: ModelStore;
  readonly config: ServiceConfig;
  readonly metrics: ServiceMetrics;
  readonly readiness: Readiness;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Model label for metrics: set once a request resolved to a loaded model. */
    metricModel: string;
  }
}

/** Finds a model (default version when `version` is undefined) or throws a 404 naming it. */
export function resolveModel(
  ctx: RouteContext,
  request: FastifyRequest,
  name: string,
  version?: string,
): LoadedModel {
  const m = ctx.store.get(name, version);
  if (!m) {
    if (!ctx.store.has(name)) {
      throw new InputError(
        `model '${name}' not found; available: ${ctx.store.names().join(", ")}`,
        404,
      );
    }
    throw new InputError(
      `model '${name}' has no version '${version}'; available: ${ctx.store.versions(name).join(", ")}`,
      404,
    );
  }
  request.metricModel = name;
  return m;
}

/** Predicts, then records drift and prediction counts (and maybe samples the payload to the log). */
export function predict(
  ctx: RouteContext,
  request: FastifyRequest,
  model: LoadedModel,
  input: FeatureColumns,
): Prediction {
  const rate = ctx.config.PAYLOAD_LOG_SAMPLE_RATE;
  if (rate > 0 && Math.random() < rate) {
    request.log.info(
      { model: model.artifact.name, version: model.artifact.version, payload: request.body },
      "payload sample",
    );
  }
  const prediction = model.predictor.predict(input);
  model.drift.observe(input);
  ctx.metrics.predictions.inc(
    { model: model.artifact.name, version: model.artifact.version },
    input.rows,
  );
  return prediction;
}
