import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import {
  FastCounter,
  FastHistogram,
  type CounterHandle,
  type HistogramHandle,
} from "./fast-metrics";
import type { LoadedModel, ModelStore } from "../model/store";
import type { TrafficRouter } from "../model/traffic";

/** Label value for requests that concern no (known) model. */
export const NO_MODEL = "none";

/**
 * The service's Prometheus metrics, on their own Registry (never the global one).
 *
 * - inference_http_requests_total{method,route,status,model,version}
 * - inference_http_request_duration_seconds{method,route,status,model,version} (histogram)
 *   (version: the version that answered, "none" when the request reached no model)
 * - inference_grpc_requests_total{method,code,model,version},
 *   inference_grpc_request_duration_seconds{...} (histogram): the same for gRPC calls
 * - inference_predictions_total{model,version}: rows predicted by the answering version
 * - inference_ab_assignments_total{model,version,assignment}: unversioned requests the
 *   MODEL_TRAFFIC split routed; assignment is "sticky" (subject header) or "random"
 * - inference_model_traffic_weight{model,version}: percent of unversioned requests a version answers
 * - inference_shadow_predictions_total{model,version}: rows predicted by a MODEL_SHADOW version
 * - inference_shadow_errors_total{model,version}: shadow predictions that failed
 * - inference_shadow_abs_diff{model,version,primary_version} (histogram): regression,
 *   |shadow − answer| per row
 * - inference_shadow_agreement_total{model,version,primary_version,agree}: classification, rows
 *   whose shadow label equals (agree="true") or differs from the answer
 * - inference_feature_drift_psi{model,version,feature}: PSI of the recent-input window vs training
 * - inference_drift_window_rows{model,version}: rows currently in that window
 * - inference_model_info{model,version,kind,default}: 1 per loaded model version
 * - inference_ready: 1 when the server reports ready
 * plus prom-client's default process metrics (process_*, nodejs_*).
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly httpRequests: FastCounter;
  private readonly httpDuration: FastHistogram;
  private readonly predictions: FastCounter;
  private readonly grpcRequests: FastCounter;
  private readonly grpcDuration: FastHistogram;
  readonly abAssignments: Counter<"model" | "version" | "assignment">;
  readonly shadowPredictions: Counter<"model" | "version">;
  readonly shadowErrors: Counter<"model" | "version">;
  readonly shadowAbsDiff: Histogram<"model" | "version" | "primary_version">;
  readonly shadowAgreement: Counter<"model" | "version" | "primary_version" | "agree">;

  /** Per model version child of `predictions` (labels resolved once, not per request). */
  private readonly predictionChildren = new Map<LoadedModel, CounterHandle>();

  /** The HTTP request counter and duration histogram of one label set (resolved once). */
  httpChildren(
    method: string,
    route: string,
    status: number,
    model: string,
    version: string,
  ): { requests: CounterHandle; duration: HistogramHandle } {
    // Every part is bounded (methods, route patterns, status codes, loaded models/versions).
    const key = `${method} ${route} ${status} ${model} ${version}`;
    const labels = () => ({ method, route, status: String(status), model, version });
    return {
      requests: this.httpRequests.handle(key, labels),
      duration: this.httpDuration.handle(key, labels),
    };
  }

  /** The same for a gRPC call; `code` is the status code name (OK, INVALID_ARGUMENT, ...). */
  grpcChildren(
    method: string,
    code: string,
    model: string,
    version: string,
  ): { requests: CounterHandle; duration: HistogramHandle } {
    const key = `${method} ${code} ${model} ${version}`;
    const labels = () => ({ method, code, model, version });
    return {
      requests: this.grpcRequests.handle(key, labels),
      duration: this.grpcDuration.handle(key, labels),
    };
  }

  predictionsFor(m: LoadedModel): CounterHandle {
    let child = this.predictionChildren.get(m);
    if (!child) {
      const { name, version } = m.artifact;
      child = this.predictions.handle(`${name} ${version}`, () => ({ model: name, version }));
      this.predictionChildren.set(m, child);
    }
    return child;
  }

  constructor(store: ModelStore, isReady: () => boolean, traffic: TrafficRouter) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const durationBuckets = [
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
    ];
    this.httpRequests = new FastCounter(
      "inference_http_requests_total",
      "HTTP requests by method, route pattern, status code, model and answering version.",
      this.registry,
    );
    this.httpDuration = new FastHistogram(
      "inference_http_request_duration_seconds",
      "HTTP request latency in seconds by method, route pattern, status code, model and answering version.",
      durationBuckets,
      this.registry,
    );
    this.grpcRequests = new FastCounter(
      "inference_grpc_requests_total",
      "gRPC calls by method, status code name, model and answering version.",
      this.registry,
    );
    this.grpcDuration = new FastHistogram(
      "inference_grpc_request_duration_seconds",
      "gRPC call latency in seconds by method, status code name, model and answering version.",
      durationBuckets,
      this.registry,
    );
    this.predictions = new FastCounter(
      "inference_predictions_total",
      "Rows predicted, by model and the version that answered (shadow predictions excluded).",
      this.registry,
    );
    this.abAssignments = new Counter({
      name: "inference_ab_assignments_total",
      help: "Unversioned requests routed by the MODEL_TRAFFIC split, by model, version and assignment (sticky: by subject header; random: none).",
      labelNames: ["model", "version", "assignment"],
      registers,
    });
    const weight = new Gauge({
      name: "inference_model_traffic_weight",
      help: "Percent of unversioned requests each loaded version answers (MODEL_TRAFFIC, else 100 for the default version).",
      labelNames: ["model", "version"],
      registers,
    });
    for (const m of store.all()) {
      weight.set({ model: m.artifact.name, version: m.artifact.version }, traffic.share(m));
    }
    this.shadowPredictions = new Counter({
      name: "inference_shadow_predictions_total",
      help: "Rows predicted by a MODEL_SHADOW version (never returned to the client).",
      labelNames: ["model", "version"],
      registers,
    });
    this.shadowErrors = new Counter({
      name: "inference_shadow_errors_total",
      help: "Shadow predictions that failed (the client's response is never affected).",
      labelNames: ["model", "version"],
      registers,
    });
    this.shadowAbsDiff = new Histogram({
      name: "inference_shadow_abs_diff",
      help: "Regression: absolute difference per row between the shadow version's prediction and the answer.",
      labelNames: ["model", "version", "primary_version"],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 25, 50],
      registers,
    });
    this.shadowAgreement = new Counter({
      name: "inference_shadow_agreement_total",
      help: "Classification: rows whose shadow label agrees (agree=true) or not with the answer.",
      labelNames: ["model", "version", "primary_version", "agree"],
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
      help: "Loaded model versions (value 1); default=true marks the default version (pinned or highest), which answers unversioned routes unless MODEL_TRAFFIC splits the model.",
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
