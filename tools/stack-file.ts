/**
 * The stack files of the repository (`Pulumi.<stack>.yaml`), read as the tools read them: the
 * `mlops:` values without the namespace, for parseConfig (the program itself gets them from
 * Pulumi's config).
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import type { RawConfig } from "../infra/config";

/** The repository root: where Pulumi.yaml and the stack files are. */
export const REPO_ROOT = path.resolve(__dirname, "..");

/** The stacks that have a stack file in `root`. */
export function stackNames(root = REPO_ROOT): string[] {
  return fs
    .readdirSync(root)
    .filter((f) => /^Pulumi\.[^.]+\.yaml$/.test(f))
    .map((f) => f.slice("Pulumi.".length, -".yaml".length));
}

/** The `mlops:` values of Pulumi.<stack>.yaml, without the namespace. */
export function readStackFile(stack: string, root = REPO_ROOT): RawConfig {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new Error(`no stack file ${file}; stacks here: ${stackNames(root).join(", ")}`);
  }
  const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as {
    config?: Record<string, unknown>;
  };
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc.config ?? {})) {
    if (key.startsWith("mlops:")) raw[key.slice("mlops:".length)] = value;
  }
  return raw;
}
