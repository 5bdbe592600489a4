/**
 * Process concerns only: validate env, load models, listen, and shut down gracefully.
 *
 * On SIGTERM/SIGINT: readiness turns false at once (GET /v2/health/ready -> 503) while traffic is
 * still served for SHUTDOWN_DELAY_MS (so load balancers stop routing here), then the listener
 * closes, in-flight requests finish, and the process exits 0. If that takes longer than
 * SHUTDOWN_GRACE_MS after the signal, remaining connections are dropped and it exits 1.
 */
import type { Server as GrpcServer } from "@grpc/grpc-js";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app";
import { keyRingOf } from "./auth";
import { bindGrpc, createGrpcServer, GRPC_EXTENSIONS } from "./grpc/server";
import { ConfigError, loadConfig, type ServiceConfig } from "./config";
import { createCore, type InferenceCore } from "./core/inference";
import { ModelLoadError, ModelStore } from "./model/store";
import { TrafficError, TrafficRouter } from "./model/traffic";

function fatal(message: string): never {
  process.stderr.write(JSON.stringify({ level: 60, time: Date.now(), msg: message }) + "\n");
  process.exit(1);
}

function installShutdown(app: FastifyInstance, grpc: GrpcServer, core: InferenceCore): void {
  const { config, readiness } = core;
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    readiness.ready = false;
    app.log.info(
      { signal, delayMs: config.SHUTDOWN_DELAY_MS, graceMs: config.SHUTDOWN_GRACE_MS },
      "shutting down",
    );
    const deadline = setTimeout(() => {
      app.log.error("shutdown grace period exceeded; dropping remaining connections");
      app.server.closeAllConnections();
      grpc.forceShutdown();
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    deadline.unref();
    setTimeout(() => {
      // gRPC: no new calls; calls in flight finish.
      const grpcClosed = new Promise<void>((resolve) => grpc.tryShutdown(() => resolve()));
      Promise.all([app.close(), grpcClosed]).then(
        () => {
          core.close();
          app.log.info("shutdown complete");
          process.exit(0);
        },
        (err: unknown) => {
          app.log.error({ err }, "error while closing");
          process.exit(1);
        },
      );
    }, config.SHUTDOWN_DELAY_MS);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

async function main(): Promise<void> {
  let config: ServiceConfig;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) fatal(e.message);
    throw e;
  }
  let store: ModelStore;
  try {
    store = ModelStore.loadFromDir(config.MODEL_DIR, {
      driftWindow: config.DRIFT_WINDOW,
      pins: config.MODEL_PINS,
    });
  } catch (e) {
    if (e instanceof ModelLoadError) fatal(`cannot load models: ${e.message}`);
    throw e;
  }
  let traffic: TrafficRouter;
  try {
    traffic = new TrafficRouter(store, config.MODEL_TRAFFIC, config.MODEL_SHADOW);
  } catch (e) {
    if (e instanceof TrafficError) fatal(e.message);
    throw e;
  }
  const core = createCore({ config, store, readiness: { ready: false }, traffic });
  const app = await buildApp({ core });
  core.watchKeys((line) => app.log.warn(line));
  const grpc = createGrpcServer(core, app.log, GRPC_EXTENSIONS);
  installShutdown(app, grpc, core);
  await app.listen({ port: config.PORT, host: config.HOST });
  const grpcPort = await bindGrpc(grpc, config.HOST, config.GRPC_PORT);
  app.log.info(`gRPC listening at ${config.HOST}:${grpcPort}`);
  core.readiness.ready = true;
  app.log.info(
    {
      models: store.all().map((m) => `${m.artifact.name}@${m.artifact.version}`),
      traffic: Object.fromEntries(
        [...config.MODEL_TRAFFIC].map(([name, w]) => [name, Object.fromEntries(w)]),
      ),
      shadow: Object.fromEntries(config.MODEL_SHADOW),
      modelDir: config.MODEL_DIR,
      auth: config.AUTH.mode,
      ...(config.AUTH.mode === "key" ? { keys: keyRingOf(core.auth)?.describe() } : {}),
      maxInFlight: config.MAX_IN_FLIGHT,
    },
    "ready",
  );
  if (config.AUTH.mode === "none") {
    app.log.warn("AUTH_MODE=none: anyone who reaches this service can score the models");
  }
}

main().catch((e: unknown) => fatal(`startup failed: ${(e as Error).stack ?? String(e)}`));
