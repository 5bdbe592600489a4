import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import type { DatasetSpec } from "./models";

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
