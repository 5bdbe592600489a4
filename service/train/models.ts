/**
 * The bundled models: one {@link DatasetSpec} each in {@link DATASETS}, the one list of them. Data
 * only (no imports), so the platform reads it too: infra/config.ts takes its model keys from
 * {@link BUNDLED_MODELS}, `npm run schema` writes the image's `MODEL_PINS` (service/Dockerfile)
 * from it, and the training CLI's help names its entries. tests/unit/infra/models.test.ts fails when
 * anything that lists the models (Pulumi.prod.yaml's pins, the Dockerfile) drifts from it.
 */

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

export const MPG_REGRESSOR = {
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
} as const satisfies DatasetSpec;

export const PENGUIN_CLASSIFIER = {
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
} as const satisfies DatasetSpec;

/** Every bundled model, trained by `npm run train` and shipped in the image. Add a model here. */
export const DATASETS = [
  MPG_REGRESSOR,
  PENGUIN_CLASSIFIER,
] as const satisfies readonly DatasetSpec[];

/** The names of {@link DATASETS}, in its order. */
export const BUNDLED_MODELS: readonly BundledModel[] = DATASETS.map((d) => d.modelName);
export type BundledModel = (typeof DATASETS)[number]["modelName"];
