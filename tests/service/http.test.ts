import type { FastifyInstance } from "fastify";
import { buildApp } from "../../service/src/app";
import { ModelStore } from "../../service/src/model/store";
import type { Readiness } from "../../service/src/core/inference";
import {
  artifacts,
  localClient,
  testConfig,
  type HttpReply,
  type HttpRequest,
  type Loose,
  MPG_ROW,
  PENGUIN_ROW,
  Row,
} from "./helpers";

/** v2 request body: one tensor per feature. */
function v2Body(rows: Row[], extra: Record<string, unknown> = {}) {
  const names = Object.keys(rows[0]);
  return {
    ...extra,
    inputs: names.map((name) => ({
      name,
      shape: [rows.length],
      datatype: typeof rows[0][name] === "string" ? "BYTES" : "FP64",
      data: rows.map((r) => r[name]),
    })),
  };
}

let app: FastifyInstance;
let call: (req: HttpRequest | string) => Promise<HttpReply>;
const readiness: Readiness = { ready: true };

beforeAll(async () => {
  const { mpg, penguin } = artifacts();
  const store = ModelStore.fromArtifacts([mpg, penguin, { ...mpg, version: "2" }], {
    driftWindow: 50,
    pins: new Map([["mpg-regressor", "1"]]),
  });
  app = await buildApp({
    config: testConfig({ MAX_BATCH_ROWS: "1000", BODY_LIMIT_BYTES: "65536" }),
    store,
    readiness,
    logger: false,
  });
  call = await localClient(app);
});
afterAll(() => app.close());

async function infer(url: string, body: unknown) {
  const res = await call({ method: "POST", url, payload: body });
  return {
    status: res.statusCode,
    body: res.json() as Record<string, Loose>,
    headers: res.headers,
  };
}

describe("Open Inference Protocol v2", () => {
  it("GET /v2 describes the server", async () => {
    const res = await call("/v2");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      name: "mlops-platform-inference",
      version: "0.1.0",
      extensions: ["binary_tensor_data", "model_configuration", "statistics"],
    });
  });

  it("health: live, and ready follows the readiness flag (503 when not ready)", async () => {
    expect((await call("/v2/health/live")).json()).toEqual({ live: true });
    expect((await call("/v2/health/ready")).statusCode).toBe(200);
    readiness.ready = false;
    try {
      const res = await call("/v2/health/ready");
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ ready: false });
      expect(res.headers.connection).toBe("close");
    } finally {
      readiness.ready = true;
    }
  });

  it("model metadata lists exactly the feature inputs and the outputs", async () => {
    const res = await call("/v2/models/penguin-classifier");
    expect(res.statusCode).toBe(200);
    const m = res.json();
    expect(m.name).toBe("penguin-classifier");
    expect(m.versions).toEqual(["1"]);
    expect(m.inputs.map((i: { name: string; datatype: string }) => [i.name, i.datatype])).toEqual([
      ["Beak_Length_mm", "FP64"],
      ["Beak_Depth_mm", "FP64"],
      ["Flipper_Length_mm", "FP64"],
      ["Body_Mass_g", "FP64"],
      ["Island", "BYTES"],
      ["Sex", "BYTES"],
    ]);
    expect(m.inputs[4].parameters.categories).toEqual(["Biscoe", "Dream", "Torgersen"]);
    expect(m.outputs).toEqual([
      {
        name: "predict",
        datatype: "BYTES",
        shape: [-1],
        parameters: { content_type: "str", target: "Species" },
      },
      {
        name: "probabilities",
        datatype: "FP64",
        shape: [-1, 3],
        parameters: { class_names: ["Adelie", "Chinstrap", "Gentoo"] },
      },
    ]);
    const mpg = (await call("/v2/models/mpg-regressor")).json();
    expect(
      mpg.outputs.map((o: { name: string; datatype: string }) => [o.name, o.datatype]),
    ).toEqual([["predict", "FP64"]]);
    expect(mpg.versions).toEqual(["1", "2"]);
    expect(mpg.parameters.version).toBe("1"); // pinned default, although 2 is higher
  });

  it("versioned metadata and readiness", async () => {
    expect((await call("/v2/models/mpg-regressor/versions/2")).json().parameters.version).toBe("2");
    expect((await call("/v2/models/mpg-regressor/ready")).json()).toEqual({
      name: "mpg-regressor",
      ready: true,
    });
    expect((await call("/v2/models/mpg-regressor/versions/2/ready")).json()).toEqual({
      name: "mpg-regressor",
      ready: true,
    });
  });

  it("regression infer: a batch, id echoed, values equal the in-process predictor", async () => {
    const rows = [
      MPG_ROW,
      { ...MPG_ROW, Cylinders: 8, Weight_in_lbs: 4300, Horsepower: 190, Year: 1970, Origin: "USA" },
    ];
    const r = await infer("/v2/models/mpg-regressor/infer", v2Body(rows, { id: "req-1" }));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ model_name: "mpg-regressor", model_version: "1", id: "req-1" });
    expect(r.body.outputs).toHaveLength(1);
    const out = r.body.outputs[0];
    expect(out).toMatchObject({ name: "predict", datatype: "FP64", shape: [2] });
    const expected = ModelStore.fromArtifacts([artifacts().mpg], { driftWindow: 10 })
      .get("mpg-regressor")!
      .predictor.predict({
        rows: 2,
        columns: Object.keys(MPG_ROW).map((k) => rows.map((row) => (row as Row)[k])) as number[][],
      });
    expect(out.data).toEqual(expected.kind === "regression" ? expected.values : []);
    expect(out.data[0]).toBeGreaterThan(out.data[1]);
  });

  it("classification infer: label + probabilities [N, C] summing to 1 per row", async () => {
    const gentoo = {
      Beak_Length_mm: 47.5,
      Beak_Depth_mm: 14.2,
      Flipper_Length_mm: 215,
      Body_Mass_g: 5400,
      Island: "Biscoe",
      Sex: "MALE",
    };
    const r = await infer(
      "/v2/models/penguin-classifier/versions/1/infer",
      v2Body([PENGUIN_ROW, gentoo]),
    );
    expect(r.status).toBe(200);
    const [predict, probs] = r.body.outputs;
    expect(predict).toMatchObject({
      name: "predict",
      datatype: "BYTES",
      shape: [2],
      data: ["Adelie", "Gentoo"],
    });
    expect(probs).toMatchObject({ name: "probabilities", datatype: "FP64", shape: [2, 3] });
    expect(probs.parameters.class_names).toEqual(["Adelie", "Chinstrap", "Gentoo"]);
    expect(probs.data).toHaveLength(6);
    expect(probs.data[0] + probs.data[1] + probs.data[2]).toBeCloseTo(1, 12);
    expect(probs.data[3] + probs.data[4] + probs.data[5]).toBeCloseTo(1, 12);
  });

  it("accepts [N, 1] shapes with nested data and integer datatypes", async () => {
    const body = v2Body([MPG_ROW, MPG_ROW]);
    body.inputs[0] = {
      name: "Cylinders",
      shape: [2, 1],
      datatype: "INT32",
      data: [[4], [4]] as unknown as number[],
    };
    const r = await infer("/v2/models/mpg-regressor/infer", body);
    expect(r.status).toBe(200);
    expect(r.body.outputs[0].data[0]).toBe(r.body.outputs[0].data[1]);
  });

  it("honours requested outputs", async () => {
    const r = await infer("/v2/models/penguin-classifier/infer", {
      ...v2Body([PENGUIN_ROW]),
      outputs: [{ name: "probabilities" }],
    });
    expect(r.status).toBe(200);
    expect(r.body.outputs.map((o: { name: string }) => o.name)).toEqual(["probabilities"]);
  });
});

describe("KServe v1", () => {
  it("lists models and reports readiness", async () => {
    expect((await call("/v1/models")).json()).toEqual({
      models: ["mpg-regressor", "penguin-classifier"],
    });
    expect((await call("/v1/models/penguin-classifier")).json()).toEqual({
      name: "penguin-classifier",
      ready: true,
    });
    expect((await call("/v1/models/nope")).statusCode).toBe(404);
  });

  it(":predict returns a number per regression instance, objects or arrays accepted", async () => {
    const r = await infer("/v1/models/mpg-regressor:predict", {
      instances: [MPG_ROW, Object.values(MPG_ROW)],
    });
    expect(r.status).toBe(200);
    expect(r.body.predictions).toHaveLength(2);
    expect(r.body.predictions[0]).toBe(r.body.predictions[1]);
    const v2 = await infer("/v2/models/mpg-regressor/infer", v2Body([MPG_ROW]));
    expect(r.body.predictions[0]).toBe(v2.body.outputs[0].data[0]);
  });

  it(":predict returns label and class probabilities for the classifier", async () => {
    const r = await infer("/v1/models/penguin-classifier:predict", { instances: [PENGUIN_ROW] });
    expect(r.status).toBe(200);
    const [p] = r.body.predictions;
    expect(p.label).toBe("Adelie");
    expect(Object.keys(p.probabilities)).toEqual(["Adelie", "Chinstrap", "Gentoo"]);
    expect(
      Object.values(p.probabilities as Record<string, number>).reduce((a, b) => a + b),
    ).toBeCloseTo(1, 12);
  });
});

describe("bad input never yields a 5xx", () => {
  const url = "/v2/models/mpg-regressor/infer";
  const withInput = (name: string, patch: Record<string, unknown>) => {
    const body = v2Body([MPG_ROW, MPG_ROW, MPG_ROW, MPG_ROW]);
    const i = body.inputs.findIndex((t) => t.name === name);
    body.inputs[i] = { ...body.inputs[i], ...patch } as (typeof body.inputs)[number];
    return body;
  };

  const cases: [string, unknown, number, string][] = [
    [
      "a string where a number is due",
      withInput("Horsepower", { data: [88, 88, 88, "abc"] }),
      400,
      `input 'Horsepower': expected a number at row 3, got "abc"`,
    ],
    [
      'the string "NaN"',
      withInput("Horsepower", { data: [88, "NaN", 88, 88] }),
      400,
      `input 'Horsepower': expected a number at row 1, got "NaN"`,
    ],
    [
      'the string "Infinity"',
      withInput("Weight_in_lbs", { data: [1, 2, 3, "Infinity"] }),
      400,
      `input 'Weight_in_lbs': expected a number at row 3`,
    ],
    [
      "null where a number is due",
      withInput("Year", { data: [1980, null, 1980, 1980] }),
      400,
      `input 'Year': expected a number at row 1, got null`,
    ],
    [
      "a fraction in an INT64 tensor",
      withInput("Year", { datatype: "INT64", data: [1980, 1980.5, 1980, 1980] }),
      400,
      "input 'Year': expected an integer at row 1, got 1980.5",
    ],
    [
      "an unknown category",
      withInput("Origin", { data: ["Japan", "Mars", "USA", "USA"] }),
      400,
      `input 'Origin': unknown category; expected one of Europe, Japan, USA at row 1, got "Mars"`,
    ],
    [
      "a number where a category is due",
      withInput("Origin", { data: ["Japan", 3, "USA", "USA"] }),
      400,
      "input 'Origin': expected a string",
    ],
    [
      "a wrong datatype for a number",
      withInput("Horsepower", { datatype: "BYTES" }),
      400,
      "input 'Horsepower': datatype must be one of FP64, FP32, INT64, INT32 for a number, got \"BYTES\"",
    ],
    [
      "a wrong datatype for a category",
      withInput("Origin", { datatype: "FP64" }),
      400,
      "input 'Origin': datatype must be BYTES for a category",
    ],
    [
      "shape vs data length",
      withInput("Acceleration", { shape: [5] }),
      400,
      "input 'Acceleration': shape [5] needs 5 values, but data has 4",
    ],
    [
      "row counts differing between tensors",
      withInput("Acceleration", { shape: [3], data: [1, 2, 3] }),
      400,
      "input 'Acceleration' has 3 rows but input 'Cylinders' has 4",
    ],
    [
      "a 2-D shape that is not [N, 1]",
      withInput("Cylinders", { shape: [2, 2] }),
      400,
      "input 'Cylinders': shape must be [N] or [N, 1], got [2,2]",
    ],
    [
      "a negative shape",
      withInput("Cylinders", { shape: [-4] }),
      400,
      "body/inputs/0/shape/0 must be >= 0",
    ],
    [
      "an empty batch",
      { inputs: v2Body([MPG_ROW]).inputs.map((t) => ({ ...t, shape: [0], data: [] })) },
      400,
      "empty batch",
    ],
    [
      "an oversized batch",
      v2Body(Array.from({ length: 1001 }, () => MPG_ROW)),
      400,
      "batch too large: 1001 rows, at most 1000 (MAX_BATCH_ROWS)",
    ],
    [
      "a missing feature",
      { inputs: v2Body([MPG_ROW]).inputs.filter((t) => t.name !== "Weight_in_lbs") },
      400,
      "missing input 'Weight_in_lbs'",
    ],
    [
      "an unknown feature",
      {
        inputs: [
          ...v2Body([MPG_ROW]).inputs,
          { name: "Colour", shape: [1], datatype: "BYTES", data: ["red"] },
        ],
      },
      400,
      `unknown input "Colour"; mpg-regressor expects inputs Cylinders`,
    ],
    [
      "a duplicated input",
      { inputs: [...v2Body([MPG_ROW]).inputs, v2Body([MPG_ROW]).inputs[0]] },
      400,
      "input 'Cylinders' is given more than once",
    ],
    ["no inputs", { inputs: [] }, 400, "body/inputs must NOT have fewer than 1 items"],
    ["inputs missing", { id: "x" }, 400, "body must have required property 'inputs'"],
    [
      "a tensor without data",
      { inputs: [{ name: "Cylinders", shape: [1], datatype: "FP64" }] },
      400,
      "body/inputs/0 must have required property 'data'",
    ],
    [
      "an unknown requested output",
      { ...v2Body([MPG_ROW]), outputs: [{ name: "probabilities" }] },
      400,
      "unknown output 'probabilities'; mpg-regressor has outputs predict",
    ],
    ["a non-object body", [1, 2, 3], 400, "body must be object"],
  ];
  it.each(cases)("v2: %s -> %d naming the field", async (_label, body, status, message) => {
    const r = await infer(url, body);
    expect(r.status).toBe(status);
    expect(r.body.error).toContain(message);
  });

  const v1Cases: [string, unknown, string][] = [
    [
      "a string where a number is due",
      { instances: [MPG_ROW, { ...MPG_ROW, Horsepower: "abc" }] },
      `instance 1, feature 'Horsepower': expected a number, got "abc"`,
    ],
    [
      "a missing feature",
      { instances: [{ ...MPG_ROW, Year: undefined }] },
      "instance 0: missing feature 'Year'",
    ],
    [
      "an unknown feature",
      { instances: [{ ...MPG_ROW, Colour: "red" }] },
      `instance 0: unknown feature "Colour"`,
    ],
    ["an array of the wrong length", { instances: [[1, 2, 3]] }, "instance 0: expected 7 values"],
    [
      "an unknown category",
      { instances: [{ ...MPG_ROW, Origin: "Atlantis" }] },
      `instance 0, feature 'Origin': unknown category; expected one of Europe, Japan, USA, got "Atlantis"`,
    ],
    [
      "a scalar instance",
      { instances: [5] },
      "instance 0: expected an object of features or an array of values, got 5",
    ],
    ["no instances", { instances: [] }, "empty batch"],
    ["instances missing", { inputs: [] }, "body must have required property 'instances'"],
  ];
  it.each(v1Cases)("v1: %s -> 400 naming the field", async (_label, body, message) => {
    const r = await infer("/v1/models/mpg-regressor:predict", body);
    expect(r.status).toBe(400);
    expect(r.body.error).toContain(message);
  });

  it("unknown model or version -> 404", async () => {
    for (const [method, u] of [
      ["POST", "/v2/models/nope/infer"],
      ["GET", "/v2/models/nope"],
      ["GET", "/v2/models/nope/ready"],
      ["POST", "/v2/models/mpg-regressor/versions/9/infer"],
      ["GET", "/v2/models/mpg-regressor/versions/9"],
      ["POST", "/v1/models/nope:predict"],
      ["POST", "/v1/models/mpg-regressor:explain"],
      ["GET", "/v3/whatever"],
    ] as const) {
      const body = u.startsWith("/v1") ? { instances: [MPG_ROW] } : v2Body([MPG_ROW]);
      const res = await call({ method, url: u, payload: method === "POST" ? body : undefined });
      expect([u, res.statusCode]).toEqual([u, 404]);
      expect(typeof res.json().error).toBe("string");
    }
    const r = await infer("/v2/models/mpg-regressor/versions/9/infer", v2Body([MPG_ROW]));
    expect(r.body.error).toBe("model 'mpg-regressor' has no version '9'; available: 1, 2");
  });

  it("malformed JSON -> 400", async () => {
    const res = await call({
      method: "POST",
      url,
      headers: { "content-type": "application/json" },
      payload: '{"inputs": [',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/not valid JSON/);
  });

  it("wrong content type -> 415", async () => {
    const res = await call({
      method: "POST",
      url,
      headers: { "content-type": "text/csv" },
      payload: "a,b\n1,2",
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toMatch(
      /^unsupported Content-Type "text\/csv"; send application\/json/,
    );
  });

  it("body over BODY_LIMIT_BYTES -> 413", async () => {
    const big = JSON.stringify({
      inputs: [
        {
          name: "Cylinders",
          shape: [20000],
          datatype: "FP64",
          data: new Array(20000).fill(1234.5),
        },
      ],
    });
    expect(big.length).toBeGreaterThan(65536);
    const res = await call({
      method: "POST",
      url,
      headers: { "content-type": "application/json" },
      payload: big,
    });
    expect(res.statusCode).toBe(413);
    expect(typeof res.json().error).toBe("string");
  });

  it("prototype pollution attempts are refused with 400", async () => {
    const res = await call({
      method: "POST",
      url,
      headers: { "content-type": "application/json" },
      payload: '{"__proto__": {"x": 1}, "inputs": []}',
    });
    expect(res.statusCode).toBe(400);
  });
});

describe("request ids, metrics, docs", () => {
  it("echoes a well-formed x-request-id and mints one otherwise", async () => {
    const a = await call({ url: "/v2/health/live", headers: { "x-request-id": "abc-123" } });
    expect(a.headers["x-request-id"]).toBe("abc-123");
    const b = await call({
      url: "/v2/health/live",
      headers: { "x-request-id": "bad id with spaces" },
    });
    expect(b.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const c = await call("/v2/health/live");
    expect(c.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("/metrics exposes request counts by route pattern, predictions and drift PSI", async () => {
    // A whole drift window (driftWindow: 50) of the same Torgersen male.
    await infer("/v2/models/penguin-classifier/infer", v2Body(new Array(50).fill(PENGUIN_ROW)));
    await infer("/v2/models/some-unknown-model/infer", v2Body([PENGUIN_ROW]));
    const res = await call("/metrics");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    const text = res.body;
    expect(text).toMatch(
      /inference_http_requests_total\{method="POST",route="\/v2\/models\/:name\/infer",status="200",model="penguin-classifier",version="1"\} \d+/,
    );
    // An unknown model name must not become a label value.
    expect(text).not.toContain("some-unknown-model");
    expect(text).toMatch(
      /inference_http_request_duration_seconds_bucket\{le="0.005",method="POST",route="\/v2\/models\/:name\/infer"/,
    );
    const predicted =
      /inference_predictions_total\{model="penguin-classifier",version="1"\} (\d+)/.exec(text);
    expect(Number(predicted?.[1])).toBeGreaterThanOrEqual(50);
    // The window holds only Torgersen: PSI = Σ (a − r)·ln(a / r) over the islands, with a = 1 for
    // Torgersen and 1e-4 (the floor of an empty bin) for the others, r the training proportions.
    const island =
      /inference_feature_drift_psi\{model="penguin-classifier",version="1",feature="Island"\} ([\d.e+-]+)/.exec(
        text,
      );
    const reference = artifacts().penguin.drift.Island;
    if (reference.type !== "category") throw new Error("Island drift is not categorical");
    expect(reference.categories).toContain("Torgersen");
    const expected = reference.categories.reduce((sum, category, i) => {
      const a = category === "Torgersen" ? 1 : 1e-4;
      const r = reference.proportions[i];
      return sum + (a - r) * Math.log(a / r);
    }, 0);
    expect(Number(island?.[1])).toBeCloseTo(expected, 12);
    expect(text).toMatch(
      /inference_model_info\{model="mpg-regressor",version="1",kind="regression",default="true"\} 1/,
    );
    expect(text).toMatch(
      /inference_model_info\{model="mpg-regressor",version="2",kind="regression",default="false"\} 1/,
    );
    expect(text).toContain("inference_ready 1");
  });

  it("serves an OpenAPI document covering the routes, and the docs UI", async () => {
    const res = await call("/openapi.json");
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of [
      "/v2",
      "/v2/health/ready",
      "/v2/models/{name}/infer",
      "/v2/models/{name}/versions/{version}/infer",
      "/v1/models/{target}",
      "/metrics",
    ]) {
      expect(Object.keys(doc.paths)).toContain(p);
    }
    expect(
      doc.paths["/v2/models/{name}/infer"].post.requestBody.content["application/json"].schema
        .required,
    ).toEqual(["inputs"]);
    const ui = await call("/docs/");
    expect(ui.statusCode).toBe(200);
    expect(ui.headers["content-type"]).toMatch(/text\/html/);
  });
});
