/**
 * The ecosystem's own client, unmodified: tritonclient.http (JSON and binary tensor modes, with
 * and without compression) against the service over a real socket.
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../service/src/app";
import { ModelStore } from "../../service/src/model/store";
import {
  artifacts,
  keysDir,
  type Loose,
  PENGUIN_ROW,
  pythonEnv,
  runPythonJson,
  testConfig,
  tritonExpected,
} from "./helpers";

let app: FastifyInstance;
let store: ModelStore;
let result: Loose;
let keys: ReturnType<typeof keysDir>;

beforeAll(async () => {
  await pythonEnv(); // first run on a fresh machine: creates the venv (a few minutes)
  const { mpg, penguin } = artifacts();
  store = ModelStore.fromArtifacts([mpg, penguin], { driftWindow: 50 });
  // Key authentication on, as every stack deploys it: the client sends the key through
  // tritonclient's plugin hook (the script's INFERENCE_KEY), the library itself unmodified.
  keys = keysDir();
  app = await buildApp({
    config: testConfig({ AUTH_MODE: "key", AUTH_KEYS_DIR: keys.dir }),
    store,
    logger: false,
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  result = await runPythonJson("triton_http.py", [`127.0.0.1:${port}`], {
    INFERENCE_KEY: keys.secondary,
  });
}, 900000);
afterAll(() => app?.close());

/** The service's own answer for the rows the script sends. */
describe("tritonclient.http 2.73, unmodified", () => {
  it("health, server and model metadata, model config, repository index", () => {
    expect(result.live).toBe(true);
    expect(result.ready).toBe(true);
    expect(result.model_ready).toBe(true);
    expect(result.server_metadata.extensions).toEqual([
      "binary_tensor_data",
      "model_configuration",
      "statistics",
    ]);
    expect(result.model_metadata.inputs.map((i: Loose) => i.name)).toEqual(
      Object.keys(PENGUIN_ROW),
    );
    expect(result.model_config.input).toHaveLength(7);
    expect(result.repository_index).toEqual([
      { name: "mpg-regressor", version: "1", state: "READY", reason: "" },
      { name: "penguin-classifier", version: "1", state: "READY", reason: "" },
    ]);
  });

  it("infer in JSON and binary modes, plain, gzip and deflate: the service's own answers", () => {
    const want = tritonExpected(store);
    const keys = Object.keys(result.infer);
    expect(keys).toHaveLength(6);
    for (const key of keys) {
      const r = result.infer[key];
      expect([key, r.mpg_version]).toEqual([key, "1"]);
      expect(r.mpg).toEqual(want.mpg);
      expect(r.penguin_labels).toEqual(want.labels);
      expect(r.penguin_labels).toEqual(["Adelie", "Gentoo"]);
      expect(r.penguin_probabilities).toEqual(want.probabilities);
      expect(r.penguin_probabilities_shape).toEqual([2, 3]);
    }
  });

  it("INT64 and FP32 binary inputs", () => {
    const want = tritonExpected(store).mpg;
    // FP32 97.0 and 350.0 are exact, so the answers are the same.
    expect(result.infer_int64_fp32).toEqual(want);
  });

  it("errors reach the client as messages naming the field", () => {
    expect(result.errors.unknown_category).toBe(
      "input 'Origin': unknown category; expected one of Europe, Japan, USA at row 1, got \"Mars\"",
    );
    expect(result.errors.unknown_model).toMatch(/^model 'no-such-model' not found/);
  });

  it("inference statistics as the client reads them", () => {
    const s = result.statistics.model_stats[0];
    expect(s.name).toBe("mpg-regressor");
    // 6 infer runs + the INT64/FP32 one succeed, the unknown category fails.
    expect(s.execution_count).toBe(7);
    expect(s.inference_count).toBe(14);
    expect(s.inference_stats.fail.count).toBe(1);
  });
});
