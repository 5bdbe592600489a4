import type { FeatureSpec, ModelArtifact } from "./artifact";
import { InputError, show } from "./errors";

/** One validated column per feature, in the artifact's feature order; all of length `rows`. */
export interface FeatureColumns {
  readonly rows: number;
  readonly columns: readonly (readonly number[] | readonly string[])[];
}

export const NUMBER_DATATYPES: ReadonlySet<string> = new Set(["FP64", "FP32", "INT64", "INT32"]);
const INT32_MAX = 2 ** 31 - 1;
/** Largest finite 32-bit float. */
const FP32_MAX = 3.4028234663852886e38;

export interface V2InputTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: unknown[];
  parameters?: Record<string, unknown>;
}

function checkRows(rows: number, maxRows: number, what: string): void {
  if (rows === 0) throw new InputError(`empty batch: ${what} has no rows`);
  if (rows > maxRows) {
    throw new InputError(
      `batch too large: ${rows} rows, at most ${maxRows} (MAX_BATCH_ROWS) are accepted`,
    );
  }
}

/** Validates one value for a feature; returns an error phrase or undefined when fine. */
function checkValue(
  f: FeatureSpec,
  v: unknown,
  integer: boolean,
  int32: boolean,
  fp32 = false,
): string | undefined {
  if (f.type === "number") {
    if (typeof v !== "number" || !Number.isFinite(v)) return `expected a number`;
    if (integer && !Number.isInteger(v)) return `expected an integer`;
    if (int32 && Math.abs(v) > INT32_MAX) return `expected a 32-bit integer`;
    if (fp32 && Math.abs(v) > FP32_MAX) return `expected a 32-bit float (FP32)`;
    return undefined;
  }
  if (typeof v !== "string") return `expected a string (one of ${f.categories.join(", ")})`;
  if (!f.categories.includes(v))
    return `unknown category; expected one of ${f.categories.join(", ")}`;
  return undefined;
}

/** Feature name -> index, per artifact (built once). */
const featureIndexes = new WeakMap<ModelArtifact, ReadonlyMap<string, number>>();

function featureIndex(artifact: ModelArtifact): ReadonlyMap<string, number> {
  let index = featureIndexes.get(artifact);
  if (!index) {
    index = new Map(artifact.features.map((f, i) => [f.name, i]));
    featureIndexes.set(artifact, index);
  }
  return index;
}

/**
 * Open Inference Protocol v2 tabular inputs -> feature columns: one tensor per feature, named
 * after it, shape [N] or [N, 1], numeric datatypes for numbers and BYTES for categories.
 * (The hot path of every v2 request: plain loops, no per-request maps or closures.)
 */
export function columnsFromV2(
  artifact: ModelArtifact,
  inputs: readonly V2InputTensor[],
  maxRows: number,
): FeatureColumns {
  const features = artifact.features;
  const index = featureIndex(artifact);
  const byFeature = new Array<V2InputTensor | undefined>(features.length);
  for (let i = 0; i < inputs.length; i++) {
    const t = inputs[i];
    const j = index.get(t.name);
    if (j === undefined) {
      throw new InputError(
        `unknown input ${show(t.name)}; ${artifact.name} expects inputs ${features.map((f) => f.name).join(", ")}`,
      );
    }
    if (byFeature[j] !== undefined) {
      throw new InputError(`input '${t.name}' is given more than once`);
    }
    byFeature[j] = t;
  }
  if (inputs.length < features.length) {
    const missing = features.filter((_f, j) => byFeature[j] === undefined).map((f) => f.name);
    throw new InputError(
      `missing input${missing.length > 1 ? "s" : ""} ${missing.map((m) => `'${m}'`).join(", ")}`,
    );
  }

  let rows = -1;
  let rowsFrom = "";
  const columns = new Array<number[] | string[]>(features.length);
  for (let j = 0; j < features.length; j++) {
    const f = features[j];
    const t = byFeature[j]!;
    const { shape, datatype } = t;
    if (shape.length < 1 || shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
      throw new InputError(`input '${f.name}': shape must be [N] or [N, 1], got ${show(shape)}`);
    }
    const n = shape[0];
    if (!Number.isInteger(n) || n < 0 || (shape.length === 2 && !Number.isInteger(shape[1]))) {
      throw new InputError(
        `input '${f.name}': shape must hold non-negative integers, got ${show(shape)}`,
      );
    }
    const numeric = f.type === "number";
    if (numeric && !NUMBER_DATATYPES.has(datatype)) {
      throw new InputError(
        `input '${f.name}': datatype must be one of FP64, FP32, INT64, INT32 for a number, got ${show(datatype)}`,
      );
    }
    if (!numeric && datatype !== "BYTES") {
      throw new InputError(
        `input '${f.name}': datatype must be BYTES for a category, got ${show(datatype)}`,
      );
    }
    // Data may be flat (row-major) or nested as [[v], [v], ...] for shape [N, 1].
    let data = t.data;
    let nested = false;
    for (let r = 0; r < data.length; r++) {
      if (Array.isArray(data[r])) {
        nested = true;
        break;
      }
    }
    if (nested) {
      if (shape.length !== 2) {
        throw new InputError(
          `input '${f.name}': nested data needs shape [N, 1], got ${show(shape)}`,
        );
      }
      data = data.map((d, r) => {
        if (!Array.isArray(d) || d.length !== 1) {
          throw new InputError(
            `input '${f.name}': row ${r} must be a one-element array for shape [N, 1], got ${show(d)}`,
          );
        }
        return d[0] as unknown;
      });
    }
    if (data.length !== n) {
      throw new InputError(
        `input '${f.name}': shape ${show(shape)} needs ${n} values, but data has ${data.length}`,
      );
    }
    if (rows === -1) {
      rows = n;
      rowsFrom = f.name;
    } else if (n !== rows) {
      throw new InputError(
        `input '${f.name}' has ${n} rows but input '${rowsFrom}' has ${rows}; all inputs need the same N`,
      );
    }
    const integer = datatype === "INT64" || datatype === "INT32";
    const int32 = datatype === "INT32";
    const fp32 = datatype === "FP32";
    for (let r = 0; r < n; r++) {
      const v = data[r];
      // Fast accept of the common case; anything else gets the full check and its message.
      if (numeric && !integer && !fp32 && typeof v === "number" && Number.isFinite(v)) continue;
      const problem = checkValue(f, v, integer, int32, fp32);
      if (problem)
        throw new InputError(`input '${f.name}': ${problem} at row ${r}, got ${show(v)}`);
    }
    columns[j] = data as number[] | string[];
  }
  checkRows(rows, maxRows, "the request");
  return { rows, columns };
}

/**
 * KServe v1 `instances` -> feature columns. Each instance is an object keyed by feature name, or
 * an array of values in the model's feature order.
 */
export function columnsFromV1(
  artifact: ModelArtifact,
  instances: readonly unknown[],
  maxRows: number,
): FeatureColumns {
  checkRows(instances.length, maxRows, "instances");
  const features = artifact.features;
  const columns: unknown[][] = features.map(() => new Array<unknown>(instances.length));
  instances.forEach((inst, r) => {
    if (Array.isArray(inst)) {
      if (inst.length !== features.length) {
        throw new InputError(
          `instance ${r}: expected ${features.length} values (${features.map((f) => f.name).join(", ")}), got ${inst.length}`,
        );
      }
      features.forEach((_f, j) => (columns[j][r] = inst[j]));
    } else if (typeof inst === "object" && inst !== null) {
      const obj = inst as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        if (!features.some((f) => f.name === key)) {
          throw new InputError(
            `instance ${r}: unknown feature ${show(key)}; ${artifact.name} expects ${features.map((f) => f.name).join(", ")}`,
          );
        }
      }
      features.forEach((f, j) => {
        if (!Object.prototype.hasOwnProperty.call(obj, f.name)) {
          throw new InputError(`instance ${r}: missing feature '${f.name}'`);
        }
        columns[j][r] = obj[f.name];
      });
    } else {
      throw new InputError(
        `instance ${r}: expected an object of features or an array of values, got ${show(inst)}`,
      );
    }
  });
  features.forEach((f, j) => {
    const col = columns[j];
    for (let r = 0; r < col.length; r++) {
      const problem = checkValue(f, col[r], false, false);
      if (problem)
        throw new InputError(`instance ${r}, feature '${f.name}': ${problem}, got ${show(col[r])}`);
    }
  });
  return { rows: instances.length, columns: columns as number[][] | string[][] };
}
