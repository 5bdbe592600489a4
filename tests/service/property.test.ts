/**
 * Property-based: random values (finite, extreme, non-finite, wrong types, unknown categories) and
 * random request shapes, through REST (v2, v1) and gRPC. Never a 5xx (gRPC: never INTERNAL or
 * UNKNOWN); a 200 carries only finite numbers; otherwise the error names a field, and the right
 * one: a feature whose value was invalid, or (422) a numeric feature whose term overflowed.
 */
import * as grpc from "@grpc/grpc-js";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import fc from "fast-check";
import { buildApp } from "../../service/src/app";
import { createCore } from "../../service/src/core/inference";
import { bindGrpc, createGrpcServer, inferenceService } from "../../service/src/grpc/server";
import type { ModelArtifact } from "../../service/src/model/artifact";
import { ModelStore } from "../../service/src/model/store";
import { artifacts, type Loose, testConfig } from "./helpers";

let app: FastifyInstance;
let server: grpc.Server;
let client: Loose;
let base: string;
let models: ModelArtifact[];

beforeAll(async () => {
  const { mpg, penguin } = artifacts();
  models = [mpg, penguin];
  const store = ModelStore.fromArtifacts(models, { driftWindow: 50 });
  const core = createCore({ config: testConfig({ MAX_BATCH_ROWS: "50" }), store });
  app = await buildApp({ core, logger: false });
  await app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  server = createGrpcServer(core, app.log, []);
  const port = await bindGrpc(server, "127.0.0.1", 0);
  const Client = grpc.makeGenericClientConstructor(inferenceService(), "GRPCInferenceService");
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});
afterAll(async () => {
  client?.close();
  server?.forceShutdown();
  await app?.close();
});

/** Magnitudes whose weighted sums overflow a double when two of them push the same way. */
const HUGE = [1.7e308, -1.7e308, Number.MAX_VALUE, -Number.MAX_VALUE];
const EXTREMES = [
  1.7e308,
  -1.7e308,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  5e-324,
  -0,
  1e300,
  -1e300,
];

/** A value for a numeric feature: mostly numbers (many extreme), sometimes not a number at all. */
const numberValue = fc.oneof(
  { weight: 4, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 3, arbitrary: fc.constantFrom(...EXTREMES) },
  { weight: 2, arbitrary: fc.integer({ min: -100000, max: 100000 }) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constant(null),
      fc.boolean(),
      fc.constant([]),
    ),
  },
);

function categoryValue(categories: readonly string[]) {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...categories) },
    { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
    { weight: 1, arbitrary: fc.oneof(fc.integer(), fc.constant(null)) },
  );
}

/** A row of random values for model `a`: each value on its own, or every number extreme at once. */
function rowArb(a: ModelArtifact, numbers: fc.Arbitrary<unknown>) {
  const tuple = (num: fc.Arbitrary<unknown>) =>
    fc.tuple(...a.features.map((f) => (f.type === "number" ? num : categoryValue(f.categories))));
  return fc.oneof(
    { weight: 3, arbitrary: tuple(numbers) },
    { weight: 1, arbitrary: tuple(fc.constantFrom(...HUGE)) },
  );
}

/** [model index, rows] */
const rowsArb = fc.integer({ min: 0, max: 1 }).chain((i) => {
  const a = [artifacts().mpg, artifacts().penguin][i];
  return fc.tuple(fc.constant(i), fc.array(rowArb(a, numberValue), { minLength: 1, maxLength: 4 }));
});

function isValid(a: ModelArtifact, j: number, v: unknown): boolean {
  const f = a.features[j];
  if (f.type === "number") return typeof v === "number" && Number.isFinite(v);
  return typeof v === "string" && f.categories.includes(v);
}

/** Features that hold an invalid value in some row. */
function badFeatures(a: ModelArtifact, rows: unknown[][]): Set<string> {
  const bad = new Set<string>();
  for (const row of rows) {
    a.features.forEach((f, j) => {
      if (!isValid(a, j, row[j])) bad.add(f.name);
    });
  }
  return bad;
}

const quotedName = /'([A-Za-z_][A-Za-z0-9_]*)'/;

/** The checks every answer must pass, given which features were invalid. */
function checkAnswer(
  a: ModelArtifact,
  bad: Set<string>,
  status: number,
  error: string | undefined,
  outputs: number[] | undefined,
) {
  expect(status).toBeLessThan(500);
  if (status === 200) {
    expect(bad.size).toBe(0);
    expect(outputs!.every((x) => typeof x === "number" && Number.isFinite(x))).toBe(true);
    return;
  }
  expect(typeof error).toBe("string");
  const named = quotedName.exec(error!)?.[1];
  if (bad.size > 0) {
    expect([status, bad.has(named ?? "") ? "names a bad feature" : error]).toEqual([
      400,
      "names a bad feature",
    ]);
  } else {
    const numeric = a.features.filter((f) => f.type === "number").map((f) => f.name);
    expect([status, numeric.includes(named ?? "") ? "names a numeric feature" : error]).toEqual([
      422,
      "names a numeric feature",
    ]);
  }
}

async function postJson(path: string, body: unknown): Promise<{ status: number; json: Loose }> {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

function numericOutputs(json: Loose): number[] {
  if (json.outputs) {
    return (json.outputs as Loose[])
      .filter((o) => o.datatype === "FP64")
      .flatMap((o) => o.data as number[]);
  }
  return (json.predictions as Loose[]).flatMap((p) =>
    typeof p === "number" ? [p] : (Object.values(p.probabilities) as number[]),
  );
}

function grpcInfer(request: Loose): Promise<{ code: number; details?: string; response?: Loose }> {
  return new Promise((resolve) =>
    client.ModelInfer(request, (err: grpc.ServiceError | null, response: Loose) =>
      resolve(err ? { code: err.code, details: err.details } : { code: 0, response }),
    ),
  );
}

/** Whether a parsed JSON value holds a null anywhere (a non-finite number serialises as null). */
function hasNull(x: unknown): boolean {
  if (x === null) return true;
  if (typeof x !== "object") return false;
  return Object.values(x as object).some(hasNull);
}

const RUNS = 120;

describe("no 5xx and no non-finite number, whatever the values", () => {
  it("REST v2 and v1", async () => {
    await fc.assert(
      fc.asyncProperty(rowsArb, async ([i, rawRows]) => {
        const a = models[i];
        const rows = rawRows as unknown[][];
        const bad = badFeatures(a, rows);
        const v2 = await postJson(`/v2/models/${a.name}/infer`, {
          inputs: a.features.map((f, j) => ({
            name: f.name,
            shape: [rows.length],
            datatype: f.type === "number" ? "FP64" : "BYTES",
            data: rows.map((r) => r[j]),
          })),
        });
        checkAnswer(
          a,
          bad,
          v2.status,
          v2.json.error,
          v2.status === 200 ? numericOutputs(v2.json) : undefined,
        );
        const v1 = await postJson(`/v1/models/${a.name}:predict`, { instances: rows });
        checkAnswer(
          a,
          bad,
          v1.status,
          v1.json.error,
          v1.status === 200 ? numericOutputs(v1.json) : undefined,
        );
        // Both protocols agree on success or failure, and on the status.
        expect(v1.status).toBe(v2.status);
      }),
      { numRuns: RUNS },
    );
  });

  it("gRPC, typed contents (doubles may be NaN or infinite there)", async () => {
    const doubles = fc.oneof(
      numberValue.filter((v) => typeof v === "number"),
      fc.constantFrom(NaN, Infinity, -Infinity),
    );
    const arb = fc
      .integer({ min: 0, max: 1 })
      .chain((i) =>
        fc.tuple(
          fc.constant(i),
          fc.array(rowArb(models[i], doubles), { minLength: 1, maxLength: 4 }),
        ),
      );
    await fc.assert(
      fc.asyncProperty(arb, async ([i, rows]) => {
        const a = models[i];
        const bad = badFeatures(a, rows as unknown[][]);
        const r = await grpcInfer({
          model_name: a.name,
          inputs: a.features.map((f, j) => ({
            name: f.name,
            datatype: f.type === "number" ? "FP64" : "BYTES",
            shape: [rows.length],
            contents:
              f.type === "number"
                ? { fp64_contents: rows.map((row) => row[j]) }
                : { bytes_contents: rows.map((row) => Buffer.from(String(row[j]))) },
          })),
        });
        expect([grpc.status.INTERNAL, grpc.status.UNKNOWN]).not.toContain(r.code);
        if (r.code === grpc.status.OK) {
          expect(bad.size).toBe(0);
          const values = (r.response.raw_output_contents as Buffer[])
            .filter((_b, k) => r.response.outputs[k].datatype === "FP64")
            .flatMap((b) => Array.from({ length: b.length / 8 }, (_x, n) => b.readDoubleLE(n * 8)));
          expect(values.every(Number.isFinite)).toBe(true);
        } else {
          expect(r.code).toBe(grpc.status.INVALID_ARGUMENT);
          checkAnswer(a, bad, bad.size > 0 ? 400 : 422, r.details, undefined);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("random request shapes: never a 5xx, always {error} naming something on 4xx", async () => {
    const tensor = fc.record(
      {
        name: fc.oneof(
          fc.constantFrom("Cylinders", "Origin", "Island", "Body_Mass_g"),
          fc.string({ maxLength: 300 }),
        ),
        shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 3 }), fc.anything()),
        datatype: fc.oneof(
          fc.constantFrom("FP64", "FP32", "INT64", "INT32", "BYTES", "BOOL", "UINT8"),
          fc.anything(),
        ),
        data: fc.oneof(
          fc.array(
            fc.oneof(
              fc.double(),
              fc.string(),
              fc.constant(null),
              fc.array(fc.double(), { maxLength: 2 }),
            ),
            { maxLength: 6 },
          ),
          fc.anything(),
        ),
        parameters: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.record(
        {
          inputs: fc.array(tensor, { maxLength: 8 }),
          outputs: fc.anything(),
          id: fc.anything(),
          parameters: fc.anything(),
        },
        { requiredKeys: ["inputs"] },
      ),
      fc.record({ instances: fc.oneof(fc.array(fc.anything(), { maxLength: 4 }), fc.anything()) }),
      fc.anything(),
    );
    const paths = [
      "/v2/models/mpg-regressor/infer",
      "/v2/models/penguin-classifier/versions/1/infer",
      "/v1/models/mpg-regressor:predict",
      "/v1/models/penguin-classifier:predict",
      "/v2/repository/index",
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), body, async (path, b) => {
        const text = JSON.stringify(b) ?? "null";
        const res = await fetch(`${base}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: text,
        });
        expect(res.status).toBeLessThan(500);
        const json = (await res.json()) as Loose;
        if (res.status >= 400) {
          expect(Object.keys(json)).toEqual(["error"]);
          expect(json.error.length).toBeLessThanOrEqual(300);
        } else {
          expect(hasNull(json)).toBe(false);
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
