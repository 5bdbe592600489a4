import { readFileSync } from "node:fs";
import * as path from "node:path";

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
  /** Directory holding the service's package.json (works from src/ and from dist/src/). */
  readonly root: string;
}

let cached: PackageInfo | undefined;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "@mlops-platform/service") {
        cached = { name: pkg.name, version: pkg.version ?? "0.0.0", root: dir };
        return cached;
      }
    } catch {
      // keep walking up
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the service package.json above ${__dirname}`);
    dir = parent;
  }
}
