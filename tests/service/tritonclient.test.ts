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
  type Loose,
  MPG_ROW,
  PENGUIN_ROW,
  pythonEnv,
  runPythonJson,
  testConfig,
} from "./helpers";

let app: FastifyInstance;
let store: ModelStore;
let result: Loose;

beforeAll(async () => {
  await pythonEnv(); // first run on a fresh machine: creates the venv (a few minutes)
  const { mpg, penguin } = artifacts();
  store = ModelStore.fromArtifacts([mpg, penguin], { driftWindow: 50 });
  app = await buildApp({ config: testConfig(), store, logger: false });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  result = await runPythonJson("triton_http.py", [`127.0.0.1:${port}`]);
}, 900000);
afterAll(() => app?.close());

/** The service's own answer for the rows the script sends. */
function expected() {
  const mpgRows = [
    MPG_ROW,
    {
      ...MPG_ROW,
      Cylinders: 8,
      Displacement: 350,
      Horsepower: 190,
      Weight_in_lbs: 4300,
      Acceleration: 11,
      Year: 1970,
      Origin: "USA",
    },
  ];
  const penguinRows = [
    PENGUIN_ROW,
    {
      Beak_Length_mm: 47.5,
      Beak_Depth_mm: 14.2,
      Flipper_Length_mm: 215,
      Body_Mass_g: 5400,
      Island: "Biscoe",
      Sex: "MALE",
    },
  ];
  const columns = (rows: Record<string, number | string>[]) =>
    Object.keys(rows[0]).map((k) => rows.map((r) => r[k])) as number[][];
  const m = store.get("mpg-regressor")!.predictor.predict({ rows: 2, columns: columns(mpgRows) });
  const p = store
    .get("penguin-classifier")!
    .predictor.predict({ rows: 2, columns: columns(penguinRows) });
  if (m.kind !== "regression" || p.kind !== "classification") throw new Error("model kinds");
  return { mpg: m.values, labels: p.labels, probabilities: p.probabilities.flat() };
}

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
    const want = expected();
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
    const want = expected().mpg;
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
