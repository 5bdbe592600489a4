/**
 * Runs policies of the pack the way the CrossGuard engine does, without the engine: config
 * resolved like `ReconcilePolicyPackConfig` (schema defaults, then the stack's config file, then
 * overrides), props wrapped in the engine's unknown-checking proxy, `notApplicable` and
 * `UnknownValueError` turned into outcomes instead of diagnostics. `PolicyPack` is never
 * constructed here (it would start a gRPC server and exit the process).
 */
import * as fs from "fs";
import * as path from "path";
import type {
  EnforcementLevel,
  Policies,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { unknownCheckingProxy, UnknownValueError } from "@pulumi/policy";
import type { Environment, PackConfigFile, PackSettings } from "../../policy/config";

export const POLICY_DIR = path.join(__dirname, "..", "..", "policy");

/** A resource as a test states it: type, name and inputs (the manifest, for Kubernetes). */
export interface StubResource {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
}

/** What one policy made of one resource (or of the stack). */
export interface Outcome {
  /** Messages passed to `reportViolation`, in order. */
  readonly violations: string[];
  /** The reason given to `notApplicable`, when the policy skipped. */
  readonly notApplicable?: string;
  /** The engine's "can't run during preview" message, when a value was unknown. */
  readonly unknown?: string;
}

export interface RunOptions {
  /** Use `policy/config/<stack>.json`; without it, the engine's defaults (no config file). */
  readonly stack?: Environment;
  /** Settings replacing the file's (or the defaults) for this policy. */
  readonly settings?: Partial<PackSettings>;
}

/** The parsed `policy/config/<stack>.json`. */
export function loadPackConfig(stack: Environment): PackConfigFile {
  const text = fs.readFileSync(path.join(POLICY_DIR, "config", `${stack}.json`), "utf8");
  return JSON.parse(text) as PackConfigFile;
}

type AnyPolicy = ResourceValidationPolicy | StackValidationPolicy;

/** A policy's enforcement level and properties, reconciled as the engine does. */
export function resolveConfig(
  policy: AnyPolicy,
  file: PackConfigFile | undefined,
  overrides: Record<string, unknown> = {},
): { enforcementLevel: EnforcementLevel; properties: Record<string, unknown> } {
  const properties: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
    if (typeof schema === "object" && schema.default !== undefined)
      properties[key] = schema.default;
  }
  let enforcementLevel: EnforcementLevel = policy.enforcementLevel ?? "advisory";
  const all = file?.all?.enforcementLevel;
  if (typeof all === "string") enforcementLevel = all as EnforcementLevel;
  const { enforcementLevel: level, ...given } = file?.[policy.name] ?? {};
  if (typeof level === "string") enforcementLevel = level as EnforcementLevel;
  Object.assign(properties, given, overrides);
  return { enforcementLevel, properties };
}

class NotApplicable extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

function typeOf(resourceClass: unknown): string | undefined {
  return (resourceClass as { __pulumiType?: string }).__pulumiType;
}

const OPTS = {
  protect: false,
  ignoreChanges: [],
  aliases: [],
  customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
  additionalSecretOutputs: [],
};

export function urnOf(r: { type: string; name: string }): string {
  return `urn:pulumi:test::mlops-platform::${r.type}::${r.name}`;
}

async function outcomeOf(run: (report: (m: string) => void) => Promise<void>): Promise<Outcome> {
  const violations: string[] = [];
  try {
    await run((message) => violations.push(message));
  } catch (e) {
    if (e instanceof NotApplicable) return { violations, notApplicable: e.reason };
    if (e instanceof UnknownValueError) return { violations, unknown: (e as Error).message };
    throw e;
  }
  return { violations };
}

/** Runs `policy.validateResource` on one resource with stub args. */
export async function validateResource(
  policy: ResourceValidationPolicy,
  resource: StubResource,
  options: RunOptions = {},
): Promise<Outcome> {
  const file = options.stack === undefined ? undefined : loadPackConfig(options.stack);
  const { properties } = resolveConfig(policy, file, options.settings);
  const props = unknownCheckingProxy(resource.props) as Record<string, unknown>;
  const args: ResourceValidationArgs = {
    type: resource.type,
    name: resource.name,
    urn: urnOf(resource),
    props,
    opts: OPTS,
    stackTags: new Map(),
    isType: (cls) => typeOf(cls) === resource.type,
    asType: ((cls: unknown) =>
      typeOf(cls) === resource.type ? props : undefined) as ResourceValidationArgs["asType"],
    getConfig: <T extends object>() => properties as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason ?? "");
    },
  };
  const validations = [policy.validateResource ?? []].flat();
  return outcomeOf(async (report) => {
    for (const validate of validations) await validate(args, report);
  });
}

/** A violation a stack policy reported, with the resource it named. */
export interface StackOutcome extends Omit<Outcome, "violations"> {
  readonly violations: { message: string; resource?: string }[];
}

/** Runs `policy.validateStack` over `resources` with stub args. */
export async function validateStack(
  policy: StackValidationPolicy,
  resources: readonly StubResource[],
  options: RunOptions = {},
): Promise<StackOutcome> {
  const file = options.stack === undefined ? undefined : loadPackConfig(options.stack);
  const { properties } = resolveConfig(policy, file, options.settings);
  const policyResources: PolicyResource[] = resources.map((r) => {
    const props = unknownCheckingProxy(r.props) as Record<string, unknown>;
    return {
      type: r.type,
      name: r.name,
      urn: urnOf(r),
      props,
      opts: OPTS,
      dependencies: [],
      propertyDependencies: {},
      isType: (cls) => typeOf(cls) === r.type,
      asType: () => undefined,
    };
  });
  const args: StackValidationArgs = {
    resources: policyResources,
    stackTags: new Map(),
    getConfig: <T extends object>() => properties as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason ?? "");
    },
  };
  const violations: { message: string; resource?: string }[] = [];
  const byUrn = new Map(resources.map((r) => [urnOf(r), `${r.type}::${r.name}`]));
  const outcome = await outcomeOf(async () => {
    await policy.validateStack(args, (message, urn) =>
      violations.push({ message, resource: urn === undefined ? undefined : byUrn.get(urn) }),
    );
  });
  return { ...outcome, violations };
}

/** One diagnostic of a whole-pack run. */
export interface Diagnostic {
  readonly policy: string;
  readonly enforcementLevel: EnforcementLevel;
  /** `type::name` of the resource, when there is one. */
  readonly resource?: string;
  readonly message: string;
}

function isStackPolicy(p: AnyPolicy): p is StackValidationPolicy {
  return "validateStack" in p;
}

/**
 * Runs every policy of the pack over `resources` with the config file of `stack`, as
 * `pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json` would:
 * resource policies on each resource, then stack policies once. Policies that could not run for
 * an unknown value are reported as advisory (what the engine does).
 */
export async function runPack(
  policies: Policies,
  resources: readonly StubResource[],
  stack: Environment,
): Promise<Diagnostic[]> {
  const file = loadPackConfig(stack);
  const out: Diagnostic[] = [];
  for (const policy of policies) {
    const { enforcementLevel } = resolveConfig(policy, file);
    if (enforcementLevel === "disabled") continue;
    const push = (message: string, resource?: string, unknown = false) =>
      out.push({
        policy: policy.name,
        enforcementLevel: unknown ? "advisory" : enforcementLevel,
        resource,
        message,
      });
    if (isStackPolicy(policy)) {
      const o = await validateStack(policy, resources, { stack });
      o.violations.forEach((v) => push(v.message, v.resource));
      if (o.unknown !== undefined) push(o.unknown, undefined, true);
      continue;
    }
    for (const r of resources) {
      const o = await validateResource(policy, r, { stack });
      o.violations.forEach((m) => push(m, `${r.type}::${r.name}`));
      if (o.unknown !== undefined) push(o.unknown, `${r.type}::${r.name}`, true);
    }
  }
  return out;
}
