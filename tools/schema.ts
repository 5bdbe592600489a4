/**
 * `npm run schema`: writes what is generated from the config schema of infra/config.ts:
 *  - schema/pulumi-stack.schema.json, the JSON Schema of a whole `Pulumi.<stack>.yaml` that editors
 *    use (the stack files name it in a `# yaml-language-server: $schema=` line);
 *  - the configuration table of README.md, between its `config-table` markers;
 * and, from the bundled models (service/train/models.ts), the image's MODEL_PINS in service/Dockerfile.
 * tests/unit/tools/schema.test.ts and tests/unit/infra/models.test.ts fail when one is stale.
 */
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { StackConfigSchema, TOP_LEVEL_KEYS } from "../infra/config";
import { dockerfileWithModelPins } from "../infra/models";
import { argsOrExitCode, parseCli, toStderr, toStdout } from "./cli";
import { REPO_ROOT } from "./stack-file";

export const SCHEMA_FILE = path.join(REPO_ROOT, "schema", "pulumi-stack.schema.json");
export const README_FILE = path.join(REPO_ROOT, "README.md");
export const DOCKERFILE = path.join(REPO_ROOT, "service", "Dockerfile");

/** A JSON Schema (draft-07) node, as far as this file reads it. */
export interface JsonSchema {
  [keyword: string]: unknown;
  type?: string;
  description?: string;
  /** A default that depends on another key, in words (see `doc` in infra/config.ts). */
  defaultText?: string;
  /** What a string with a pattern must be, in words (see `text` in infra/config.ts). */
  allowedText?: string;
  default?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
}

/** The `mlops` namespace as JSON Schema, each key with its description, `default` or
 * `defaultText`. Only the rules of single keys are in it: the rules that relate two keys are zod
 * code (crossKeyProblems), which JSON Schema does not receive. */
export function mlopsJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(StackConfigSchema, {
    io: "input",
    target: "draft-07",
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def as {
        type: string;
        defaultValue?: unknown;
        checks?: Array<{ _zod: { def: { pattern?: RegExp } } }>;
      };
      // zod drops the default of a schema that converts text (z.preprocess); put it back.
      if (def.type === "default" && jsonSchema.default === undefined) {
        jsonSchema.default = def.defaultValue;
      }
      for (const check of def.checks ?? []) {
        const pattern = check._zod.def.pattern;
        if (pattern?.flags) {
          throw new Error(`JSON Schema patterns have no flags: ${pattern} would change meaning`);
        }
      }
    },
  }) as JsonSchema;
  delete schema.$schema;
  return schema;
}

/** The JSON Schema of a whole stack file: the `mlops:` keys validated, any other provider's keys
 * (`azure-native:location`, `kubernetes:context`...) allowed, and Pulumi's own top-level keys. */
export function stackFileJsonSchema(): JsonSchema {
  const mlops = documented(mlopsJsonSchema());
  const properties: Record<string, JsonSchema> = {};
  for (const key of TOP_LEVEL_KEYS) properties[`mlops:${key}`] = mlops.properties![key];
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    title: "Pulumi.<stack>.yaml of mlops-platform",
    description:
      "Generated from infra/config.ts by `npm run schema`; do not edit. Rules that relate two keys (prod needs a digest, ...) are checked by the program only.",
    type: "object",
    properties: {
      config: {
        type: "object",
        description: "Stack configuration: `mlops:<key>` is the platform's; other namespaces pass.",
        properties,
        required: (mlops.required ?? []).map((key) => `mlops:${key}`),
        patternProperties: {
          [`^mlops:(?!(${TOP_LEVEL_KEYS.join("|")})$)`]: {
            not: {},
            description: `unknown mlops key; allowed: ${TOP_LEVEL_KEYS.map((k) => `mlops:${k}`).join(", ")}`,
          },
        },
      },
      encryptionsalt: { type: "string", description: "Salt of the passphrase secrets provider." },
      secretsprovider: { type: "string", description: "Secrets provider of the stack." },
      encryptedkey: { type: "string", description: "Data key of a cloud secrets provider." },
      environment: { description: "Pulumi ESC environments the stack imports." },
    },
    required: ["config"],
    additionalProperties: false,
  };
}

/** Our two keywords in the words editors show: `defaultText` at the end of the description,
 * `allowedText` as the message of a pattern that fails (`patternErrorMessage`, which the YAML and
 * JSON language servers of VS Code and others read). */
function documented(node: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  for (const [keyword, value] of Object.entries(node)) {
    if (keyword === "defaultText") continue;
    if (keyword === "allowedText") {
      out.patternErrorMessage = `expected ${String(value)}`;
      continue;
    }
    if (SCHEMA_LISTS.has(keyword) && Array.isArray(value)) {
      out[keyword] = value.map((v: JsonSchema) => documented(v));
    } else if (SCHEMA_MAPS.has(keyword) && isNode(value)) {
      out[keyword] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [k, documented(v as JsonSchema)]),
      );
    } else if (SCHEMA_VALUED.has(keyword) && isNode(value)) {
      out[keyword] = documented(value);
    } else {
      out[keyword] = value;
    }
  }
  // Several patterns of one key sit in an allOf: each failing one shows the key's message.
  if (out.patternErrorMessage !== undefined && Array.isArray(out.allOf)) {
    out.allOf = out.allOf.map((part: JsonSchema) =>
      part.pattern === undefined ? part : { ...part, patternErrorMessage: out.patternErrorMessage },
    );
  }
  if (node.defaultText !== undefined) {
    out.description = `${node.description ?? ""} Default: ${node.defaultText}.`.trim();
  }
  return out;
}

/** The keywords whose values are schemas (the ones zod writes). */
const SCHEMA_LISTS = new Set(["allOf", "anyOf", "oneOf"]);
const SCHEMA_MAPS = new Set(["properties", "patternProperties"]);
const SCHEMA_VALUED = new Set(["items", "additionalProperties", "propertyNames", "not"]);

const isNode = (v: unknown): v is JsonSchema =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** One row of the README's configuration table: a key whose value is not a section of keys. */
export interface ConfigKeyRow {
  readonly key: string;
  readonly default: string;
  readonly allowed: string;
  readonly description: string;
}

/** Every key of the schema, depth first in declaration order (the order of the README). */
export function configKeyRows(schema = mlopsJsonSchema()): ConfigKeyRow[] {
  const rows: ConfigKeyRow[] = [];
  const walk = (node: JsonSchema, prefix: string, required: readonly string[]) => {
    for (const [name, child] of Object.entries(mergedProperties(node))) {
      const key = prefix + name;
      if (isSection(child)) {
        walk(child, `${key}.`, child.required ?? []);
      } else {
        rows.push({
          key,
          default: defaultOf(child, required.includes(name)),
          allowed: allowedOf(child),
          description: child.description ?? "",
        });
      }
    }
  };
  walk(schema, "", schema.required ?? []);
  return rows;
}

/** An object of fixed keys (not a map of names to values). */
const isSection = (node: JsonSchema) =>
  node.properties !== undefined || node.oneOf?.some((n) => n.properties !== undefined) === true;

/** The keys of an object, or of every variant of a one-of (the release strategies): a key in
 * several variants is documented once, with the values of all of them. */
function mergedProperties(node: JsonSchema): Record<string, JsonSchema> {
  const merged: Record<string, JsonSchema> = { ...node.properties };
  for (const variant of node.oneOf ?? []) {
    for (const [name, child] of Object.entries(variant.properties ?? {})) {
      const seen = merged[name];
      if (seen === undefined) {
        merged[name] = child;
      } else if (seen.const !== undefined && child.const !== undefined) {
        const { const: first, ...rest } = seen.description === undefined ? child : seen;
        merged[name] = { ...rest, enum: [seen.const, child.const], default: seen.default ?? first };
      } else if (seen.enum !== undefined && child.const !== undefined) {
        merged[name] = { ...seen, enum: [...seen.enum, child.const] };
      }
    }
  }
  return merged;
}

function defaultOf(node: JsonSchema, required: boolean): string {
  if (node.defaultText !== undefined) return node.defaultText;
  if (node.default !== undefined) {
    return code(typeof node.default === "string" ? node.default : JSON.stringify(node.default));
  }
  return required ? "(required)" : "none";
}

function allowedOf(node: JsonSchema): string {
  if (node.enum) return node.enum.map((v) => code(String(v))).join(", ");
  if (node.const !== undefined) return code(JSON.stringify(node.const));
  if (node.type === "boolean") return "`true`, `false`";
  if (node.type === "integer" || node.type === "number") {
    const what = node.type === "integer" ? "whole number" : "number";
    return `${what} ${node.minimum}–${node.maximum}`;
  }
  if (node.allowedText !== undefined) return node.allowedText;
  if (node.type === "array") {
    const items = isNode(node.items) ? allowedOf(node.items) : "values";
    return `list of ${items}${node.uniqueItems ? ", each once" : ""}`;
  }
  if (node.type === "object") {
    const names = isNode(node.propertyNames) ? node.propertyNames : {};
    const keys = names.enum
      ? names.enum.map((v) => code(String(v))).join(" / ")
      : (names.allowedText ?? "name");
    const values = isNode(node.additionalProperties) ? allowedOf(node.additionalProperties) : "any";
    return `map: ${keys} → ${values}`;
  }
  return "text";
}

const code = (text: string) => "`" + text.replace(/\|/g, "\\|") + "`";

export const TABLE_BEGIN =
  "<!-- config-table: generated from infra/config.ts by `npm run schema`; do not edit -->";
export const TABLE_END = "<!-- /config-table -->";

export function configTableMarkdown(rows = configKeyRows()): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    "| key | default | allowed | what it does |",
    "| --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| \`${r.key}\` | ${r.default === "none" ? "none" : r.default} | ${r.allowed} | ${cell(r.description)} |`,
    ),
  ].join("\n");
}

/** README.md with its configuration table regenerated. */
export function readmeWithTable(readme: string, table = configTableMarkdown()): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin) {
    throw new Error(`README.md has no ${TABLE_BEGIN} ... ${TABLE_END} section`);
  }
  return readme.slice(0, begin + TABLE_BEGIN.length) + "\n\n" + table + "\n\n" + readme.slice(end);
}

/** The JSON Schema file's text (generated: .prettierignore leaves it as written here). */
export function schemaFileText(): string {
  return JSON.stringify(stackFileJsonSchema(), null, 2) + "\n";
}

export const USAGE = "usage: npm run schema";

/** Runs the CLI (it takes no arguments but --help); returns the exit code. */
export function main(argv: readonly string[], stdout = toStdout, stderr = toStderr): number {
  const args = argsOrExitCode({ name: "schema", usage: USAGE, stdout, stderr }, () =>
    parseCli(argv, { options: {} }).values.help ? "help" : {},
  );
  if (typeof args === "number") return args;
  try {
    fs.mkdirSync(path.dirname(SCHEMA_FILE), { recursive: true });
    fs.writeFileSync(SCHEMA_FILE, schemaFileText());
    fs.writeFileSync(README_FILE, readmeWithTable(fs.readFileSync(README_FILE, "utf8")));
    fs.writeFileSync(DOCKERFILE, dockerfileWithModelPins(fs.readFileSync(DOCKERFILE, "utf8")));
    const keys = configKeyRows().length;
    stdout(
      `schema: wrote ${path.relative(process.cwd(), SCHEMA_FILE)}, the ${keys} keys of README.md's configuration table and service/Dockerfile's MODEL_PINS\n`,
    );
    return 0;
  } catch (err) {
    stderr(`schema: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
