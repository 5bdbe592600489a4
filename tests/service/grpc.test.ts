/**
 * OIP v2 gRPC with the ecosystem's own client, unmodified: tritonclient.grpc against the gRPC port
 * (plain, gzip and deflate), plus the same metrics and statistics as REST.
 */
import type { Server } from "@grpc/grpc-js";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../service/src/app";
import { createCore, type InferenceCore } from "../../service/src/core/inference";
import { bindGrpc, createGrpcServer, GRPC_EXTENSIONS } from "../../service/src/grpc/server";
import { ModelStore } from "../../service/src/model/store";
import {
  artifacts,
  keysDir,
  type Loose,
  pythonEnv,
  runPythonJson,
  testConfig,
  tritonExpected,
} from "./helpers";

let core: InferenceCore;
let app: FastifyInstance;
let grpc: Server;
let store: ModelStore;
let result: Loose;
let keys: ReturnType<typeof keysDir>;
let httpPort: number;

beforeAll(async () => {
  await pythonEnv(); // first run on a fresh machine: creates the venv (a few minutes)
  const { mpg, penguin } = artifacts();
  store = ModelStore.fromArtifacts([mpg, penguin], { driftWindow: 50 });
  // Key authentication on, as every stack deploys it: the client sends the key through
  // tritonclient's plugin hook (the script's INFERENCE_KEY), the library itself unmodified.
  keys = keysDir();
  core = createCore({ config: testConfig({ AUTH_MODE: "key", AUTH_KEYS_DIR: keys.dir }), store });
  app = await buildApp({ core, logger: false });
  await app.listen({ port: 0, host: "127.0.0.1" });
  httpPort = (app.server.address() as AddressInfo).port;
  grpc = createGrpcServer(core, app.log, GRPC_EXTENSIONS);
  const port = await bindGrpc(grpc, "127.0.0.1", 0);
  result = await runPythonJson("triton_grpc.py", [`127.0.0.1:${port}`], {
    INFERENCE_KEY: keys.secondary,
  });
}, 900000);
afterAll(async () => {
  grpc?.forceShutdown();
  await app?.close();
  core?.close();
});

describe("tritonclient.grpc 2.73, unmodified", () => {
  it("health, server and model metadata", () => {
    expect(result).toMatchObject({
      live: true,
      ready: true,
      model_ready: true,
      model_ready_v1: true,
    });
    expect(result.server_metadata).toEqual({
      name: "mlops-platform-inference",
      version: "0.1.0",
      extensions: ["statistics"],
    });
    expect(result.model_metadata.inputs.map((i: Loose) => [i.name, i.datatype])).toEqual([
      ["Beak_Length_mm", "FP64"],
      ["Beak_Depth_mm", "FP64"],
      ["Flipper_Length_mm", "FP64"],
      ["Body_Mass_g", "FP64"],
      ["Island", "BYTES"],
      ["Sex", "BYTES"],
    ]);
    expect(result.model_metadata.outputs[1]).toEqual({
      name: "probabilities",
      datatype: "FP64",
      shape: ["-1", "3"],
    });
  });

  it("infer (raw_input_contents in, raw_output_contents out), plain, gzip and deflate", () => {
    const want = tritonExpected(store);
    expect(Object.keys(result.infer)).toEqual(["None", "gzip", "deflate"]);
    for (const r of Object.values(result.infer) as Loose[]) {
      expect(r.mpg).toEqual(want.mpg);
      expect(r.mpg_version).toBe("1");
      expect(r.penguin_labels).toEqual(["Adelie", "Gentoo"]);
      expect(r.penguin_probabilities).toEqual(want.probabilities);
      expect(r.penguin_probabilities_shape).toEqual([2, 3]);
      expect(r.penguin_id).toBe("req-7");
    }
  });

  it("errors are status codes with the same messages as REST", () => {
    expect(result.errors.unknown_category).toEqual({
      status: "StatusCode.INVALID_ARGUMENT",
      message:
        "input 'Origin': unknown category; expected one of Europe, Japan, USA at row 1, got \"Mars\"",
    });
    expect(result.errors.unknown_model.status).toBe("StatusCode.NOT_FOUND");
    expect(result.errors.overflow.status).toBe("StatusCode.INVALID_ARGUMENT");
    expect(result.errors.overflow.message).toMatch(
      /^input 'Year' at row 0: value 1\.7e\+308 is too large/,
    );
  });

  it("statistics (ModelStatistics) and the repository index (RepositoryIndex) as the client reads them; ModelConfig is not offered", () => {
    const s = result.statistics.model_stats[0];
    expect(s).toMatchObject({ name: "mpg-regressor", version: "1" });
    // 3 successful ModelInfer calls of 2 rows each; the unknown category and the overflow fail.
    expect(s.execution_count).toBe("3");
    expect(s.inference_count).toBe("6");
    expect(s.inference_stats.fail.count).toBe("2");
    expect(Number(s.inference_stats.success.ns)).toBeGreaterThan(0);
    expect(Number(s.last_inference)).toBeGreaterThan(Date.now() - 600000);
    expect(
      result.statistics_all.model_stats.map((m: Loose) => `${m.name}@${m.version}`).sort(),
    ).toEqual(["mpg-regressor@1", "penguin-classifier@1"]);
    expect(result.repository_index.models).toEqual([
      { name: "mpg-regressor", version: "1", state: "READY" },
      { name: "penguin-classifier", version: "1", state: "READY" },
    ]);
    expect(result.model_config).toBe("StatusCode.UNIMPLEMENTED");
  });

  it("metrics and statistics count gRPC calls like REST ones", async () => {
    const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
    expect(text).toMatch(
      /inference_grpc_requests_total\{method="ModelInfer",code="OK",model="mpg-regressor",version="1"\} 3/,
    );
    expect(text).toMatch(
      /inference_grpc_requests_total\{method="ModelInfer",code="INVALID_ARGUMENT",model="mpg-regressor",version="1"\} 2/,
    );
    expect(text).toMatch(/inference_predictions_total\{model="penguin-classifier",version="1"\} 6/);
    const stats = store.get("mpg-regressor")!.stats;
    expect(stats.executionCount).toBe(3);
    expect(stats.fail.count).toBe(2);
  });
});
