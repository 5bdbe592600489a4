/**
 * Schema-driven fuzzing of the whole OpenAPI document with schemathesis (bounded examples, fixed
 * seed): no 5xx, status codes, content types and bodies as documented, schema-violating requests
 * refused, and every model's own infer/predict operation reaches 200 from its documented schema.
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../service/src/app";
import { ModelStore } from "../../service/src/model/store";
import { artifacts, type Loose, pythonEnv, run, tempDir, testConfig } from "./helpers";

let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  await pythonEnv(); // first run on a fresh machine: creates the venv (a few minutes)
  const { mpg, penguin } = artifacts();
  const store = ModelStore.fromArtifacts([mpg, penguin], { driftWindow: 50 });
  app = await buildApp({
    config: testConfig({ MAX_BATCH_ROWS: "1000", BODY_LIMIT_BYTES: "262144" }),
    store,
    logger: false,
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}, 900000);
afterAll(() => app?.close());

async function getJson(url: string): Promise<Loose> {
  const res = await fetch(url);
  return res.json();
}

it("each model's infer/predict operation lists its inputs: names, datatypes, categories, shapes", async () => {
  const doc = await getJson(`${base}/openapi.json`);
  const op = doc.paths["/v2/models/mpg-regressor/infer"].post;
  const schema = op.requestBody.content["application/json"].schema;
  expect(schema.properties.inputs.minItems).toBe(7);
  const tensors = schema.properties.inputs.items.oneOf;
  expect(tensors.map((t: Loose) => t.properties.name.enum[0])).toEqual([
    "Cylinders",
    "Displacement",
    "Horsepower",
    "Weight_in_lbs",
    "Acceleration",
    "Year",
    "Origin",
  ]);
  expect(tensors[0].properties.datatype.enum).toEqual(["FP64", "FP32", "INT64", "INT32"]);
  expect(tensors[6].properties.datatype.enum).toEqual(["BYTES"]);
  expect(tensors[6].properties.data.items.anyOf[0].enum).toEqual(["Europe", "Japan", "USA"]);
  expect(tensors[0].properties.shape).toMatchObject({ minItems: 1, maxItems: 2 });
  // The documented example is a valid request.
  const example = op.requestBody.content["application/json"].example;
  const res = await fetch(`${base}/v2/models/mpg-regressor/infer`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(example),
  });
  expect(res.status).toBe(200);
  const v1 =
    doc.paths["/v1/models/penguin-classifier:predict"].post.requestBody.content["application/json"];
  expect(v1.schema.properties.instances.items.oneOf[0].required).toEqual([
    "Beak_Length_mm",
    "Beak_Depth_mm",
    "Flipper_Length_mm",
    "Body_Mass_g",
    "Island",
    "Sex",
  ]);
  expect(v1.schema.properties.instances.items.oneOf[0].properties.Sex.enum).toEqual([
    "FEMALE",
    "MALE",
  ]);
});

it("schemathesis: no 5xx, documented statuses and bodies, invalid requests refused, 200s reached", async () => {
  const py = await pythonEnv();
  const dir = tempDir("svc-fuzz-");
  const har = path.join(dir, "run.har");
  const r = await run(
    path.join(path.dirname(py), "schemathesis"),
    [
      "run",
      `${base}/openapi.json`,
      "--checks",
      [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
      ].join(","),
      "--phases",
      "examples,coverage,fuzzing",
      "--max-examples",
      "20",
      "--seed",
      "14",
      "--report",
      "har",
      "--report-har-path",
      har,
    ],
    // In a temp dir: schemathesis keeps its example database (.schemathesis/) in the cwd.
    {
      cwd: dir,
      timeoutMs: 600000,
      env: { ...process.env, NO_COLOR: "1", SCHEMATHESIS_TELEMETRY: "false" },
    },
  );
  expect({ code: r.code, out: r.code === 0 ? "" : r.stdout + r.stderr }).toEqual({
    code: 0,
    out: "",
  });
  const entries: Loose[] = JSON.parse(readFileSync(har, "utf8")).log.entries;
  const statuses = new Map<string, Set<number>>();
  for (const e of entries) {
    const key = `${e.request.method} ${new URL(e.request.url).pathname}`;
    if (!statuses.has(key)) statuses.set(key, new Set());
    statuses.get(key)!.add(e.response.status);
  }
  expect(entries.length).toBeGreaterThan(500);
  for (const op of [
    "POST /v2/models/mpg-regressor/infer",
    "POST /v2/models/penguin-classifier/infer",
    "POST /v2/models/mpg-regressor/versions/1/infer",
    "POST /v2/models/penguin-classifier/versions/1/infer",
    "POST /v1/models/mpg-regressor:predict",
    "POST /v1/models/penguin-classifier:predict",
  ]) {
    const seen = [...(statuses.get(op) ?? [])];
    expect([op, seen.includes(200)]).toEqual([op, true]);
    expect([op, seen.some((s) => s >= 400 && s < 500)]).toEqual([op, true]);
  }
  const all = [...statuses.values()].flatMap((s) => [...s]);
  expect(all.filter((s) => s >= 500)).toEqual([]);
}, 600000);
