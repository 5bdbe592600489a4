/**
 * The configuration of the policy pack, per stack.
 *
 * CrossGuard configures each policy separately: a config file maps a policy name to its
 * `enforcementLevel` and its own properties, and the engine fills in the `default` of every
 * property of the policy's `configSchema` before validating it. Every setting below is therefore
 * declared once here ({@link SETTINGS_SCHEMA}) and each policy picks the settings it reads with
 * {@link settingsFor}; the per-stack files `config/<stack>.json` are generated from
 * {@link STACK_SETTINGS} and {@link STACK_ENFORCEMENT} by {@link packConfigFile}
 * (`npm run config:write -w policy`), and a test fails when a file drifts from it.
 *
 * Defaults are the strict (prod) values: a preview run without `--policy-pack-config` gets the
 * strictest rules, and the local/dev files relax them explicitly.
 */
import type { EnforcementLevel, Policies, PolicyConfigSchema } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

/** The environments a stack can represent (mirrors `mlops:environment`). */
export const ENVIRONMENTS = ["local", "dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const TAINT_EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"] as const;
export type TaintEffect = (typeof TAINT_EFFECTS)[number];

/** Every setting a policy of the pack can read. */
export interface PackSettings {
  /** The environment of the stack; `prod` turns on the HA and TLS rules. @default "prod" */
  readonly environment: Environment;
  /** Images must be pinned by digest (`repo@sha256:<64 hex>`). @default true (false in local/dev) */
  readonly requireDigest: boolean;
  /** Allow Services of type LoadBalancer (each one is a public IP on AKS). @default false */
  readonly allowLoadBalancer: boolean;
  /** Lowest replica count (or HPA floor) of a prod Deployment. @default 2 */
  readonly minProdReplicas: number;
  /** Tags every taggable Azure resource must carry, with a non-empty value.
   * @default ["environment", "owner"] */
  readonly requiredTags: readonly string[];
  /** Labels every Kubernetes workload must carry on its metadata.
   * @default the five `app.kubernetes.io/*` recommended labels, see {@link RECOMMENDED_LABELS} */
  readonly recommendedLabels: readonly string[];
  /** Node label (and taint key) of the training pool. @default "mlops-platform/pool" */
  readonly trainingPoolLabelKey: string;
  /** Value of that label and taint. @default "training" */
  readonly trainingPoolLabelValue: string;
  /** Effect of the training taint. @default "NoSchedule" */
  readonly trainingTaintEffect: TaintEffect;
}

export type SettingName = keyof PackSettings;

/** The Kubernetes recommended labels the platform puts on every workload. */
export const RECOMMENDED_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/instance",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
] as const;

/** The label that marks a training workload, and its value. */
export const COMPONENT_LABEL = "app.kubernetes.io/component";
export const TRAINING_COMPONENT = "training";

/** The strict defaults; equal to the engine's view of a policy run without a config file. */
export const DEFAULT_SETTINGS: PackSettings = {
  environment: "prod",
  requireDigest: true,
  allowLoadBalancer: false,
  minProdReplicas: 2,
  requiredTags: ["environment", "owner"],
  recommendedLabels: [...RECOMMENDED_LABELS],
  trainingPoolLabelKey: "mlops-platform/pool",
  trainingPoolLabelValue: "training",
  trainingTaintEffect: "NoSchedule",
};

const stringList = (description: string): PolicyConfigJSONSchema => ({
  type: "array",
  items: { type: "string", minLength: 1 },
  uniqueItems: true,
  description,
});

/** The JSON schema of every setting; each policy's `configSchema` is a subset of it. */
export const SETTINGS_SCHEMA: { readonly [K in SettingName]: PolicyConfigJSONSchema } = {
  environment: {
    type: "string",
    enum: [...ENVIRONMENTS],
    description: "Environment of the stack; prod enables the HA and TLS rules.",
  },
  requireDigest: {
    type: "boolean",
    description: "Container images must be pinned by digest (repo@sha256:<64 hex>).",
  },
  allowLoadBalancer: {
    type: "boolean",
    description: "Allow Kubernetes Services of type LoadBalancer.",
  },
  minProdReplicas: {
    type: "integer",
    minimum: 1,
    description: "Lowest replica count (or HPA minReplicas) of a prod Deployment.",
  },
  requiredTags: stringList("Tags every taggable Azure resource must carry."),
  recommendedLabels: stringList("Labels every Kubernetes workload must carry."),
  trainingPoolLabelKey: {
    type: "string",
    minLength: 1,
    description: "Node label and taint key of the training pool.",
  },
  trainingPoolLabelValue: {
    type: "string",
    minLength: 1,
    description: "Value of the training pool label and taint.",
  },
  trainingTaintEffect: {
    type: "string",
    enum: [...TAINT_EFFECTS],
    description: "Effect of the training taint.",
  },
};

/** What a policy's validation callback receives, reduced to what reading config needs. */
export interface ConfigSource {
  getConfig<T extends object>(): T;
}

/** The settings one policy declares: its `configSchema` and a typed, defaulted reader. */
export interface SettingsOf<K extends SettingName> {
  readonly configSchema: PolicyConfigSchema;
  read(args: ConfigSource): Pick<PackSettings, K>;
}

/**
 * Declares the settings a policy reads. The schema carries the defaults (the engine fills them
 * in); `read` applies them again so the policy also works without the engine, and rejects a value
 * of the wrong type with a message naming the setting.
 */
export function settingsFor<K extends SettingName>(...keys: K[]): SettingsOf<K> {
  const properties: Record<string, PolicyConfigJSONSchema> = {};
  for (const key of keys) {
    properties[key] = { ...SETTINGS_SCHEMA[key], default: jsonDefault(key) };
  }
  return {
    configSchema: { properties },
    read(args: ConfigSource): Pick<PackSettings, K> {
      const given = args.getConfig<Partial<Record<SettingName, unknown>>>();
      const out: Partial<Record<SettingName, unknown>> = {};
      for (const key of keys) {
        const value = given[key] ?? DEFAULT_SETTINGS[key];
        checkSetting(key, value);
        out[key] = value;
      }
      return out as Pick<PackSettings, K>;
    },
  };
}

function jsonDefault(key: SettingName): string | number | boolean | string[] {
  const value = DEFAULT_SETTINGS[key];
  return Array.isArray(value) ? [...value] : (value as string | number | boolean);
}

/** Throws when `value` does not fit the schema of setting `key` (the engine checks this too). */
export function checkSetting(key: SettingName, value: unknown): void {
  const schema = SETTINGS_SCHEMA[key];
  const bad = (what: string): never => {
    throw new Error(`policy setting ${key}: got ${JSON.stringify(value)}; expected ${what}`);
  };
  switch (schema.type) {
    case "boolean":
      if (typeof value !== "boolean") bad("true or false");
      break;
    case "integer":
      if (typeof value !== "number" || !Number.isInteger(value) || value < (schema.minimum ?? 0)) {
        bad(`a whole number of at least ${schema.minimum ?? 0}`);
      }
      break;
    case "array":
      if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v.length > 0)) {
        bad("a list of non-empty strings");
      }
      break;
    default:
      if (typeof value !== "string" || value.length === 0) bad("a non-empty string");
      if (schema.enum !== undefined && !schema.enum.includes(value as string)) {
        bad(`one of ${schema.enum.join(", ")}`);
      }
  }
}

/** The settings of each stack's config file. Unlisted settings keep their defaults. */
export const STACK_SETTINGS: { readonly [E in Environment]: PackSettings } = {
  local: { ...DEFAULT_SETTINGS, environment: "local", requireDigest: false },
  dev: { ...DEFAULT_SETTINGS, environment: "dev", requireDigest: false },
  prod: { ...DEFAULT_SETTINGS, environment: "prod", requireDigest: true },
};

/** Enforcement levels a stack's config file sets over the policy's own level. */
export const STACK_ENFORCEMENT: {
  readonly [E in Environment]: Readonly<Record<string, EnforcementLevel>>;
} = {
  local: { "k8s-recommended-labels": "advisory" },
  dev: { "k8s-recommended-labels": "advisory" },
  prod: {},
};

/** The object of a policy config file (`--policy-pack-config`): policy name -> its config. */
export type PackConfigFile = Record<string, Record<string, unknown>>;

/**
 * The config file of stack `environment`: for every policy, the values of the settings it
 * declares, plus the enforcement level when the stack overrides it.
 */
export function packConfigFile(environment: Environment, policies: Policies): PackConfigFile {
  const settings = STACK_SETTINGS[environment];
  const levels = STACK_ENFORCEMENT[environment];
  const unknownPolicies = Object.keys(levels).filter((n) => !policies.some((p) => p.name === n));
  if (unknownPolicies.length > 0) {
    throw new Error(`STACK_ENFORCEMENT.${environment} names unknown policies: ${unknownPolicies}`);
  }
  const file: PackConfigFile = {};
  for (const policy of policies) {
    const entry: Record<string, unknown> = {};
    const level = levels[policy.name];
    if (level !== undefined) entry.enforcementLevel = level;
    for (const key of Object.keys(policy.configSchema?.properties ?? {})) {
      entry[key] = settings[key as SettingName];
    }
    if (Object.keys(entry).length > 0) file[policy.name] = entry;
  }
  return file;
}
