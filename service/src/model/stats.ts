/**
 * Per model version inference statistics, in the shape of the statistics extension of the Open
 * Inference Protocol (Triton's `GET /v2/models/{name}/stats`): counts and cumulative durations in
 * nanoseconds. Shared by REST and gRPC.
 */

/** A count and the total time spent, in nanoseconds. */
export interface Duration {
  count: number;
  ns: number;
}

export interface ModelStatistics {
  /** Milliseconds since the epoch of the last successful inference, 0 before any. */
  lastInference: number;
  /** Rows inferred (successful requests only). */
  inferenceCount: number;
  /** Successful requests (each is one execution: there is no dynamic batching). */
  executionCount: number;
  /** Successful requests, time from the start of input validation to the output tensors built. */
  success: Duration;
  /** Failed requests (4xx) that reached the model, same clock. */
  fail: Duration;
  /** Input validation and conversion to feature columns. */
  computeInput: Duration;
  /** The model's arithmetic (and drift tracking). */
  computeInfer: Duration;
  /** Building the output tensors. */
  computeOutput: Duration;
}

export function newStatistics(): ModelStatistics {
  const d = (): Duration => ({ count: 0, ns: 0 });
  return {
    lastInference: 0,
    inferenceCount: 0,
    executionCount: 0,
    success: d(),
    fail: d(),
    computeInput: d(),
    computeInfer: d(),
    computeOutput: d(),
  };
}

/** Adds one sample of `ns` nanoseconds. */
export function add(d: Duration, ns: number): void {
  d.count++;
  d.ns += ns;
}

/** Monotonic clock in nanoseconds, as a double (performance.now: cheaper than hrtime.bigint). */
export function nowNs(): number {
  return performance.now() * 1e6;
}

/** Triton/KServe JSON form of one model version's statistics. */
export function statisticsJson(name: string, version: string, s: ModelStatistics) {
  const d = (x: Duration) => ({ count: x.count, ns: Math.round(x.ns) });
  return {
    name,
    version,
    last_inference: s.lastInference,
    inference_count: s.inferenceCount,
    execution_count: s.executionCount,
    inference_stats: {
      success: d(s.success),
      fail: d(s.fail),
      // No queue: requests run as they arrive, so queue time is zero.
      queue: { count: s.success.count, ns: 0 },
      compute_input: d(s.computeInput),
      compute_infer: d(s.computeInfer),
      compute_output: d(s.computeOutput),
      cache_hit: { count: 0, ns: 0 },
      cache_miss: { count: 0, ns: 0 },
    },
    batch_stats: [],
  };
}
