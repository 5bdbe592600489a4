/**
 * Promotion: copy what a source stack runs (its image digest and model versions) into the config
 * file of a target stack, as a reviewable diff. Pure functions only; `tools/promote.ts` is the CLI.
 *
 * What moves is exactly two keys of `Pulumi.<to>.yaml`:
 * - `mlops:image` gets `build: false` and `ref: <repo>@sha256:<digest>` (its other keys stay);
 * - `mlops:app.models` gets the source's model versions (every other key of `mlops:app` stays).
 * The file is edited through the `yaml` Document API, so comments, key order and formatting of
 * everything else are kept. The result is validated with `parseConfig` before anything is written.
 */
import { isMap, isScalar, parseDocument, YAMLMap, type Document } from "yaml";
import { ConfigError, isDigestRef, parseConfig, type RawConfig } from "../infra/config";

/** A promotion that must not happen. The message says why and what to do. */
export class PromotionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PromotionError";
  }
}

/** What a stack runs: the image by digest and, when known, the model versions it serves. */
export interface Release {
  /** `<repo>@sha256:<64 hex>`. */
  readonly imageRef: string;
  /** Model name -> version; `undefined` leaves the target's models as they are. */
  readonly models?: Readonly<Record<string, string>>;
}

/** The stack file of a stack, as Pulumi names it. */
export function stackFileName(stack: string): string {
  return `Pulumi.${stack}.yaml`;
}

/**
 * Reads the release out of a source stack's outputs (`pulumi stack output --json`). Refuses when
 * the stack has no deployment, when its image is not pinned by digest, or when the model versions
 * are missing or malformed.
 */
export function releaseFromOutputs(stack: string, outputs: unknown): Release {
  if (
    typeof outputs !== "object" ||
    outputs === null ||
    Array.isArray(outputs) ||
    Object.keys(outputs).length === 0
  ) {
    throw new PromotionError(
      `stack "${stack}" has no deployment: it has no stack outputs. ` +
        `Run \`pulumi up --stack ${stack}\` first.`,
    );
  }
  const o = outputs as Record<string, unknown>;
  if (o.imageRef === undefined || o.imageRef === null || o.imageRef === "") {
    throw new PromotionError(
      `stack "${stack}" has no deployment of the service: its outputs have no imageRef. ` +
        `Run \`pulumi up --stack ${stack}\` first.`,
    );
  }
  const imageRef = requireDigest(o.imageRef, `stack "${stack}" runs image`);
  const models = o.modelVersions;
  if (typeof models !== "object" || models === null || Array.isArray(models)) {
    throw new PromotionError(
      `stack "${stack}" outputs have no modelVersions object (got ${show(models)}); ` +
        `expected { "<model>": "<version>" }.`,
    );
  }
  const versions: Record<string, string> = {};
  for (const [name, version] of Object.entries(models)) {
    if (typeof version !== "string" || version.length === 0) {
      throw new PromotionError(
        `stack "${stack}" outputs modelVersions.${name} = ${show(version)}; expected a version string.`,
      );
    }
    versions[name] = version;
  }
  return { imageRef, models: versions };
}

/** Returns `ref` when it is a digest reference; otherwise refuses, naming what was received. */
export function requireDigest(ref: unknown, what: string): string {
  if (typeof ref !== "string" || !isDigestRef(ref)) {
    throw new PromotionError(
      `${what} ${show(ref)}, which is not a digest reference: ` +
        "only images pinned as <repo>@sha256:<64 hex> are promoted.",
    );
  }
  return ref;
}

/**
 * Writes `release` into the text of a stack file and returns the new text. Validates the target's
 * resulting `mlops` configuration with `parseConfig`; refuses with its message when it fails.
 */
export function applyRelease(stackFileText: string, fileName: string, release: Release): string {
  const doc = parseStackFile(stackFileText, fileName);
  const config = doc.get("config");
  if (!isMap(config)) {
    throw new PromotionError(`${fileName} has no "config:" map; is it a Pulumi stack file?`);
  }

  const image: unknown = config.get("mlops:image", true);
  if (isMap(image)) {
    image.set("build", false);
    image.set("ref", release.imageRef);
  } else {
    config.set("mlops:image", doc.createNode({ build: false, ref: release.imageRef }));
  }

  if (release.models !== undefined) {
    const existing: unknown = config.get("mlops:app", true);
    const app = isMap(existing) ? existing : new YAMLMap();
    if (app !== existing) config.set("mlops:app", app);
    const models: unknown = app.get("models", true);
    if (isMap(models)) {
      for (const item of [...models.items]) {
        const key = isScalar(item.key) ? item.key.value : item.key;
        if (typeof key === "string" && !(key in release.models)) models.delete(key);
      }
      for (const [name, version] of Object.entries(release.models)) models.set(name, version);
    } else {
      app.set("models", doc.createNode({ ...release.models }));
    }
  }

  // Flow collections as people write them (`["1", "2"]`, not the library's `[ "1", "2" ]`), so
  // every line the promotion does not change stays byte-identical.
  const text = doc.toString({ flowCollectionPadding: false });
  validateStackFile(text, fileName);
  return text;
}

/**
 * Validates the `mlops:` namespace of a stack file with `parseConfig`. Throws a
 * {@link PromotionError} carrying the config error when the configuration is invalid.
 */
export function validateStackFile(text: string, fileName: string): void {
  const raw = mlopsValues(parseStackFile(text, fileName));
  try {
    parseConfig(raw);
  } catch (err) {
    if (err instanceof ConfigError) {
      throw new PromotionError(`the promotion would make ${fileName} invalid: ${err.message}`);
    }
    throw err;
  }
}

/** The `mlops:` keys of a stack file, without the namespace, as `parseConfig` takes them. */
export function mlopsValues(doc: Document): RawConfig {
  const js: unknown = doc.toJS();
  const config =
    typeof js === "object" && js !== null && "config" in js
      ? (js as { config: unknown }).config
      : undefined;
  const raw: Record<string, unknown> = {};
  if (typeof config !== "object" || config === null) return raw;
  for (const [key, value] of Object.entries(config)) {
    if (key.startsWith("mlops:")) raw[key.slice("mlops:".length)] = value;
  }
  return raw;
}

function parseStackFile(text: string, fileName: string): Document {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    throw new PromotionError(`${fileName} is not valid YAML: ${doc.errors[0].message}`);
  }
  return doc;
}

/**
 * A unified diff (`diff -u` format, 3 lines of context) of two texts; "" when they are equal.
 * Line-based, via the longest common subsequence: stack files are short.
 */
export function unifiedDiff(
  before: string,
  after: string,
  beforeName: string,
  afterName: string,
  context = 3,
): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  // lcs[i][j] = length of the longest common subsequence of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  type Edit = { kind: " " | "-" | "+"; line: string; ai: number; bi: number };
  const edits: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      edits.push({ kind: " ", line: a[i], ai: i++, bi: j++ });
    } else if (i < a.length && (j === b.length || lcs[i + 1][j] >= lcs[i][j + 1])) {
      edits.push({ kind: "-", line: a[i], ai: i++, bi: j });
    } else {
      edits.push({ kind: "+", line: b[j], ai: i, bi: j++ });
    }
  }

  const out = [`--- ${beforeName}`, `+++ ${afterName}`];
  let k = 0;
  while (k < edits.length) {
    if (edits[k].kind === " ") {
      k++;
      continue;
    }
    // A hunk: from `context` lines before this change to `context` lines after the last change
    // that is separated from the next one by at most 2 × context unchanged lines.
    const start = Math.max(0, k - context);
    let end = k;
    let last = k;
    while (end < edits.length) {
      if (edits[end].kind !== " ") last = end;
      else if (end - last > 2 * context) break;
      end++;
    }
    const stop = Math.min(edits.length, last + context + 1);
    const hunk = edits.slice(start, stop);
    const aCount = hunk.filter((e) => e.kind !== "+").length;
    const bCount = hunk.filter((e) => e.kind !== "-").length;
    const aStart = aCount === 0 ? hunk[0].ai : hunk[0].ai + 1;
    const bStart = bCount === 0 ? hunk[0].bi : hunk[0].bi + 1;
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const e of hunk) out.push(`${e.kind}${e.line}`);
    k = stop;
  }
  return out.join("\n") + "\n";
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${start},${count}`;
}

function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

function show(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}
