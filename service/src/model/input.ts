import type { FeatureSpec, ModelArtifact } from "./artifact";
import type { FeatureColumns } from "./predictor";

/** A client mistake in an inference request; always a 4xx with a message naming the field. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

export const NUMBER_DATATYPES: ReadonlySet<string> = new Set(["FP64", "FP32", "INT64", "INT32"]);
const INT_DATATYPES: ReadonlySet<string> = new Set(["INT64", "INT32"]);
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

/** Short, safe rendering of a client value for an error message. */
export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** A client-supplied name in single quotes, cut to a short prefix. */
export function quote(name: string): string {
  return `'${name.length > 40 ? `${name.slice(0, 37)}...` : name}'`;
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

/**
 * Open Inference Protocol v2 tabular inputs -> feature columns: one tensor per feature, named
 * after it, shape [N] or [N, 1], numeric datatypes for numbers and BYTES for categories.
 */
export function columnsFromV2(
  artifact: ModelArtifact,
  inputs: readonly V2InputTensor[],
  maxRows: number,
): FeatureColumns {
  const byName = new Map<string, V2InputTensor>();
  const featureNames = new Set(artifact.features.map((f) => f.name));
  for (const t of inputs) {
    if (!featureNames.has(t.name)) {
      throw new InputError(
        `unknown input ${show(t.name)}; ${artifact.name} expects inputs ${[...featureNames].join(", ")}`,
      );
    }
    if (byName.has(t.name)) throw new InputError(`input '${t.name}' is given more than once`);
    byName.set(t.name, t);
  }
  const missing = artifact.features.filter((f) => !byName.has(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    throw new InputError(
      `missing input${missing.length > 1 ? "s" : ""} ${missing.map((m) => `'${m}'`).join(", ")}`,
    );
  }

  let rows = -1;
  let rowsFrom = "";
  const columns = artifact.features.map((f) => {
    const t = byName.get(f.name)!;
    const where = `input '${f.name}'`;
    const { shape } = t;
    if (shape.length < 1 || shape.length > 2 || (shape.length === 2 && shape[1] !== 1)) {
      throw new InputError(`${where}: shape must be [N] or [N, 1], got ${show(shape)}`);
    }
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new InputError(`${where}: shape must hold non-negative integers, got ${show(shape)}`);
    }
    const n = shape[0];
    if (f.type === "number" && !NUMBER_DATATYPES.has(t.datatype)) {
      throw new InputError(
        `${where}: datatype must be one of FP64, FP32, INT64, INT32 for a number, got ${show(t.datatype)}`,
      );
    }
    if (f.type === "category" && t.datatype !== "BYTES") {
      throw new InputError(
        `${where}: datatype must be BYTES for a category, got ${show(t.datatype)}`,
      );
    }
    // Data may be flat (row-major) or nested as [[v], [v], ...] for shape [N, 1].
    let data = t.data;
    if (data.some((d) => Array.isArray(d))) {
      if (shape.length !== 2)
        throw new InputError(`${where}: nested data needs shape [N, 1], got ${show(shape)}`);
      data = data.map((d, r) => {
        if (!Array.isArray(d) || d.length !== 1) {
          throw new InputError(
            `${where}: row ${r} must be a one-element array for shape [N, 1], got ${show(d)}`,
          );
        }
        return d[0] as unknown;
      });
    }
    if (data.length !== n) {
      throw new InputError(
        `${where}: shape ${show(shape)} needs ${n} values, but data has ${data.length}`,
      );
    }
    if (rows === -1) {
      rows = n;
      rowsFrom = f.name;
    } else if (n !== rows) {
      throw new InputError(
        `${where} has ${n} rows but input '${rowsFrom}' has ${rows}; all inputs need the same N`,
      );
    }
    const integer = INT_DATATYPES.has(t.datatype);
    const int32 = t.datatype === "INT32";
    const fp32 = t.datatype === "FP32";
    for (let r = 0; r < data.length; r++) {
      const problem = checkValue(f, data[r], integer, int32, fp32);
      if (problem) throw new InputError(`${where}: ${problem} at row ${r}, got ${show(data[r])}`);
    }
    return data as number[] | string[];
  });
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
