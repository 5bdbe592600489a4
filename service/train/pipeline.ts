import type {
  ClassificationArtifact,
  DriftReference,
  FeatureSpec,
  ModelArtifact,
  Preprocessing,
  RegressionArtifact,
} from "../src/model/artifact";
import { ARTIFACT_SCHEMA_VERSION, validateArtifact } from "../src/model/artifact";
import {
  binIndex,
  logLoss,
  mean,
  median,
  mulberry32,
  quantile,
  r2,
  ridgeFit,
  rmse,
  shuffledIndices,
  softmaxFit,
  std,
} from "../src/model/math";
import { encodedCategoryName, Predictor } from "../src/model/predictor";
import { packageInfo } from "../src/package-info";
import type { LoadedDataset } from "./datasets";
import type { DatasetSpec, RawValue } from "./models";
import { parseCategory, parseNumber } from "./models";

export const MISSING_VALUE_POLICY =
  "Rows whose target is missing are dropped before the split. Missing numeric features " +
  "(null or non-numeric) are imputed with the training-split median; missing categorical features " +
  '(null, empty or ".") and categories never seen in the training split are imputed with the ' +
  "training-split mode. All statistics come from the training split only. At inference time " +
  "every feature is required and must be a finite number or a known category.";

export interface TrainOptions {
  readonly version: string;
  readonly seed: number;
  /** Fraction of rows held out for evaluation. */
  readonly testFraction: number;
  /** Ridge penalty on the standardised coefficients (regression). */
  readonly ridgeLambda: number;
  /** Gradient descent settings (classification). */
  readonly learningRate: number;
  readonly l2: number;
  readonly epochs: number;
  /** Fixed creation time (ISO-8601) for reproducible bytes; defaults to now. */
  readonly createdAt?: string;
  readonly gitSha?: string | null;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  version: "1",
  seed: 42,
  testFraction: 0.2,
  ridgeLambda: 1,
  learningRate: 0.5,
  l2: 0.001,
  epochs: 1000,
};

interface Row {
  readonly x: RawValue[];
  readonly y: number | string;
}

function parseRows(spec: DatasetSpec, records: readonly Record<string, unknown>[]): Row[] {
  const rows: Row[] = [];
  for (const rec of records) {
    const y =
      spec.kind === "regression"
        ? parseNumber(rec[spec.target.source])
        : parseCategory(rec[spec.target.source]);
    if (y === null) continue;
    const x = spec.features.map((f) => {
      const parse = f.parse ?? (f.type === "number" ? parseNumber : parseCategory);
      return parse(rec[f.source]);
    });
    rows.push({ x, y });
  }
  return rows;
}

function mode(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
}

/** Ten quantile bins: inner cut points at the 10%..90% quantiles (deduplicated). */
function numberDrift(values: readonly number[]): DriftReference {
  const sorted = [...values].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let q = 1; q <= 9; q++) {
    const e = quantile(sorted, q / 10);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) counts[binIndex(edges, v)]++;
  return { type: "number", edges, proportions: counts.map((c) => c / values.length) };
}

function categoryDrift(values: readonly string[], categories: readonly string[]): DriftReference {
  const counts = categories.map((c) => values.filter((v) => v === c).length);
  return { type: "category", categories, proportions: counts.map((c) => c / values.length) };
}

export interface TrainResult {
  readonly artifact: ModelArtifact;
  /** The held-out metric the quality gate looks at. */
  readonly gate: { readonly metric: "r2" | "accuracy"; readonly value: number };
}

/**
 * Trains one model: parse and clean, seeded shuffle and split, fit preprocessing on the training
 * split, fit the model, evaluate on the held-out split through the serving code path, and
 * assemble a validated artifact.
 */
export function trainModel(
  spec: DatasetSpec,
  data: LoadedDataset,
  options: TrainOptions,
): TrainResult {
  const rows = parseRows(spec, data.records);
  const order = shuffledIndices(rows.length, mulberry32(options.seed));
  const nTest = Math.round(rows.length * options.testFraction);
  if (nTest < 1 || nTest >= rows.length) {
    throw new Error(`testFraction ${options.testFraction} leaves no training or no test rows`);
  }
  const test = order.slice(0, nTest).map((i) => rows[i]);
  const train = order.slice(nTest).map((i) => rows[i]);

  // Preprocessing, fitted on the training split only.
  const features: FeatureSpec[] = [];
  const numeric: Record<string, { median: number; mean: number; std: number }> = {};
  const categorical: Record<string, { categories: string[]; mode: string }> = {};
  const encodedFeatures: string[] = [];
  const drift: Record<string, DriftReference> = {};
  spec.features.forEach((f, j) => {
    const present = train.map((r) => r.x[j]).filter((v): v is number | string => v !== null);
    if (present.length === 0)
      throw new Error(`${spec.modelName}: feature ${f.name} is always missing`);
    if (f.type === "number") {
      const vals = present as number[];
      const med = median(vals);
      const imputed = train.map((r) => (r.x[j] === null ? med : (r.x[j] as number)));
      const sd = std(imputed);
      numeric[f.name] = { median: med, mean: mean(imputed), std: sd > 0 ? sd : 1 };
      features.push({
        name: f.name,
        type: "number",
        source: f.source,
        min: Math.min(...vals),
        max: Math.max(...vals),
      });
      encodedFeatures.push(f.name);
      drift[f.name] = numberDrift(vals);
    } else {
      const vals = present as string[];
      const categories = [...new Set(vals)].sort();
      categorical[f.name] = { categories, mode: mode(vals) };
      features.push({ name: f.name, type: "category", source: f.source, categories });
      for (const c of categories) encodedFeatures.push(encodedCategoryName(f.name, c));
      drift[f.name] = categoryDrift(vals, categories);
    }
  });

  /** Imputes a split into validated feature columns (the serving input format). */
  const toColumns = (split: readonly Row[]) => ({
    rows: split.length,
    columns: spec.features.map((f, j) =>
      f.type === "number"
        ? split.map((r) => (r.x[j] === null ? numeric[f.name].median : (r.x[j] as number)))
        : split.map((r) => {
            const v = r.x[j] as string | null;
            return v !== null && categorical[f.name].categories.includes(v)
              ? v
              : categorical[f.name].mode;
          }),
    ),
  });
  const encode = (split: readonly Row[]): number[][] => {
    const cols = toColumns(split);
    return split.map((_, i) => {
      const out: number[] = [];
      spec.features.forEach((f, j) => {
        if (f.type === "number") {
          const p = numeric[f.name];
          out.push(((cols.columns[j][i] as number) - p.mean) / p.std);
        } else {
          for (const c of categorical[f.name].categories)
            out.push(cols.columns[j][i] === c ? 1 : 0);
        }
      });
      return out;
    });
  };

  const preprocessing: Preprocessing = {
    missingValuePolicy: MISSING_VALUE_POLICY,
    numeric,
    categorical,
    encodedFeatures,
  };
  const pkg = packageInfo();
  const base = {
    schemaVersion: ARTIFACT_SCHEMA_VERSION,
    name: spec.modelName,
    version: options.version,
    description: spec.description,
    features,
    target: spec.target,
    preprocessing,
    codeVersion: { package: pkg.name, version: pkg.version, gitSha: options.gitSha ?? null },
    createdAt: options.createdAt ?? new Date().toISOString(),
    drift,
  };
  const training = (hyperparameters: Record<string, number>) => ({
    dataset: data.dataset,
    dataFile: data.dataFile,
    dataSha256: data.sha256,
    seed: options.seed,
    testFraction: options.testFraction,
    rowsTotal: data.records.length,
    rowsDropped: data.records.length - rows.length,
    rowsTrain: train.length,
    rowsTest: test.length,
    hyperparameters,
  });

  const xTrain = encode(train);
  const testColumns = toColumns(test);
  if (spec.kind === "regression") {
    const w = ridgeFit(
      xTrain,
      train.map((r) => r.y as number),
      options.ridgeLambda,
    );
    const draft: RegressionArtifact = {
      ...base,
      kind: "regression",
      weights: { intercept: w[0], coefficients: w.slice(1) },
      metrics: {},
      training: training({ ridgeLambda: options.ridgeLambda }),
    };
    const pred = new Predictor(draft).predict(testColumns);
    if (pred.kind !== "regression") throw new Error("unreachable");
    const yTest = test.map((r) => r.y as number);
    const yTrain = train.map((r) => r.y as number);
    const trainPred = new Predictor(draft).predict(toColumns(train));
    const metrics = {
      rmse: rmse(yTest, pred.values),
      r2: r2(yTest, pred.values),
      trainRmse: rmse(yTrain, trainPred.kind === "regression" ? trainPred.values : []),
    };
    const artifact = validateArtifact({ ...draft, metrics }, spec.modelName);
    return { artifact, gate: { metric: "r2", value: metrics.r2 } };
  }

  const classLabels = [...new Set(train.map((r) => r.y as string))].sort();
  const yIndex = (split: readonly Row[]) => split.map((r) => classLabels.indexOf(r.y as string));
  const m = softmaxFit(xTrain, yIndex(train), classLabels.length, options);
  const draft: ClassificationArtifact = {
    ...base,
    kind: "classification",
    classLabels,
    weights: { intercepts: m.intercepts, coefficients: m.coefficients },
    metrics: {},
    training: training({
      learningRate: options.learningRate,
      l2: options.l2,
      epochs: options.epochs,
    }),
  };
  const pred = new Predictor(draft).predict(testColumns);
  if (pred.kind !== "classification") throw new Error("unreachable");
  const truth = yIndex(test);
  const correct = pred.labels.filter((l, i) => l === test[i].y).length;
  const metrics = {
    accuracy: correct / test.length,
    logLoss: logLoss(
      truth.map((t) => (t < 0 ? 0 : t)),
      pred.probabilities,
    ),
  };
  const artifact = validateArtifact({ ...draft, metrics }, spec.modelName);
  return { artifact, gate: { metric: "accuracy", value: metrics.accuracy } };
}
