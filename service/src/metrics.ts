import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ModelStore } from "./model/store";

/** Label value for requests that concern no (known) model. */
export const NO_MODEL = "none";

/**
 * The service's Prometheus metrics, on their own Registry (never the global one).
 *
 * - inference_http_requests_total{method,route,status,model}
 * - inference_http_request_duration_seconds{method,route,status,model} (histogram)
 * - inference_predictions_total{model,version}: rows predicted
 * - inference_feature_drift_psi{model,version,feature}: PSI of the recent-input window vs training
 * - inference_drift_window_rows{model,version}: rows currently in that window
 * - inference_model_info{model,version,kind,default}: 1 per loaded model version
 * - inference_ready: 1 when the server reports ready
 * plus prom-client's default process metrics (process_*, nodejs_*).
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<"method" | "route" | "status" | "model">;
  readonly httpDuration: Histogram<"method" | "route" | "status" | "model">;
  readonly predictions: Counter<"model" | "version">;

  constructor(store: ModelStore, isReady: () => boolean) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.httpRequests = new Counter({
      name: "inference_http_requests_total",
      help: "HTTP requests by method, route pattern, status code and model.",
      labelNames: ["method", "route", "status", "model"],
      registers,
    });
    this.httpDuration = new Histogram({
      name: "inference_http_request_duration_seconds",
      help: "HTTP request latency in seconds by method, route pattern, status code and model.",
      labelNames: ["method", "route", "status", "model"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.predictions = new Counter({
      name: "inference_predictions_total",
      help: "Rows predicted, by model and version.",
      labelNames: ["model", "version"],
      registers,
    });
    new Gauge({
      name: "inference_feature_drift_psi",
      help: "Population Stability Index of each feature's recent inputs (sliding window) against its training distribution.",
      labelNames: ["model", "version", "feature"],
      registers,
      collect() {
        this.reset();
        for (const m of store.all()) {
          for (const w of m.drift.windows) {
            const v = w.psi();
            if (v !== undefined)
              this.set(
                { model: m.artifact.name, version: m.artifact.version, feature: w.feature },
                v,
              );
          }
        }
      },
    });
    new Gauge({
      name: "inference_drift_window_rows",
      help: "Rows currently in the drift window of each model version.",
      labelNames: ["model", "version"],
      registers,
      collect() {
        for (const m of store.all()) {
          this.set(
            { model: m.artifact.name, version: m.artifact.version },
            m.drift.windows[0]?.samples ?? 0,
          );
        }
      },
    });
    const info = new Gauge({
      name: "inference_model_info",
      help: "Loaded model versions (value 1); default=true marks the version unversioned routes use.",
      labelNames: ["model", "version", "kind", "default"],
      registers,
    });
    for (const m of store.all()) {
      info.set(
        {
          model: m.artifact.name,
          version: m.artifact.version,
          kind: m.artifact.kind,
          default: String(store.isDefault(m)),
        },
        1,
      );
    }
    new Gauge({
      name: "inference_ready",
      help: "1 when the server reports ready, 0 otherwise (e.g. while shutting down).",
      registers,
      collect() {
        this.set(isReady() ? 1 : 0);
      },
    });
  }
}
