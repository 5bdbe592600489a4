/**
 * The benchmark's framework baseline: a minimal Fastify app with the service's Fastify version,
 * body parsing (installBodyParsers: JSON, binary tensors, 415s), logger configuration (pino at
 * LOG_LEVEL, default info, one line per request from the same log controller) and route shape
 * (POST /v2/models/:name/infer), answering a fixed response. Everything the service does beyond
 * this (validation, A/B, prediction, drift, metrics, stats, request ids, serialisation by schema)
 * is what the benchmark's ratio measures. Prints `PORT <n>` once listening on 127.0.0.1.
 */
import Fastify from "fastify";
import { installBodyParsers, RequestLog } from "../src/app";
import { NO_MODEL } from "../src/metrics/service-metrics";

const FIXED = {
  model_name: "mpg-regressor",
  model_version: "1",
  outputs: [{ name: "predict", datatype: "FP64", shape: [1], data: [32.4306] }],
};

async function main(): Promise<void> {
  const app = Fastify({
    logger: { level: process.env.LOG_LEVEL ?? "info" },
    logController: new RequestLog(),
    bodyLimit: 1048576,
    ajv: { customOptions: { coerceTypes: false, allErrors: false, removeAdditional: false } },
  });
  app.decorateRequest("metricModel", NO_MODEL);
  app.decorateRequest("metricVersion", NO_MODEL);
  installBodyParsers(app, 1048576);
  app.post("/v2/models/:name/infer", async () => FIXED);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  process.stderr.write(`PORT ${typeof address === "object" && address ? address.port : 0}\n`);
  // A normal exit on a signal, so --cpu-prof writes its profile.
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.once(signal, () => void app.close().then(() => process.exit(0)));
  }
}

void main();
