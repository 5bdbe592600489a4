import Ajv from "ajv";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { parseConfig } from "../../../infra/config";
import {
  configKeyRows,
  configTableMarkdown,
  readmeWithTable,
  README_FILE,
  SCHEMA_FILE,
  schemaFileText,
  TABLE_BEGIN,
  TABLE_END,
} from "../../../tools/schema";
import { CONFIG_ERRORS, MONITORING_CONFIG_ERRORS } from "../../support/config-errors";
import { REPO_ROOT } from "../../support/program";

const STACKS = ["local", "dev", "prod"] as const;
const committedSchema = () => JSON.parse(fs.readFileSync(SCHEMA_FILE, "utf8"));

function validator() {
  const ajv = new Ajv({ strict: true, allErrors: true });
  // Editors show it as the message of a failed pattern; to ajv it is an annotation.
  ajv.addKeyword("patternErrorMessage");
  return ajv.compile(committedSchema());
}

/** A stack file's document with these `mlops` values. */
const stackDocument = (raw: Record<string, unknown>) => ({
  encryptionsalt: "v1:abc=",
  config: {
    "azure-native:location": "westeurope",
    ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [`mlops:${k}`, v])),
  },
});

describe("generated from infra/config.ts (npm run schema)", () => {
  test("schema/pulumi-stack.schema.json is up to date", () => {
    expect(fs.readFileSync(SCHEMA_FILE, "utf8")).toBe(schemaFileText());
  });

  test("README.md's configuration table is up to date", () => {
    const readme = fs.readFileSync(README_FILE, "utf8");
    expect(readme).toContain(configTableMarkdown());
    expect(readmeWithTable(readme)).toBe(readme);
  });

  test("every key of the schema is in the README's table with its default, and no other", () => {
    const readme = fs.readFileSync(README_FILE, "utf8");
    const table = readme.slice(readme.indexOf(TABLE_BEGIN), readme.indexOf(TABLE_END));
    const documented = new Map(
      [...table.matchAll(/^\| `([\w.]+)` \| (.*?) \|/gm)].map((m) => [m[1], m[2]]),
    );
    const rows = configKeyRows();
    expect([...documented.keys()]).toEqual(rows.map((r) => r.key));
    for (const row of rows)
      expect(`${row.key}: ${documented.get(row.key)}`).toBe(`${row.key}: ${row.default}`);
    // Spot checks that the table says what the program does.
    const defaults = Object.fromEntries(rows.map((r) => [r.key, r.default]));
    expect(defaults).toMatchObject({
      environment: "(required)",
      "azure.trainingPool.minCount": "`0`",
      "app.replicas": "`2` in prod, `1` elsewhere",
      "app.models": '`{"mpg-regressor":"1","penguin-classifier":"1"}`',
      "release.strategy": "`rolling`",
      "monitoring.latencyP99Millis": "`500`",
    });
  });

  test("each stack file names the schema for the YAML language server; VS Code maps the rest", () => {
    for (const stack of STACKS) {
      const first = fs
        .readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")
        .split("\n")[0];
      expect(first).toBe("# yaml-language-server: $schema=./schema/pulumi-stack.schema.json");
    }
    const settings = JSON.parse(
      fs.readFileSync(path.join(REPO_ROOT, ".vscode/settings.json"), "utf8"),
    );
    expect(settings["yaml.schemas"]).toEqual({
      "./schema/pulumi-stack.schema.json": "Pulumi.*.yaml",
    });
  });
});

describe("the JSON Schema of the stack files", () => {
  const validate = validator();
  const errors = () => (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

  test.each(STACKS)("Pulumi.%s.yaml is valid", (stack) => {
    const doc = parse(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8"));
    expect(validate(doc) ? [] : errors()).toEqual([]);
  });

  test("other namespaces and Pulumi's own keys pass; unknown mlops keys and top-level keys do not", () => {
    const local = { environment: "local", image: { ref: "mlops-inference:0.1.0" } };
    const ok = stackDocument(local);
    expect(validate({ ...ok, config: { ...ok.config, "kubernetes:context": "kind-kind" } })).toBe(
      true,
    );
    expect(validate({ ...ok, secretsprovider: "passphrase" })).toBe(true);
    expect(validate({ ...ok, config: { ...ok.config, "mlops:colour": "blue" } })).toBe(false);
    expect(validate({ ...ok, config: { ...ok.config, "mlops:appp": {} } })).toBe(false);
    expect(validate({ ...ok, conifg: {} })).toBe(false);
    expect(validate({ config: { "azure-native:location": "westeurope" } })).toBe(false); // no environment
  });

  /** Documented errors that only the program finds: each rule relates two keys (or adds or
   * compares values). The JSON Schema holds the rules of single keys, as zod declares them; it
   * could express some of these with if/then, but they would be written a second time. */
  const ONLY_THE_PROGRAM: Record<string, string> = {
    "prod with one replica": "depends on mlops:environment",
    "HPA ceiling under the floor": "compares two values (maxReplicas ≥ replicas)",
    "limit under request": "compares two values (limit ≥ request)",
    "missing image ref": "required only when image.build is false",
    "prod by tag": "depends on mlops:environment",
    "ref with build": "forbidden only when image.build is true",
    "prod without TLS": "depends on mlops:environment",
    "azure settings on a local target": "depends on mlops:target",
    "prod on a local target": "relates mlops:environment and mlops:target",
    "a node port on a ClusterIP Service": "depends on app.serviceType",
    "an old stack's IngressClass, now that the Gateway API is the default":
      "depends on ingress.api (and its default)",
    "an Ingress without its class": "required only with ingress.api ingress",
    "an Ingress without its controller's namespace": "required only with ingress.api ingress",
    "a GatewayClass with an Ingress": "forbidden only with ingress.api ingress",
    "A/B weights not adding up": "a sum of values: JSON Schema cannot add",
    "shadow of the serving version": "compares a value with app.models",
    "shadow of a version with all the traffic": "compares a value with app.modelTraffic",
    "managed Prometheus off Azure": "depends on mlops:target",
    "Grafana without managed Prometheus": "depends on monitoring.scraper",
    "operator labels without the operator": "depends on monitoring.scraper",
  };

  const documented = [...CONFIG_ERRORS, ...MONITORING_CONFIG_ERRORS];

  test.each(documented.filter(([name]) => !(name in ONLY_THE_PROGRAM)))(
    "refuses what the program refuses: %s",
    (_name, raw) => {
      expect(validate(stackDocument(raw))).toBe(false);
    },
  );

  test.each(documented.filter(([name]) => name in ONLY_THE_PROGRAM))(
    "only the program refuses: %s",
    (name, raw, message) => {
      expect(ONLY_THE_PROGRAM[name]).toBeTruthy();
      expect(validate(stackDocument(raw)) ? [] : errors()).toEqual([]);
      expect(() => parseConfig(raw)).toThrow(message);
    },
  );

  test("the list of rules only the program checks names documented errors", () => {
    const names = new Set(documented.map(([name]) => name));
    expect(Object.keys(ONLY_THE_PROGRAM).filter((name) => !names.has(name))).toEqual([]);
  });
});

describe("every key's wrong value is named in the house style", () => {
  /** A valid config in which `key` is used (azure keys need the azure target, a canary's keys
   * the canary strategy...). */
  function baseFor(key: string): Record<string, unknown> {
    const local = { environment: "local", image: { ref: "mlops-inference:0.1.0" } };
    if (key.startsWith("azure."))
      return { environment: "dev", target: "azure", image: { build: true } };
    if (key.startsWith("release.canary.")) {
      return { ...local, release: { strategy: "canary", canary: { image: "x:1" } } };
    }
    if (/^release\.(active|blue|green)/.test(key))
      return { ...local, release: { strategy: "blueGreen" } };
    if (key === "monitoring.operatorLabels")
      return { ...local, monitoring: { scraper: "prometheus-operator" } };
    if (key === "monitoring.grafana" || key === "monitoring.actionGroupId") {
      return { environment: "dev", target: "azure", image: { build: true } };
    }
    return local;
  }

  function withValue(raw: Record<string, unknown>, key: string, value: unknown) {
    const copy = structuredClone(raw);
    const parts = key.split(".");
    let at: Record<string, unknown> = copy;
    for (const part of parts.slice(0, -1)) {
      at[part] = { ...((at[part] as Record<string, unknown>) ?? {}) };
      at = at[part] as Record<string, unknown>;
    }
    at[parts[parts.length - 1]] = value;
    return copy;
  }

  test.each(configKeyRows().map((r) => [r.key, r.allowed] as const))("%s", (key, allowed) => {
    const base = baseFor(key);
    expect(() => parseConfig(base)).not.toThrow();
    // A list of objects and a text of no allowed form: wrong for every key (maps included), and
    // in a map, for the value of an allowed name.
    const name = allowed.includes("`mpg-regressor`") ? "mpg-regressor" : "release";
    const entries = allowed.startsWith("map:")
      ? [{ [name]: [{ not: "this" }] }, { [name]: 7 }]
      : [];
    for (const wrong of [[{ not: "this" }], "§ not this §", ...entries]) {
      const raw = withValue(base, key, wrong);
      let message = "";
      try {
        parseConfig(raw);
      } catch (err) {
        message = (err as Error).message;
      }
      // The key itself (or, in a map, the entry), what was received, and what is allowed.
      expect(message).toMatch(
        new RegExp(`^mlops:${key.replace(/\./g, "\\.")}(\\.[^:]+)?: got .+; `),
      );
      expect(message).not.toMatch(/Invalid (input|option)|Too (small|big)|Unrecognized key/);
    }
  });
});
