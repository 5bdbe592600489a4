/**
 * Continuous, bounded load on the deployed Service while something changes (a rollout, a
 * blue-green switch): loopback only (the node port kube-proxy serves on 127.0.0.1), a fixed
 * number of workers, a cap on requests and on time, and it stops by itself.
 *
 * Each worker alternates `GET /v2` (the server metadata: its `version` tells which release
 * answered) and one OIP v2 inference, on a fresh connection each time, so every request is routed
 * by kube-proxy anew (a kept-alive connection would stay on the pod it first reached).
 */
import * as http from "node:http";
import { recordTiming } from "./context";

export interface TrafficReport {
  readonly requests: number;
  readonly failed: number;
  /** Server version (GET /v2) -> requests it answered, in order of first appearance. */
  readonly versions: Record<string, number>;
  /** The version of every answered GET /v2, in order (for "moved to the other colour"). */
  readonly sequence: readonly string[];
  /** Up to 10 failures: status or error, with the request. */
  readonly failures: readonly string[];
  readonly seconds: number;
  readonly requestsPerSecond: number;
}

export interface TrafficOptions {
  readonly workers?: number;
  readonly maxRequests?: number;
  readonly maxSeconds?: number;
  /** Keep sending this long after the action finished (the change settles under load). */
  readonly tailMs?: number;
  /** How one request goes (default: {@link send} to `base`), e.g. through the Gateway. */
  readonly send?: (path: string, body?: unknown) => Promise<Answer>;
}

/** One car of the MPG regressor, as the smoke test sends it. */
export const MPG_ROW = [
  { name: "Cylinders", shape: [1], datatype: "FP64", data: [4] },
  { name: "Displacement", shape: [1], datatype: "FP64", data: [140] },
  { name: "Horsepower", shape: [1], datatype: "FP64", data: [90] },
  { name: "Weight_in_lbs", shape: [1], datatype: "FP64", data: [2264] },
  { name: "Acceleration", shape: [1], datatype: "FP64", data: [15.5] },
  { name: "Year", shape: [1], datatype: "FP64", data: [1971] },
  { name: "Origin", shape: [1], datatype: "BYTES", data: ["USA"] },
];

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** The credential every request sends (`Authorization: Bearer <key>`), once the stack has one. */
let credential: string | undefined;

/** Sends `key` with every later request (undefined: none). */
export function useKey(key: string | undefined): void {
  credential = key;
}

/** The headers that carry the key of {@link useKey} (none before it). */
export function credentialHeaders(): Record<string, string> {
  return credential === undefined ? {} : { authorization: `Bearer ${credential}` };
}

/** One request on its own connection (no keep-alive), with a deadline. It carries the key of
 * {@link useKey} unless `headers` sets `authorization` (`""` sends none). */
export function send(
  base: string,
  path: string,
  body?: unknown,
  timeoutMs = 10000,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const url = new URL(path, base);
  if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost") {
    return Promise.reject(new Error(`traffic goes to loopback only, not ${url.host}`));
  }
  return requestOnce(
    (options, callback) => http.request(url, options, callback),
    {
      connection: "close",
      ...credentialHeaders(),
      ...headers,
    },
    body,
    timeoutMs,
  );
}

/**
 * One request with a JSON body (POST) or none (GET), on its own connection (`agent: false`),
 * with a deadline: what `send` and the Gateway's client (support/gateway.ts) share.
 */
export function requestOnce(
  request: (
    options: http.RequestOptions,
    callback: (res: http.IncomingMessage) => void,
  ) => http.ClientRequest,
  headers: Record<string, string>,
  body: unknown,
  timeoutMs: number,
  options: http.RequestOptions = {},
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        ...options,
        method: payload === undefined ? "GET" : "POST",
        agent: false,
        headers: {
          ...headers,
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
        timeout: timeoutMs,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

/** Runs `action` while the workers send traffic to `base`; resolves with both. */
export async function underLoad<T>(
  base: string,
  action: () => Promise<T>,
  options: TrafficOptions = {},
): Promise<{ result: T; traffic: TrafficReport }> {
  const workers = options.workers ?? 4;
  const maxRequests = options.maxRequests ?? 20000;
  const maxMs = (options.maxSeconds ?? 600) * 1000;
  const tailMs = options.tailMs ?? 3000;
  const started = Date.now();
  let stopAt = started + maxMs;
  let requests = 0;
  let failed = 0;
  const versions: Record<string, number> = {};
  const sequence: string[] = [];
  const failures: string[] = [];
  const fail = (what: string) => {
    failed++;
    if (failures.length < 10) failures.push(`${new Date().toISOString()} ${what}`);
  };

  const worker = async () => {
    let i = 0;
    while (Date.now() < stopAt && requests < maxRequests) {
      requests++;
      const meta = i++ % 2 === 0;
      const path = meta ? "/v2" : "/v2/models/mpg-regressor/infer";
      try {
        const body = meta ? undefined : { inputs: MPG_ROW };
        const a = await (options.send ? options.send(path, body) : send(base, path, body));
        if (a.status !== 200) {
          fail(`${path}: HTTP ${a.status} ${a.body.slice(0, 120)}`);
          continue;
        }
        const parsed = JSON.parse(a.body) as { version?: string; outputs?: unknown[] };
        if (meta) {
          const v = String(parsed.version);
          versions[v] = (versions[v] ?? 0) + 1;
          sequence.push(v);
        } else if (!Array.isArray(parsed.outputs) || parsed.outputs.length === 0) {
          fail(`${path}: no outputs in ${a.body.slice(0, 120)}`);
        }
      } catch (err) {
        fail(`${path}: ${(err as Error).message}`);
      }
    }
  };
  const running = Array.from({ length: workers }, worker);
  let result: T;
  try {
    result = await action();
  } finally {
    stopAt = Math.min(stopAt, Date.now() + tailMs);
    await Promise.all(running);
  }
  const seconds = (Date.now() - started) / 1000;
  return {
    result,
    traffic: {
      requests,
      failed,
      versions,
      sequence,
      failures,
      seconds: Number(seconds.toFixed(1)),
      requestsPerSecond: Number((requests / seconds).toFixed(1)),
    },
  };
}

/** One line for the run's output and timings. */
export function describeTraffic(t: TrafficReport): string {
  const byVersion = Object.entries(t.versions)
    .map(([v, n]) => `${v}: ${n}`)
    .join(", ");
  return `${t.requests} requests in ${t.seconds}s (${t.requestsPerSecond}/s), ${t.failed} failed; GET /v2 answered by version: ${byVersion || "none"}`;
}

/** The traffic figures go to the run's output and its timings. */
export function report(label: string, t: TrafficReport): TrafficReport {
  const line = describeTraffic(t);
  process.stderr.write(`[e2e] ${label}: ${line}\n`);
  if (t.failures.length > 0)
    process.stderr.write(`[e2e]   failures: ${t.failures.join("\n    ")}\n`);
  recordTiming(label, t.seconds, line);
  return t;
}

/** The version (GET /v2) of `n` answers in a row from the Service, fresh connections. */
export async function versionsNow(base: string, n = 20): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const a = await send(base, "/v2");
    expect(a.status).toBe(200);
    out.push(String((JSON.parse(a.body) as { version: string }).version));
  }
  return out;
}
