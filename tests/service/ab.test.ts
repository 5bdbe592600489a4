/**
 * Model A/B inside the service (MODEL_TRAFFIC, MODEL_SHADOW, AB_SUBJECT_HEADER): validation at
 * startup, the split, stickiness, versioned routes, the reported version, metrics and shadows.
 * Two real versions: the training CLI run twice into one directory (v2 with another seed).
 */
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../service/src/app";
import { loadConfig } from "../../service/src/config";
import { mulberry32 } from "../../service/src/model/math";
import { ModelStore } from "../../service/src/model/store";
import { abBucket, TrafficRouter } from "../../service/src/model/traffic";
import {
  artifacts,
  expectStartupFailure,
  localClient,
  messages,
  tempDir,
  testConfig,
  trainCli,
  type HttpReply,
  type HttpRequest,
  type Loose,
  MPG_ROW,
  PENGUIN_ROW,
  Row,
} from "./helpers";

jest.setTimeout(60_000);

function v2Body(rows: Row[]) {
  return {
    inputs: Object.keys(rows[0]).map((name) => ({
      name,
      shape: [rows.length],
      datatype: typeof rows[0][name] === "string" ? "BYTES" : "FP64",
      data: rows.map((r) => r[name]),
    })),
  };
}

const MPG_INFER = "/v2/models/mpg-regressor/infer";
const MPG_BODY = v2Body([MPG_ROW]);

/** Sum of the samples of a metric whose labels include `labels` (Prometheus text format). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map<string, string>();
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) have.set(l[1], l[2]);
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

/** Polls until `check` passes (shadow work runs just after the response is sent). */
async function eventually(check: () => Promise<void>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Subjects that land in a given version's buckets (for a 90/10 split of mpg-regressor). */
function subjectsIn(version: "1" | "2", n: number): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) {
    const s = `user-${i}`;
    if ((abBucket("mpg-regressor", s) >= 90 ? "2" : "1") === version) out.push(s);
  }
  return out;
}

let modelDir: string;
beforeAll(() => {
  modelDir = tempDir("svc-ab-models-");
  expect(trainCli(["--out", modelDir]).code).toBe(0);
  expect(trainCli(["--out", modelDir, "--version", "2", "--seed", "7"]).code).toBe(0);
});

function loadStore(pins = "mpg-regressor=1,penguin-classifier=1"): ModelStore {
  return ModelStore.loadFromDir(modelDir, {
    driftWindow: 50,
    pins: loadConfig({ MODEL_PINS: pins }).MODEL_PINS,
  });
}

/** The router as server.ts builds it: config parsed from env, then checked against the store. */
function router(env: Record<string, string>, store = loadStore()): TrafficRouter {
  const c = loadConfig(env);
  return new TrafficRouter(store, c.MODEL_TRAFFIC, c.MODEL_SHADOW);
}

interface Served {
  app: FastifyInstance;
  call: (req: HttpRequest | string) => Promise<HttpReply>;
  store: ModelStore;
  metrics: () => Promise<string>;
}

async function serve(env: Record<string, string>, store = loadStore()): Promise<Served> {
  const app = await buildApp({ config: testConfig(env), store, logger: false });
  const call = await localClient(app);
  return {
    app,
    call,
    store,
    metrics: async () => (await call("/metrics")).body,
  };
}

function post(s: Served, url: string, payload: unknown, headers: Record<string, string> = {}) {
  return s.call({ method: "POST", url, payload, headers });
}

describe("MODEL_TRAFFIC / MODEL_SHADOW / AB_SUBJECT_HEADER: shape, at config load", () => {
  it("parses a split, a shadow and a header name (lower-cased)", () => {
    const c = loadConfig({
      MODEL_TRAFFIC: '{"mpg-regressor": {"1": 90, "2": 10}}',
      MODEL_SHADOW: '{"penguin-classifier": "2"}',
      AB_SUBJECT_HEADER: "X-User-Id",
    });
    expect([...c.MODEL_TRAFFIC].map(([n, w]) => [n, [...w]])).toEqual([
      [
        "mpg-regressor",
        [
          ["1", 90],
          ["2", 10],
        ],
      ],
    ]);
    expect([...c.MODEL_SHADOW]).toEqual([["penguin-classifier", "2"]]);
    expect(c.AB_SUBJECT_HEADER).toBe("x-user-id");
  });

  it("defaults: no split, no shadow, x-request-subject", () => {
    const c = loadConfig({});
    expect(c.MODEL_TRAFFIC.size).toBe(0);
    expect(c.MODEL_SHADOW.size).toBe(0);
    expect(c.AB_SUBJECT_HEADER).toBe("x-request-subject");
    expect(loadConfig({ MODEL_TRAFFIC: "{}", MODEL_SHADOW: " " }).MODEL_TRAFFIC.size).toBe(0);
  });

  it("rejects JSON that does not parse, naming the variable and the expected shape", () => {
    // The parser's own words in between differ between Node versions.
    expect(() => loadConfig({ MODEL_TRAFFIC: "{mpg" })).toThrow(
      /^MODEL_TRAFFIC: not valid JSON \(.+\); expected \{"<model>": \{"<version>": <weight>, \.\.\.\}, \.\.\.\} with integer weights summing to 100$/,
    );
    expect(() => loadConfig({ MODEL_SHADOW: "mpg=2" })).toThrow(
      /^MODEL_SHADOW: not valid JSON \(.+\); expected \{"<model>": "<version>", \.\.\.\}$/,
    );
  });

  it.each([
    [
      { MODEL_TRAFFIC: "[90, 10]" },
      'MODEL_TRAFFIC: expected {"<model>": {"<version>": <weight>, ...}, ...} with integer weights summing to 100, got [90,10]',
    ],
    [
      { MODEL_TRAFFIC: '{"MPG": {"1": 100}}' },
      'MODEL_TRAFFIC: "MPG" is not a model name (/^[a-z0-9][a-z0-9-]{0,62}$/)',
    ],
    [
      { MODEL_TRAFFIC: '{"mpg-regressor": 100}' },
      "MODEL_TRAFFIC: mpg-regressor must map versions to weights, got 100",
    ],
    [
      { MODEL_TRAFFIC: '{"mpg-regressor": {"v 1": 100}}' },
      'MODEL_TRAFFIC: mpg-regressor version "v 1" is not a version (/^[0-9A-Za-z][0-9A-Za-z._-]{0,62}$/)',
    ],
    [
      { MODEL_TRAFFIC: '{"mpg-regressor": {"1": 90.5, "2": 9.5}}' },
      "MODEL_TRAFFIC: mpg-regressor version 1 weight must be an integer from 0 to 100, got 90.5",
    ],
    [
      { MODEL_TRAFFIC: '{"mpg-regressor": {"1": "90", "2": 10}}' },
      'MODEL_TRAFFIC: mpg-regressor version 1 weight must be an integer from 0 to 100, got "90"',
    ],
    [
      { MODEL_TRAFFIC: '{"mpg-regressor": {"1": 110, "2": -10}}' },
      "MODEL_TRAFFIC: mpg-regressor version 1 weight must be an integer from 0 to 100, got 110",
    ],
    [
      { MODEL_TRAFFIC: '{"mpg-regressor": {"1": 90, "2": 5}}' },
      "MODEL_TRAFFIC: mpg-regressor weights must sum to 100, got 95 (1=90, 2=5)",
    ],
    [
      { MODEL_TRAFFIC: '{"mpg-regressor": {}}' },
      "MODEL_TRAFFIC: mpg-regressor weights must sum to 100, got 0 (no versions)",
    ],
    [{ MODEL_SHADOW: '"2"' }, 'MODEL_SHADOW: expected {"<model>": "<version>", ...}, got "2"'],
    [
      { MODEL_SHADOW: '{"mpg-regressor": 2}' },
      'MODEL_SHADOW: mpg-regressor version must be a string such as "2", got 2',
    ],
    [{ AB_SUBJECT_HEADER: "x subject" }, "env/AB_SUBJECT_HEADER must match pattern"],
  ])("rejects %j with the exact message", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});

describe("MODEL_TRAFFIC / MODEL_SHADOW: checked against the loaded models", () => {
  it.each([
    [
      { MODEL_TRAFFIC: '{"iris-classifier": {"1": 100}}' },
      "MODEL_TRAFFIC: model iris-classifier is not loaded (loaded models: mpg-regressor, penguin-classifier)",
    ],
    [
      { MODEL_TRAFFIC: '{"mpg-regressor": {"1": 90, "3": 10}}' },
      "MODEL_TRAFFIC: mpg-regressor version 3 is not loaded (loaded versions: 1, 2)",
    ],
    [
      // A listed version must be loaded even at weight 0.
      { MODEL_TRAFFIC: '{"mpg-regressor": {"1": 100, "3": 0}}' },
      "MODEL_TRAFFIC: mpg-regressor version 3 is not loaded (loaded versions: 1, 2)",
    ],
    [
      { MODEL_SHADOW: '{"iris-classifier": "2"}' },
      "MODEL_SHADOW: model iris-classifier is not loaded (loaded models: mpg-regressor, penguin-classifier)",
    ],
    [
      { MODEL_SHADOW: '{"penguin-classifier": "9"}' },
      "MODEL_SHADOW: penguin-classifier version 9 is not loaded (loaded versions: 1, 2)",
    ],
    [
      { MODEL_SHADOW: '{"mpg-regressor": "1"}' },
      "MODEL_SHADOW: mpg-regressor version 1 already answers every request (it is the default " +
        "version); shadow a version that does not",
    ],
    [
      {
        MODEL_TRAFFIC: '{"mpg-regressor": {"1": 0, "2": 100}}',
        MODEL_SHADOW: '{"mpg-regressor": "2"}',
      },
      "MODEL_SHADOW: mpg-regressor version 2 already answers every request (MODEL_TRAFFIC gives " +
        "it 100%); shadow a version that does not",
    ],
  ])("rejects %j with the exact message", (env, message) => {
    expect(() => router(env)).toThrow(message);
  });

  it("rejects splitting or shadowing versions that take different inputs", () => {
    const { mpg, penguin } = artifacts();
    const store = ModelStore.fromArtifacts(
      [mpg, { ...penguin, name: "mpg-regressor", version: "3" }],
      { driftWindow: 10 },
    );
    const different =
      "mpg-regressor versions 1 and 3 take different inputs or give different outputs " +
      "(features, their order and categories, kind and class labels must match)";
    expect(() => router({ MODEL_TRAFFIC: '{"mpg-regressor": {"1": 50, "3": 50}}' }, store)).toThrow(
      `MODEL_TRAFFIC: ${different}`,
    );
    expect(() =>
      router(
        { MODEL_TRAFFIC: '{"mpg-regressor": {"1": 100}}', MODEL_SHADOW: '{"mpg-regressor": "3"}' },
        store,
      ),
    ).toThrow(`MODEL_SHADOW: ${different}`);
  });

  it("accepts a split whose versions are all loaded, a zero weight, and a shadow of another version", () => {
    const r = router({
      MODEL_TRAFFIC: '{"mpg-regressor": {"1": 100, "2": 0}}',
      MODEL_SHADOW: '{"mpg-regressor": "2", "penguin-classifier": "2"}',
    });
    expect(r.route("mpg-regressor", "anyone")?.model.artifact.version).toBe("1");
    expect(r.shadowVersion("penguin-classifier")).toBe("2");
  });

  it("the server exits 1 at startup naming MODEL_TRAFFIC and the missing version", async () => {
    const r = await expectStartupFailure({
      MODEL_DIR: modelDir,
      MODEL_TRAFFIC: '{"mpg-regressor": {"1": 90, "7": 10}}',
    });
    expect(r.code).toBe(1);
    expect(messages(r.stderr)).toBe(
      "MODEL_TRAFFIC: mpg-regressor version 7 is not loaded (loaded versions: 1, 2)",
    );
  });

  it("the server exits 1 at startup on weights that do not sum to 100, and on a bad MODEL_SHADOW", async () => {
    const [a, b] = await Promise.all([
      expectStartupFailure({
        MODEL_DIR: modelDir,
        MODEL_TRAFFIC: '{"mpg-regressor": {"1": 80, "2": 10}}',
      }),
      expectStartupFailure({
        MODEL_DIR: modelDir,
        MODEL_SHADOW: '{"penguin-classifier": "3"}',
      }),
    ]);
    expect(a.code).toBe(1);
    expect(messages(a.stderr)).toBe(
      "MODEL_TRAFFIC: mpg-regressor weights must sum to 100, got 90 (1=80, 2=10)",
    );
    expect(b.code).toBe(1);
    expect(messages(b.stderr)).toBe(
      "MODEL_SHADOW: penguin-classifier version 3 is not loaded (loaded versions: 1, 2)",
    );
  });
});

describe("assignment", () => {
  it("buckets are sha256('<model>\\n<subject>') -> first 4 bytes -> % 100 (a stable contract)", () => {
    // printf 'mpg-regressor\nalice' | sha256sum -> 6e2b1326... -> 1848316710 % 100 = 10
    expect(abBucket("mpg-regressor", "alice")).toBe(10);
    expect(abBucket("mpg-regressor", "bob")).toBe(31);
    expect(abBucket("penguin-classifier", "alice")).toBe(49);
  });

  it("without a subject, assignment is random in proportion to the weights", () => {
    const rand = mulberry32(1);
    const store = loadStore();
    const c = loadConfig({ MODEL_TRAFFIC: '{"mpg-regressor": {"1": 70, "2": 30}}' });
    const r = new TrafficRouter(store, c.MODEL_TRAFFIC, c.MODEL_SHADOW, rand);
    const n = 10_000;
    let v2 = 0;
    for (let i = 0; i < n; i++) {
      const routed = r.route("mpg-regressor", undefined)!;
      expect(routed.assignment).toBe("random");
      if (routed.model.artifact.version === "2") v2++;
    }
    // 30% ± 5 standard deviations of Binomial(10000, 0.3) (sd ≈ 45.8); the seed makes it exact.
    expect(Math.abs(v2 - 3000)).toBeLessThan(5 * Math.sqrt(n * 0.3 * 0.7));
  });

  it("models without a split use the default version", () => {
    const r = router({ MODEL_TRAFFIC: '{"mpg-regressor": {"1": 90, "2": 10}}' });
    expect(r.route("penguin-classifier", "alice")).toMatchObject({ assignment: "default" });
    expect(r.route("penguin-classifier", "alice")?.model.artifact.version).toBe("1");
    expect(r.route("no-such-model", "alice")).toBeUndefined();
  });
});

describe("a 90/10 split over HTTP", () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({ MODEL_TRAFFIC: '{"mpg-regressor": {"1": 90, "2": 10}}' });
  });
  afterAll(() => s.app.close());

  it("2,000 distinct subjects split within a binomial bound of 90/10; answers and metrics agree", async () => {
    const before = await s.metrics();
    const n = 2000;
    const counts: Record<string, number> = {};
    const subjects = Array.from({ length: n }, (_, i) => `subject-${String(i).padStart(4, "0")}`);
    for (let i = 0; i < n; i += 16) {
      const replies = await Promise.all(
        subjects
          .slice(i, i + 16)
          .map((subject) => post(s, MPG_INFER, MPG_BODY, { "x-request-subject": subject })),
      );
      for (const r of replies) {
        expect(r.statusCode).toBe(200);
        const version = r.json().model_version as string;
        expect(r.headers["x-model-version"]).toBe(version);
        counts[version] = (counts[version] ?? 0) + 1;
      }
    }
    expect(Object.keys(counts).sort()).toEqual(["1", "2"]);
    // Binomial(2000, 0.1): mean 200, sd ≈ 13.4; the subjects are fixed, so this never flakes.
    const sd = Math.sqrt(n * 0.1 * 0.9);
    expect(Math.abs(counts["2"] - 200)).toBeLessThan(4 * sd);
    expect(counts["1"] + counts["2"]).toBe(n);

    const after = await s.metrics();
    const delta = (name: string, labels: Record<string, string>) =>
      sample(after, name, labels) - sample(before, name, labels);
    for (const version of ["1", "2"]) {
      const labels = { model: "mpg-regressor", version };
      expect(delta("inference_predictions_total", labels)).toBe(counts[version]);
      expect(delta("inference_ab_assignments_total", { ...labels, assignment: "sticky" })).toBe(
        counts[version],
      );
      expect(
        delta("inference_http_requests_total", { ...labels, route: "/v2/models/:name/infer" }),
      ).toBe(counts[version]);
    }
    expect(after).toMatch(
      /inference_model_traffic_weight\{model="mpg-regressor",version="1"\} 90\n/,
    );
    expect(after).toMatch(
      /inference_model_traffic_weight\{model="mpg-regressor",version="2"\} 10\n/,
    );
    expect(after).toMatch(
      /inference_model_traffic_weight\{model="penguin-classifier",version="1"\} 100\n/,
    );
  });

  it("is sticky: the same subject 50 times gets one version, on v2 and v1 routes alike", async () => {
    for (const [version, subject] of [
      ["2", subjectsIn("2", 1)[0]],
      ["1", subjectsIn("1", 1)[0]],
    ]) {
      const seen = new Set<string>();
      for (let i = 0; i < 25; i++) {
        const a = await post(s, MPG_INFER, MPG_BODY, { "x-request-subject": subject });
        seen.add(a.json().model_version as string);
        const b = await post(
          s,
          "/v1/models/mpg-regressor:predict",
          { instances: [MPG_ROW] },
          { "x-request-subject": subject },
        );
        expect(b.statusCode).toBe(200);
        seen.add(b.headers["x-model-version"] as string);
      }
      expect([...seen]).toEqual([version]);
    }
  });

  it("KServe v1 keeps its JSON shape and reports the version in x-model-version", async () => {
    const [subject] = subjectsIn("2", 1);
    const v1 = await post(
      s,
      "/v1/models/mpg-regressor:predict",
      { instances: [MPG_ROW] },
      { "x-request-subject": subject },
    );
    expect(v1.headers["x-model-version"]).toBe("2");
    const body = v1.json() as Loose;
    expect(Object.keys(body)).toEqual(["predictions"]);
    // The answer is version 2's: the same as asking version 2 directly.
    const direct = await post(s, "/v2/models/mpg-regressor/versions/2/infer", MPG_BODY);
    expect(body.predictions).toEqual(direct.json().outputs[0].data);
    const v1only = await post(s, "/v2/models/mpg-regressor/versions/1/infer", MPG_BODY);
    expect(body.predictions).not.toEqual(v1only.json().outputs[0].data);
  });

  it("versioned routes bypass the split and are not counted as assignments", async () => {
    const before = await s.metrics();
    for (const subject of subjectsIn("2", 20)) {
      const r = await post(s, "/v2/models/mpg-regressor/versions/1/infer", MPG_BODY, {
        "x-request-subject": subject,
      });
      expect(r.json().model_version).toBe("1");
      expect(r.headers["x-model-version"]).toBe("1");
    }
    const after = await s.metrics();
    expect(sample(after, "inference_ab_assignments_total")).toBe(
      sample(before, "inference_ab_assignments_total"),
    );
  });

  it("without the header, assignment is random and both versions answer", async () => {
    const seen = new Set<string>();
    // P(no version 2 in 300 draws at 10%) = 0.9^300 ≈ 2e-14.
    for (let i = 0; i < 300 && seen.size < 2; i++) {
      seen.add((await post(s, MPG_INFER, MPG_BODY)).json().model_version as string);
    }
    expect([...seen].sort()).toEqual(["1", "2"]);
    expect(
      sample(await s.metrics(), "inference_ab_assignments_total", { assignment: "random" }),
    ).toBeGreaterThan(0);
  });

  it("metadata of the unversioned route shows the split", async () => {
    const r = await s.call("/v2/models/mpg-regressor");
    expect(r.json().parameters.traffic).toEqual({ "1": 90, "2": 10 });
    expect(r.json().parameters.shadow_version).toBeUndefined();
  });

  it("an invalid request still reports the version it was routed to, in metrics too", async () => {
    const [subject] = subjectsIn("2", 1);
    const r = await post(s, MPG_INFER, { inputs: [] }, { "x-request-subject": subject });
    expect(r.statusCode).toBe(400);
    const bad = await post(s, MPG_INFER, v2Body([{ ...MPG_ROW, Origin: "Mars" }]), {
      "x-request-subject": subject,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers["x-model-version"]).toBe("2");
    expect(
      sample(await s.metrics(), "inference_http_requests_total", {
        status: "400",
        model: "mpg-regressor",
        version: "2",
      }),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe("AB_SUBJECT_HEADER", () => {
  it("makes another header the sticky subject", async () => {
    const s = await serve({
      MODEL_TRAFFIC: '{"mpg-regressor": {"1": 90, "2": 10}}',
      AB_SUBJECT_HEADER: "X-User-Id",
    });
    try {
      const [subject] = subjectsIn("2", 1);
      for (let i = 0; i < 20; i++) {
        const r = await post(s, MPG_INFER, MPG_BODY, { "x-user-id": subject });
        expect(r.json().model_version).toBe("2");
      }
      expect(
        sample(await s.metrics(), "inference_ab_assignments_total", { assignment: "sticky" }),
      ).toBe(20);
      // x-request-subject is now just another header: assignment is random.
      await post(s, MPG_INFER, MPG_BODY, { "x-request-subject": subject });
      expect(
        sample(await s.metrics(), "inference_ab_assignments_total", { assignment: "random" }),
      ).toBe(1);
    } finally {
      await s.app.close();
    }
  });
});

describe("shadow traffic", () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve({
      MODEL_SHADOW: '{"mpg-regressor": "2", "penguin-classifier": "2"}',
    });
  });
  afterAll(() => s.app.close());
  afterEach(() => jest.restoreAllMocks());

  it("the shadow's answer is never returned, but is counted and compared in metrics", async () => {
    const before = await s.metrics();
    const rows = [
      MPG_ROW,
      { ...MPG_ROW, Cylinders: 8, Weight_in_lbs: 4200, Origin: "USA" },
      MPG_ROW,
    ];
    const r = await post(s, MPG_INFER, v2Body(rows));
    expect(r.statusCode).toBe(200);
    expect(r.json().model_version).toBe("1");
    expect(r.headers["x-model-version"]).toBe("1");
    const v1 = await post(s, "/v2/models/mpg-regressor/versions/1/infer", v2Body(rows));
    const v2 = await post(s, "/v2/models/mpg-regressor/versions/2/infer", v2Body(rows));
    expect(r.json().outputs).toEqual(v1.json().outputs);
    expect(r.json().outputs).not.toEqual(v2.json().outputs);

    const shadow = { model: "mpg-regressor", version: "2" };
    await eventually(async () => {
      const after = await s.metrics();
      expect(
        sample(after, "inference_shadow_predictions_total", shadow) -
          sample(before, "inference_shadow_predictions_total", shadow),
      ).toBe(3);
    });
    const after = await s.metrics();
    const diff = { ...shadow, primary_version: "1" };
    expect(
      sample(after, "inference_shadow_abs_diff_count", diff) -
        sample(before, "inference_shadow_abs_diff_count", diff),
    ).toBe(3);
    // The recorded differences are the real |v2 - v1| per row.
    const expected = (v2.json().outputs[0].data as number[])
      .map((x, i) => Math.abs(x - (v1.json().outputs[0].data as number[])[i]))
      .reduce((a, b) => a + b, 0);
    expect(
      sample(after, "inference_shadow_abs_diff_sum", diff) -
        sample(before, "inference_shadow_abs_diff_sum", diff),
    ).toBeCloseTo(expected, 9);
    // Version 2 only ran as the shadow (plus the direct versioned call above: 3 rows).
    expect(
      sample(after, "inference_predictions_total", shadow) -
        sample(before, "inference_predictions_total", shadow),
    ).toBe(3);
    expect(sample(after, "inference_shadow_errors_total")).toBe(0);
  });

  it("classification: shadow agreement is counted per row; KServe v1 is shadowed too", async () => {
    const before = await s.metrics();
    const r = await post(s, "/v1/models/penguin-classifier:predict", {
      instances: [PENGUIN_ROW, PENGUIN_ROW],
    });
    expect(r.statusCode).toBe(200);
    expect(r.headers["x-model-version"]).toBe("1");
    const labels = { model: "penguin-classifier", version: "2", primary_version: "1" };
    await eventually(async () => {
      const after = await s.metrics();
      expect(
        sample(after, "inference_shadow_agreement_total", labels) -
          sample(before, "inference_shadow_agreement_total", labels),
      ).toBe(2);
    });
    const after = await s.metrics();
    // Both versions call this textbook Adelie an Adelie.
    expect(
      sample(after, "inference_shadow_agreement_total", { ...labels, agree: "true" }) -
        sample(before, "inference_shadow_agreement_total", { ...labels, agree: "true" }),
    ).toBe(2);
  });

  it("versioned routes are not shadowed", async () => {
    const before = await s.metrics();
    await post(s, "/v2/models/mpg-regressor/versions/1/infer", MPG_BODY);
    await post(s, MPG_INFER, MPG_BODY); // an unversioned one, as a marker that shadows ran
    await eventually(async () => {
      const after = await s.metrics();
      const shadow = { model: "mpg-regressor", version: "2" };
      expect(
        sample(after, "inference_shadow_predictions_total", shadow) -
          sample(before, "inference_shadow_predictions_total", shadow),
      ).toBe(1);
    });
  });

  it("a failing shadow never affects the response; the failure is counted", async () => {
    const shadowModel = s.store.get("mpg-regressor", "2")!;
    const spy = jest.spyOn(shadowModel.predictor, "predict").mockImplementation(() => {
      throw new Error("shadow exploded");
    });
    const before = await s.metrics();
    for (let i = 0; i < 5; i++) {
      const r = await post(s, MPG_INFER, MPG_BODY);
      expect(r.statusCode).toBe(200);
      expect(r.json().model_version).toBe("1");
      expect(r.json().outputs[0].data).toHaveLength(1);
    }
    await eventually(async () => {
      expect(spy).toHaveBeenCalledTimes(5);
      const after = await s.metrics();
      const labels = { model: "mpg-regressor", version: "2" };
      expect(
        sample(after, "inference_shadow_errors_total", labels) -
          sample(before, "inference_shadow_errors_total", labels),
      ).toBe(5);
    });
  });

  it("metadata of the unversioned route names the shadow version", async () => {
    const r = await s.call("/v2/models/mpg-regressor");
    expect(r.json().parameters.shadow_version).toBe("2");
    expect(r.json().parameters.traffic).toBeUndefined();
  });
});

describe("split and shadow together", () => {
  it("requests answered by the shadow version itself are not shadowed again", async () => {
    const s = await serve({
      MODEL_TRAFFIC: '{"mpg-regressor": {"1": 90, "2": 10}}',
      MODEL_SHADOW: '{"mpg-regressor": "2"}',
    });
    try {
      const v2Subjects = subjectsIn("2", 5);
      const v1Subjects = subjectsIn("1", 7);
      for (const subject of [...v2Subjects, ...v1Subjects]) {
        await post(s, MPG_INFER, MPG_BODY, { "x-request-subject": subject });
      }
      await eventually(async () => {
        const text = await s.metrics();
        const labels = { model: "mpg-regressor", version: "2" };
        expect(sample(text, "inference_shadow_predictions_total", labels)).toBe(7);
        expect(sample(text, "inference_predictions_total", labels)).toBe(5);
        expect(sample(text, "inference_predictions_total", { ...labels, version: "1" })).toBe(7);
      });
    } finally {
      await s.app.close();
    }
  });
});
