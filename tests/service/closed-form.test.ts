/**
 * Predictions checked against numbers computed outside the service's code.
 *
 * Two tiny artifacts are written by hand, with means, standard deviations and weights chosen so
 * that every expected output is a small exact number or fraction worked out on paper (shown next
 * to each value). Nothing here calls the service's math: a wrong scaling, a wrong one-hot column,
 * a wrong intercept or a wrong softmax changes the numbers. The same rows go through the
 * predictor and through both HTTP protocols (v2 infer, v1 predict).
 */
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../service/src/app";
import type {
  ClassificationArtifact,
  ModelArtifact,
  RegressionArtifact,
} from "../../service/src/model/artifact";
import { validateArtifact } from "../../service/src/model/artifact";
import { Predictor } from "../../service/src/model/predictor";
import { ModelStore } from "../../service/src/model/store";
import { localClient, testConfig, type HttpReply, type HttpRequest } from "./helpers";

/** Digits after the point that must agree (the values are exact up to float rounding). */
const DIGITS = 12;

const common = {
  schemaVersion: 1,
  version: "1",
  description: "closed-form fixture",
  metrics: {},
  training: {
    dataset: "hand-written",
    dataFile: "none",
    dataSha256: "0".repeat(64),
    seed: 1,
    testFraction: 0.2,
    rowsTotal: 10,
    rowsDropped: 0,
    rowsTrain: 8,
    rowsTest: 2,
    hyperparameters: {},
  },
  codeVersion: { package: "fixture", version: "0.0.0", gitSha: null },
  createdAt: "2024-01-01T00:00:00.000Z",
  target: { name: "y", source: "y" },
} as const;

const numberDrift = { type: "number", edges: [0], proportions: [0.5, 0.5] } as const;

/**
 * y = 3 + 2·(x − 10)/4 − 1.5·(z + 2)/0.5 + 0.5·[color = green] − 1·[color = blue]
 * (red's one-hot weight is 0).
 */
const REGRESSOR: RegressionArtifact = {
  ...common,
  name: "closed-form-regressor",
  kind: "regression",
  features: [
    { name: "x", type: "number", source: "x", min: 0, max: 20 },
    { name: "z", type: "number", source: "z", min: -5, max: 5 },
    { name: "color", type: "category", source: "color", categories: ["red", "green", "blue"] },
  ],
  preprocessing: {
    missingValuePolicy: "none",
    numeric: { x: { median: 10, mean: 10, std: 4 }, z: { median: -2, mean: -2, std: 0.5 } },
    categorical: { color: { categories: ["red", "green", "blue"], mode: "red" } },
    encodedFeatures: ["x", "z", "color=red", "color=green", "color=blue"],
  },
  weights: { intercept: 3, coefficients: [2, -1.5, 0, 0.5, -1] },
  drift: {
    x: numberDrift,
    z: numberDrift,
    color: {
      type: "category",
      categories: ["red", "green", "blue"],
      proportions: [0.5, 0.25, 0.25],
    },
  },
};

/** Rows of the regressor and their outputs, worked out by hand. */
const REGRESSION_CASES = [
  // x: (14 − 10)/4 = 1; z: (−1.5 + 2)/0.5 = 1; 3 + 2·1 − 1.5·1 + 0.5 = 4
  { row: { x: 14, z: -1.5, color: "green" }, y: 4 },
  // x: (2 − 10)/4 = −2; z: (−3 + 2)/0.5 = −2; 3 − 4 + 3 − 1 = 1
  { row: { x: 2, z: -3, color: "blue" }, y: 1 },
  // every scaled value 0, red: the intercept alone
  { row: { x: 10, z: -2, color: "red" }, y: 3 },
  // x: (11 − 10)/4 = 0.25; z: (−2.25 + 2)/0.5 = −0.5; 3 + 0.5 + 0.75 + 0 = 4.25
  { row: { x: 11, z: -2.25, color: "red" }, y: 4.25 },
] as const;

/**
 * Three classes a, b, c; score_k = intercept_k + w_k·(x − 0)/2 + v_k·[s = f]:
 * intercepts (0, ln 2, ln 3), w = (0, 0, ln 2), v = (ln 4, 0, 0) (s = m's weights are 0).
 * So exp(score) = (1·4^[f], 2, 3·2^(x/2)), and the probabilities are those over their sum.
 */
const CLASSIFIER: ClassificationArtifact = {
  ...common,
  name: "closed-form-classifier",
  kind: "classification",
  classLabels: ["a", "b", "c"],
  features: [
    { name: "x", type: "number", source: "x", min: -10, max: 10 },
    { name: "s", type: "category", source: "s", categories: ["m", "f"] },
  ],
  preprocessing: {
    missingValuePolicy: "none",
    numeric: { x: { median: 0, mean: 0, std: 2 } },
    categorical: { s: { categories: ["m", "f"], mode: "m" } },
    encodedFeatures: ["x", "s=m", "s=f"],
  },
  weights: {
    intercepts: [0, Math.LN2, Math.log(3)],
    coefficients: [
      [0, 0, Math.log(4)],
      [0, 0, 0],
      [Math.LN2, 0, 0],
    ],
  },
  drift: {
    x: numberDrift,
    s: { type: "category", categories: ["m", "f"], proportions: [0.5, 0.5] },
  },
};

/** Rows of the classifier, exp(scores) by hand, and the resulting label and probabilities. */
const CLASSIFICATION_CASES = [
  // exp = (1, 2, 3), sum 6
  { row: { x: 0, s: "m" }, label: "c", p: [1 / 6, 2 / 6, 3 / 6] },
  // x/2 = 2: exp = (1, 2, 3·4 = 12), sum 15
  { row: { x: 4, s: "m" }, label: "c", p: [1 / 15, 2 / 15, 12 / 15] },
  // x/2 = −1, f: exp = (4, 2, 3/2), sum 7.5
  { row: { x: -2, s: "f" }, label: "a", p: [4 / 7.5, 2 / 7.5, 1.5 / 7.5] },
  // x/2 = −2: exp = (1, 2, 3/4), sum 3.75
  { row: { x: -4, s: "m" }, label: "b", p: [1 / 3.75, 2 / 3.75, 0.75 / 3.75] },
] as const;

type Row = Readonly<Record<string, number | string>>;

function columns(artifact: ModelArtifact, rows: readonly Row[]) {
  return {
    rows: rows.length,
    columns: artifact.features.map((f) => rows.map((r) => r[f.name])) as number[][] | string[][],
  };
}

function expectClose(actual: readonly number[], expected: readonly number[]) {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) =>
    expect({ i, v: actual[i] }).toEqual({ i, v: expect.closeTo(e, DIGITS) }),
  );
}

describe("the hand-written fixtures", () => {
  it("are valid artifacts", () => {
    expect(validateArtifact(REGRESSOR)).toBe(REGRESSOR);
    expect(validateArtifact(CLASSIFIER)).toBe(CLASSIFIER);
  });

  it("have probabilities that sum to 1 (a check of the hand arithmetic)", () => {
    for (const c of CLASSIFICATION_CASES) expect(c.p[0] + c.p[1] + c.p[2]).toBeCloseTo(1, 15);
  });
});

describe("Predictor on hand-computed values", () => {
  it("regression: scaled numbers, one-hot category, intercept", () => {
    const rows = REGRESSION_CASES.map((c) => c.row);
    const p = new Predictor(REGRESSOR).predict(columns(REGRESSOR, rows));
    expect(p.kind).toBe("regression");
    expectClose(p.kind === "regression" ? p.values : [], [4, 1, 3, 4.25]);
  });

  it("classification: softmax probabilities and the most probable label", () => {
    const rows = CLASSIFICATION_CASES.map((c) => c.row);
    const p = new Predictor(CLASSIFIER).predict(columns(CLASSIFIER, rows));
    if (p.kind !== "classification") throw new Error(`expected a classification, got ${p.kind}`);
    expect(p.labels).toEqual(["c", "c", "a", "b"]);
    expect(p.probabilities).toHaveLength(CLASSIFICATION_CASES.length);
    CLASSIFICATION_CASES.forEach((c, r) => expectClose(p.probabilities[r], c.p));
  });
});

describe("HTTP on hand-computed values", () => {
  let app: FastifyInstance;
  let call: (req: HttpRequest | string) => Promise<HttpReply>;

  beforeAll(async () => {
    app = await buildApp({
      config: testConfig(),
      store: ModelStore.fromArtifacts([REGRESSOR, CLASSIFIER], { driftWindow: 10 }),
      readiness: { ready: true },
      logger: false,
    });
    call = await localClient(app);
  });
  afterAll(() => app.close());

  const v2 = (rows: readonly Row[]) => ({
    inputs: Object.keys(rows[0]).map((name) => ({
      name,
      shape: [rows.length],
      datatype: typeof rows[0][name] === "string" ? "BYTES" : "FP64",
      data: rows.map((r) => r[name]),
    })),
  });

  it("v2 infer returns the regression values", async () => {
    const res = await call({
      method: "POST",
      url: "/v2/models/closed-form-regressor/infer",
      payload: v2(REGRESSION_CASES.map((c) => c.row)),
    });
    expect(res.statusCode).toBe(200);
    const [out] = res.json().outputs;
    expect(out).toMatchObject({ name: "predict", shape: [4] });
    expectClose(out.data, [4, 1, 3, 4.25]);
  });

  it("v2 infer returns the labels and the [N, 3] probabilities", async () => {
    const res = await call({
      method: "POST",
      url: "/v2/models/closed-form-classifier/infer",
      payload: v2(CLASSIFICATION_CASES.map((c) => c.row)),
    });
    expect(res.statusCode).toBe(200);
    const [predict, probabilities] = res.json().outputs;
    expect(predict).toMatchObject({ name: "predict", shape: [4], data: ["c", "c", "a", "b"] });
    expect(probabilities).toMatchObject({ name: "probabilities", shape: [4, 3] });
    expectClose(
      probabilities.data,
      CLASSIFICATION_CASES.flatMap((c) => c.p),
    );
  });

  it("v1 predict returns the same numbers", async () => {
    const reg = await call({
      method: "POST",
      url: "/v1/models/closed-form-regressor:predict",
      payload: { instances: REGRESSION_CASES.map((c) => c.row) },
    });
    expect(reg.statusCode).toBe(200);
    expectClose(reg.json().predictions, [4, 1, 3, 4.25]);

    const cls = await call({
      method: "POST",
      url: "/v1/models/closed-form-classifier:predict",
      payload: { instances: CLASSIFICATION_CASES.map((c) => c.row) },
    });
    expect(cls.statusCode).toBe(200);
    const predictions = cls.json().predictions as {
      label: string;
      probabilities: Record<string, number>;
    }[];
    expect(predictions.map((p) => p.label)).toEqual(["c", "c", "a", "b"]);
    predictions.forEach((p, r) => {
      expect(Object.keys(p.probabilities)).toEqual(["a", "b", "c"]);
      expectClose(Object.values(p.probabilities), CLASSIFICATION_CASES[r].p);
    });
  });
});

/**
 * Drift: the reference of both classifier features is (0.5, 0.5) (x: ≤ 0 | > 0; s: m | f), and
 * PSI = Σ (actual − reference) · ln(actual / reference), empty bins counted as 1e-4.
 */
describe("drift PSI on hand-computed windows", () => {
  let app: FastifyInstance;
  let call: (req: HttpRequest | string) => Promise<HttpReply>;

  beforeAll(async () => {
    app = await buildApp({
      config: testConfig(),
      store: ModelStore.fromArtifacts([CLASSIFIER], { driftWindow: 4 }),
      readiness: { ready: true },
      logger: false,
    });
    call = await localClient(app);
  });
  afterAll(() => app.close());

  const predict = async (rows: readonly Row[]) => {
    const res = await call({
      method: "POST",
      url: "/v1/models/closed-form-classifier:predict",
      payload: { instances: rows },
    });
    expect(res.statusCode).toBe(200);
  };

  const psiOf = async (): Promise<Record<string, number>> => {
    const text = (await call("/metrics")).body;
    const found = [
      ...text.matchAll(
        /^inference_feature_drift_psi\{model="closed-form-classifier",version="1",feature="(\w+)"\} (\S+)$/gm,
      ),
    ];
    return Object.fromEntries(found.map((m) => [m[1], Number(m[2])]));
  };

  it("is absent before any input, then the PSI of the last window", async () => {
    expect(await psiOf()).toEqual({});
    // x = 0, 4, −2, −4 -> bins (≤ 0, > 0) = (3/4, 1/4); s = m, m, f, m -> (3/4, 1/4).
    // PSI = 0.25·ln(1.5) + (−0.25)·ln(0.5) = 0.25·ln 3 for both.
    await predict(CLASSIFICATION_CASES.map((c) => c.row));
    const quarterLn3 = 0.25 * Math.log(3);
    expect(await psiOf()).toEqual({
      x: expect.closeTo(quarterLn3, DIGITS),
      s: expect.closeTo(quarterLn3, DIGITS),
    });
    // Four rows of x = 5, s = f replace the whole window: (0, 1), the empty bin counted as 1e-4:
    // (1e-4 − 0.5)·ln(1e-4 / 0.5) + (1 − 0.5)·ln(1 / 0.5) = 0.4999·ln 5000 + 0.5·ln 2.
    await predict([1, 2, 3, 4].map(() => ({ x: 5, s: "f" })));
    const allInOneBin = 0.4999 * Math.log(5000) + 0.5 * Math.log(2);
    expect(await psiOf()).toEqual({
      x: expect.closeTo(allInOneBin, DIGITS),
      s: expect.closeTo(allInOneBin, DIGITS),
    });
  });
});
