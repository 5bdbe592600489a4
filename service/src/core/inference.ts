/**
 * The inference core, independent of the transport: what both adapters (routes/ for HTTP,
 * grpc/ for gRPC) serve. It finds the version that answers a request (the MODEL_TRAFFIC split or
 * the default), predicts, records drift and metrics, and runs the MODEL_SHADOW comparison.
 * server.ts builds one core and hands it to both adapters.
 */
import { createAuthenticator, keyRingOf, type Authenticator } from "../auth";
import type { ServiceConfig } from "../config";
import { ServiceMetrics } from "../metrics/service-metrics";
import { InputError, quote } from "../model/errors";
import type { FeatureColumns } from "../model/input";
import type { Prediction } from "../model/predictor";
import type { LoadedModel, ModelStore } from "../model/store";
import { TrafficRouter } from "../model/traffic";

/** Mutable readiness flag: false until listening, and again from SIGTERM on. */
export interface Readiness {
  ready: boolean;
}

/** Where the core writes its log lines (a Fastify or pino logger is one). */
export interface CoreLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface InferenceCore {
  readonly store: ModelStore;
  readonly config: ServiceConfig;
  readonly metrics: ServiceMetrics;
  readonly readiness: Readiness;
  readonly traffic: TrafficRouter;
  /** Who may call the protected routes (HTTP and gRPC alike). */
  readonly auth: Authenticator;
  /**
   * Starts reloading the key ring every AUTH_RELOAD_MS and reports its problems (now, and on
   * each change) to `warn`: AUTH_MODE=key with the authenticator built from config.AUTH only.
   */
  watchKeys(warn: (line: string) => void): void;
  /** Stops what the core started (the key ring's reload, when it built the authenticator). */
  close(): void;
}

export interface CoreOptions {
  readonly config: ServiceConfig;
  readonly store: ModelStore;
  /** Shared with server.ts, which flips it. @default { ready: true } */
  readonly readiness?: Readiness;
  /** A/B split and shadows. @default built from config.MODEL_TRAFFIC and config.MODEL_SHADOW */
  readonly traffic?: TrafficRouter;
  /** Who may call the protected routes. @default built from config.AUTH (closed by `close`) */
  readonly auth?: Authenticator;
}

/** Builds the core: metrics on their own registry, the A/B router and the authenticator. */
export function createCore(opts: CoreOptions): InferenceCore {
  const { config, store } = opts;
  const readiness = opts.readiness ?? { ready: true };
  const traffic =
    opts.traffic ?? new TrafficRouter(store, config.MODEL_TRAFFIC, config.MODEL_SHADOW);
  const metrics = new ServiceMetrics(store, () => readiness.ready, traffic);
  const auth = opts.auth ?? createAuthenticator(config.AUTH);
  const owned = opts.auth === undefined;
  return {
    store,
    config,
    metrics,
    readiness,
    traffic,
    auth,
    watchKeys(warn) {
      const ring = owned ? keyRingOf(auth) : undefined;
      if (!ring) return;
      ring.watch(config.AUTH.reloadMs, warn);
      for (const problem of ring.problems) warn(problem);
    },
    close() {
      if (owned) auth.close();
    },
  };
}

/** Response header (HTTP) and metadata key (gRPC) naming the model version that answered. */
export const MODEL_VERSION_HEADER = "x-model-version";

function notFound(core: InferenceCore, name: string): InputError {
  return new InputError(
    `model ${quote(name)} not found; available: ${core.store.names().join(", ")}`,
    404,
  );
}

/**
 * Finds a model (default version when `version` is undefined) or throws a 404 naming it.
 * For metadata, readiness and versioned inference: never split.
 */
export function findModel(core: InferenceCore, name: string, version?: string): LoadedModel {
  const m = core.store.get(name, version);
  if (!m) {
    if (!core.store.has(name)) throw notFound(core, name);
    throw new InputError(
      `model ${quote(name)} has no version ${quote(version ?? "")}; available: ${core.store.versions(name).join(", ")}`,
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
export function splitModel(core: InferenceCore, name: string, subject?: string): LoadedModel {
  const routed = core.traffic.route(name, subject);
  if (!routed) throw notFound(core, name);
  const m = routed.model;
  if (routed.assignment !== "default") {
    core.metrics.abAssignments.inc({
      model: name,
      version: m.artifact.version,
      assignment: routed.assignment,
    });
  }
  return m;
}

/**
 * After an unversioned prediction: if the model has a MODEL_SHADOW version (other than the one
 * that answered), the task that predicts the same validated input with it, to run once the
 * response has been sent, recording only metrics; null without a shadow. Any failure there is
 * counted and logged, never seen by the client.
 */
export function shadowTask(
  core: InferenceCore,
  log: CoreLog,
  answered: LoadedModel,
  input: FeatureColumns,
  answer: Prediction,
): (() => void) | null {
  const shadow = core.traffic.shadowFor(answered);
  if (!shadow) return null;
  return () => runShadow(core, log, answered, shadow, input, answer);
}

function runShadow(
  core: InferenceCore,
  log: CoreLog,
  answered: LoadedModel,
  shadow: LoadedModel,
  input: FeatureColumns,
  answer: Prediction,
): void {
  const model = shadow.artifact.name;
  const version = shadow.artifact.version;
  try {
    const p = shadow.predictor.predict(input);
    core.metrics.shadowPredictions.inc({ model, version }, input.rows);
    const labels = { model, version, primary_version: answered.artifact.version };
    if (p.kind === "regression" && answer.kind === "regression") {
      for (let r = 0; r < input.rows; r++) {
        core.metrics.shadowAbsDiff.observe(labels, Math.abs(p.values[r] - answer.values[r]));
      }
    } else if (p.kind === "classification" && answer.kind === "classification") {
      let agree = 0;
      for (let r = 0; r < input.rows; r++) if (p.labels[r] === answer.labels[r]) agree++;
      if (agree > 0) core.metrics.shadowAgreement.inc({ ...labels, agree: "true" }, agree);
      if (agree < input.rows) {
        core.metrics.shadowAgreement.inc({ ...labels, agree: "false" }, input.rows - agree);
      }
    }
  } catch (err) {
    core.metrics.shadowErrors.inc({ model, version });
    log.warn({ err, model, version }, "shadow prediction failed");
  }
}

/** Predicts, then records drift and prediction counts (and maybe samples the payload to the log). */
export function predict(
  core: InferenceCore,
  log: CoreLog,
  model: LoadedModel,
  input: FeatureColumns,
  payload: unknown,
): Prediction {
  const rate = core.config.PAYLOAD_LOG_SAMPLE_RATE;
  if (rate > 0 && Math.random() < rate) {
    log.info(
      { model: model.artifact.name, version: model.artifact.version, payload },
      "payload sample",
    );
  }
  const prediction = model.predictor.predict(input);
  model.drift.observe(input);
  core.metrics.predictionsFor(model).inc(input.rows);
  return prediction;
}
