/**
 * The versioned model artifact (`<dir>/<name>/<version>/model.json`) and its validation.
 * Training writes it; serving refuses to start on one that does not pass `validateArtifact`.
 */

export const ARTIFACT_SCHEMA_VERSION = 1;

export interface NumberFeature {
  readonly name: string;
  readonly type: "number";
  /** Column in the source data set. */
  readonly source: string;
  /** Smallest and largest value seen in the training split. */
  readonly min: number;
  readonly max: number;
}

export interface CategoryFeature {
  readonly name: string;
  readonly type: "category";
  readonly source: string;
  /** The only values accepted at inference time (those seen in the training split). */
  readonly categories: readonly string[];
}

export type FeatureSpec = NumberFeature | CategoryFeature;

export interface Preprocessing {
  /** Human-readable statement of how missing values were handled in training. */
  readonly missingValuePolicy: string;
  /** Per numeric feature: training-split median (imputation), mean and std (standard scaling). */
  readonly numeric: Readonly<Record<string, { median: number; mean: number; std: number }>>;
  /** Per categorical feature: one-hot categories (in column order) and the imputation mode. */
  readonly categorical: Readonly<Record<string, { categories: readonly string[]; mode: string }>>;
  /** Names of the encoded design-matrix columns, in the order of the weights. */
  readonly encodedFeatures: readonly string[];
}

export interface RegressionWeights {
  readonly intercept: number;
  readonly coefficients: readonly number[];
}

export interface ClassificationWeights {
  /** One per class label. */
  readonly intercepts: readonly number[];
  /** [class][encoded feature] */
  readonly coefficients: readonly (readonly number[])[];
}

export type DriftReference =
  | {
      readonly type: "number";
      readonly edges: readonly number[];
      readonly proportions: readonly number[];
    }
  | {
      readonly type: "category";
      readonly categories: readonly string[];
      readonly proportions: readonly number[];
    };

interface ArtifactBase {
  readonly schemaVersion: number;
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly features: readonly FeatureSpec[];
  readonly target: { readonly name: string; readonly source: string };
  readonly preprocessing: Preprocessing;
  readonly metrics: Readonly<Record<string, number>>;
  readonly training: {
    readonly dataset: string;
    readonly dataFile: string;
    /** sha256 (hex) of the raw data file the model was trained on. */
    readonly dataSha256: string;
    readonly seed: number;
    readonly testFraction: number;
    readonly rowsTotal: number;
    readonly rowsDropped: number;
    readonly rowsTrain: number;
    readonly rowsTest: number;
    readonly hyperparameters: Readonly<Record<string, number>>;
  };
  readonly codeVersion: {
    readonly package: string;
    readonly version: string;
    readonly gitSha: string | null;
  };
  readonly createdAt: string;
  /** Per-feature training distribution, the reference for drift (PSI). */
  readonly drift: Readonly<Record<string, DriftReference>>;
}

export interface RegressionArtifact extends ArtifactBase {
  readonly kind: "regression";
  readonly weights: RegressionWeights;
}

export interface ClassificationArtifact extends ArtifactBase {
  readonly kind: "classification";
  readonly classLabels: readonly string[];
  readonly weights: ClassificationWeights;
}

export type ModelArtifact = RegressionArtifact | ClassificationArtifact;

export const MODEL_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const MODEL_VERSION_PATTERN = /^[0-9A-Za-z][0-9A-Za-z._-]{0,62}$/;
export const FEATURE_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export class ArtifactError extends Error {}

type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

class Checker {
  constructor(private readonly where: string) {}

  fail(path: string, msg: string): never {
    throw new ArtifactError(`${this.where}: ${path} ${msg}`);
  }

  obj(v: Json, path: string): Record<string, Json> {
    if (!isObject(v)) this.fail(path, `must be an object, got ${describe(v)}`);
    return v;
  }

  str(v: Json, path: string, pattern?: RegExp): string {
    if (typeof v !== "string" || v.length === 0)
      this.fail(path, `must be a non-empty string, got ${describe(v)}`);
    if (pattern && !pattern.test(v))
      this.fail(path, `must match ${pattern}, got ${JSON.stringify(v)}`);
    return v;
  }

  num(v: Json, path: string): number {
    if (typeof v !== "number" || !Number.isFinite(v))
      this.fail(path, `must be a finite number, got ${describe(v)}`);
    return v;
  }

  arr(v: Json, path: string, length?: number): Json[] {
    if (!Array.isArray(v)) this.fail(path, `must be an array, got ${describe(v)}`);
    if (length !== undefined && v.length !== length) {
      this.fail(path, `must have ${length} elements, got ${v.length}`);
    }
    return v;
  }

  nums(v: Json, path: string, length?: number): number[] {
    return this.arr(v, path, length).map((x, i) => this.num(x, `${path}[${i}]`));
  }

  strs(v: Json, path: string): string[] {
    const out = this.arr(v, path).map((x, i) => this.str(x, `${path}[${i}]`));
    if (new Set(out).size !== out.length) this.fail(path, "must not contain duplicates");
    return out;
  }

  proportions(v: Json, path: string, length: number): number[] {
    const p = this.nums(v, path, length);
    if (p.some((x) => x < 0)) this.fail(path, "must not contain negative proportions");
    const sum = p.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > 1e-6) this.fail(path, `must sum to 1, got ${sum}`);
    return p;
  }
}

function describe(v: Json): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/**
 * Checks an untrusted, parsed JSON document against the artifact contract, including internal
 * consistency (weights vs encoded columns, drift bins vs features). `where` prefixes messages,
 * e.g. the file name. Throws ArtifactError naming the offending field.
 */
export function validateArtifact(doc: Json, where = "artifact"): ModelArtifact {
  const c = new Checker(where);
  const a = c.obj(doc, "document");
  if (a.schemaVersion !== ARTIFACT_SCHEMA_VERSION) {
    c.fail("schemaVersion", `must be ${ARTIFACT_SCHEMA_VERSION}, got ${describe(a.schemaVersion)}`);
  }
  c.str(a.name, "name", MODEL_NAME_PATTERN);
  c.str(a.version, "version", MODEL_VERSION_PATTERN);
  if (typeof a.description !== "string") c.fail("description", "must be a string");
  if (a.kind !== "regression" && a.kind !== "classification") {
    c.fail("kind", `must be "regression" or "classification", got ${describe(a.kind)}`);
  }

  const features = c.arr(a.features, "features");
  if (features.length === 0) c.fail("features", "must not be empty");
  const names = new Set<string>();
  const pre = c.obj(a.preprocessing, "preprocessing");
  if (typeof pre.missingValuePolicy !== "string")
    c.fail("preprocessing.missingValuePolicy", "must be a string");
  const numericPre = c.obj(pre.numeric, "preprocessing.numeric");
  const catPre = c.obj(pre.categorical, "preprocessing.categorical");
  const drift = c.obj(a.drift, "drift");
  let encodedWidth = 0;
  features.forEach((f, i) => {
    const p = `features[${i}]`;
    const fo = c.obj(f, p);
    const name = c.str(fo.name, `${p}.name`, FEATURE_NAME_PATTERN);
    if (names.has(name)) c.fail(`${p}.name`, `duplicates feature ${JSON.stringify(name)}`);
    names.add(name);
    c.str(fo.source, `${p}.source`);
    const d = c.obj(drift[name], `drift.${name}`);
    if (fo.type === "number") {
      const min = c.num(fo.min, `${p}.min`);
      const max = c.num(fo.max, `${p}.max`);
      if (min > max) c.fail(`${p}.min`, `must not exceed max (${min} > ${max})`);
      const np = c.obj(numericPre[name], `preprocessing.numeric.${name}`);
      c.num(np.median, `preprocessing.numeric.${name}.median`);
      c.num(np.mean, `preprocessing.numeric.${name}.mean`);
      const sd = c.num(np.std, `preprocessing.numeric.${name}.std`);
      if (sd <= 0) c.fail(`preprocessing.numeric.${name}.std`, `must be positive, got ${sd}`);
      encodedWidth += 1;
      if (d.type !== "number")
        c.fail(`drift.${name}.type`, `must be "number", got ${describe(d.type)}`);
      const edges = c.nums(d.edges, `drift.${name}.edges`);
      for (let k = 1; k < edges.length; k++) {
        if (edges[k] <= edges[k - 1]) c.fail(`drift.${name}.edges`, "must be strictly ascending");
      }
      c.proportions(d.proportions, `drift.${name}.proportions`, edges.length + 1);
    } else if (fo.type === "category") {
      const cats = c.strs(fo.categories, `${p}.categories`);
      if (cats.length === 0) c.fail(`${p}.categories`, "must not be empty");
      const cp = c.obj(catPre[name], `preprocessing.categorical.${name}`);
      const encCats = c.strs(cp.categories, `preprocessing.categorical.${name}.categories`);
      if (encCats.join("\u0000") !== cats.join("\u0000")) {
        c.fail(`preprocessing.categorical.${name}.categories`, `must equal ${p}.categories`);
      }
      const mode = c.str(cp.mode, `preprocessing.categorical.${name}.mode`);
      if (!cats.includes(mode))
        c.fail(`preprocessing.categorical.${name}.mode`, "must be one of the categories");
      encodedWidth += cats.length;
      if (d.type !== "category")
        c.fail(`drift.${name}.type`, `must be "category", got ${describe(d.type)}`);
      const dc = c.strs(d.categories, `drift.${name}.categories`);
      if (dc.join("\u0000") !== cats.join("\u0000"))
        c.fail(`drift.${name}.categories`, `must equal ${p}.categories`);
      c.proportions(d.proportions, `drift.${name}.proportions`, cats.length);
    } else {
      c.fail(`${p}.type`, `must be "number" or "category", got ${describe(fo.type)}`);
    }
  });

  const encoded = c.strs(pre.encodedFeatures, "preprocessing.encodedFeatures");
  if (encoded.length !== encodedWidth) {
    c.fail(
      "preprocessing.encodedFeatures",
      `must have ${encodedWidth} entries for these features, got ${encoded.length}`,
    );
  }

  const target = c.obj(a.target, "target");
  c.str(target.name, "target.name");
  c.str(target.source, "target.source");

  const w = c.obj(a.weights, "weights");
  if (a.kind === "regression") {
    c.num(w.intercept, "weights.intercept");
    c.nums(w.coefficients, "weights.coefficients", encodedWidth);
  } else {
    const labels = c.strs(a.classLabels, "classLabels");
    if (labels.length < 2)
      c.fail("classLabels", `must have at least 2 labels, got ${labels.length}`);
    c.nums(w.intercepts, "weights.intercepts", labels.length);
    c.arr(w.coefficients, "weights.coefficients", labels.length).forEach((row, k) =>
      c.nums(row, `weights.coefficients[${k}]`, encodedWidth),
    );
  }

  const metrics = c.obj(a.metrics, "metrics");
  for (const [k, v] of Object.entries(metrics)) c.num(v, `metrics.${k}`);

  const t = c.obj(a.training, "training");
  c.str(t.dataset, "training.dataset");
  c.str(t.dataFile, "training.dataFile");
  c.str(t.dataSha256, "training.dataSha256", /^[0-9a-f]{64}$/);
  for (const k of ["seed", "testFraction", "rowsTotal", "rowsDropped", "rowsTrain", "rowsTest"]) {
    c.num(t[k], `training.${k}`);
  }
  const hp = c.obj(t.hyperparameters, "training.hyperparameters");
  for (const [k, v] of Object.entries(hp)) c.num(v, `training.hyperparameters.${k}`);

  const cv = c.obj(a.codeVersion, "codeVersion");
  c.str(cv.package, "codeVersion.package");
  c.str(cv.version, "codeVersion.version");
  if (cv.gitSha !== null) c.str(cv.gitSha, "codeVersion.gitSha");

  const created = c.str(a.createdAt, "createdAt");
  if (Number.isNaN(Date.parse(created)))
    c.fail("createdAt", `must be an ISO-8601 date, got ${JSON.stringify(created)}`);

  for (const k of Object.keys(drift)) {
    if (!names.has(k)) c.fail(`drift.${k}`, "is not a feature of this model");
  }
  return doc as ModelArtifact;
}
