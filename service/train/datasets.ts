import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";

/** A raw value from the data set after cleaning; null means missing. */
export type RawValue = number | string | null;

export interface FeatureSource {
  /** Feature (and inference input) name: an identifier, safe in URLs, HTML ids and JSON. */
  readonly name: string;
  /** Column in the data set. */
  readonly source: string;
  readonly type: "number" | "category";
  /** Turns the raw JSON cell into a value, or null when missing. Defaults per type. */
  readonly parse?: (raw: unknown) => RawValue;
}

export interface DatasetSpec {
  readonly modelName: string;
  readonly description: string;
  readonly kind: "regression" | "classification";
  /** File name under the vega-datasets package's `data/` directory. */
  readonly file: string;
  readonly target: { readonly name: string; readonly source: string };
  readonly features: readonly FeatureSource[];
}

/** Missing numeric cells: null, absent, or anything that is not a finite number. */
export function parseNumber(raw: unknown): number | null {
  return typeof raw === "number" && Number.isFinite(raw) ? raw : null;
}

/** Missing category cells: null, absent, empty, or the placeholder "." used in penguins.json. */
export function parseCategory(raw: unknown): string | null {
  if (typeof raw !== "string") return null;
  const v = raw.trim();
  return v === "" || v === "." ? null : v;
}

/** "1970-01-01" -> 1970 (the model year, as a number). */
export function parseYear(raw: unknown): number | null {
  if (typeof raw === "number" && Number.isFinite(raw)) return raw;
  if (typeof raw !== "string") return null;
  const m = /^(\d{4})/.exec(raw);
  return m ? Number(m[1]) : null;
}

export const MPG_REGRESSOR: DatasetSpec = {
  modelName: "mpg-regressor",
  description: "Ridge regression of fuel economy (miles per gallon) from vega-datasets cars.json.",
  kind: "regression",
  file: "cars.json",
  target: { name: "Miles_per_Gallon", source: "Miles_per_Gallon" },
  features: [
    { name: "Cylinders", source: "Cylinders", type: "number" },
    { name: "Displacement", source: "Displacement", type: "number" },
    { name: "Horsepower", source: "Horsepower", type: "number" },
    { name: "Weight_in_lbs", source: "Weight_in_lbs", type: "number" },
    { name: "Acceleration", source: "Acceleration", type: "number" },
    { name: "Year", source: "Year", type: "number", parse: parseYear },
    { name: "Origin", source: "Origin", type: "category" },
  ],
};

export const PENGUIN_CLASSIFIER: DatasetSpec = {
  modelName: "penguin-classifier",
  description:
    "Multinomial logistic regression of penguin species from vega-datasets penguins.json.",
  kind: "classification",
  file: "penguins.json",
  target: { name: "Species", source: "Species" },
  features: [
    { name: "Beak_Length_mm", source: "Beak Length (mm)", type: "number" },
    { name: "Beak_Depth_mm", source: "Beak Depth (mm)", type: "number" },
    { name: "Flipper_Length_mm", source: "Flipper Length (mm)", type: "number" },
    { name: "Body_Mass_g", source: "Body Mass (g)", type: "number" },
    { name: "Island", source: "Island", type: "category" },
    { name: "Sex", source: "Sex", type: "category" },
  ],
};

export const DATASETS: readonly DatasetSpec[] = [MPG_REGRESSOR, PENGUIN_CLASSIFIER];

/**
 * Directory of the installed vega-datasets package. Its `exports` map hides package.json and
 * data/, so resolve the entry point and walk up to the package root.
 */
export function vegaDatasetsDir(): string {
  let dir = path.dirname(require.resolve("vega-datasets"));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: string;
      };
      if (pkg.name === "vega-datasets") return dir;
    } catch {
      // no package.json here; keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot locate the vega-datasets package root");
    dir = parent;
  }
}

export interface LoadedDataset {
  /** Package and version the data came from, e.g. `vega-datasets@3.2.1`. */
  readonly dataset: string;
  /** Path of the file inside that package, e.g. `data/cars.json`. */
  readonly dataFile: string;
  readonly sha256: string;
  readonly records: readonly Record<string, unknown>[];
}

export function loadDataset(spec: DatasetSpec, packageDir = vegaDatasetsDir()): LoadedDataset {
  const pkg = JSON.parse(readFileSync(path.join(packageDir, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  const file = path.join(packageDir, "data", spec.file);
  const bytes = readFileSync(file);
  const records = JSON.parse(bytes.toString("utf8")) as unknown;
  if (!Array.isArray(records)) throw new Error(`${file}: expected a JSON array of records`);
  return {
    dataset: `${pkg.name}@${pkg.version}`,
    dataFile: `data/${spec.file}`,
    sha256: createHash("sha256").update(bytes).digest("hex"),
    records,
  };
}
