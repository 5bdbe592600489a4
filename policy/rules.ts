/**
 * Builders that turn a small check function into a CrossGuard policy. A check returns the
 * violation messages (one per problem); it may call `notApplicable(reason)` to skip with a reason
 * (the engine records it; nothing is reported).
 */
import type {
  EnforcementLevel,
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { PackSettings, SettingName, settingsFor, SettingsOf } from "./config";
import { Props } from "./values";
import { Workload, workloadOf } from "./workloads";

/** What every policy states about itself. `enforcementLevel` is always explicit. */
export interface PolicyInfo {
  readonly name: string;
  readonly description: string;
  readonly enforcementLevel: Extract<EnforcementLevel, "mandatory" | "advisory">;
  /** What to change when the policy reports a violation. */
  readonly remediationSteps: string;
}

export interface CheckContext<K extends SettingName> {
  readonly type: string;
  readonly name: string;
  readonly props: Props;
  readonly settings: Pick<PackSettings, K>;
  notApplicable(reason: string): never;
}

const noSettings = settingsFor();

function describe<K extends SettingName>(info: PolicyInfo, settings: SettingsOf<K>) {
  const { name, description, enforcementLevel, remediationSteps } = info;
  const schema = Object.keys(settings.configSchema.properties).length > 0;
  return {
    name,
    description,
    enforcementLevel,
    remediationSteps,
    ...(schema ? { configSchema: settings.configSchema } : {}),
  };
}

/** A policy over resources of the given Pulumi types. */
export function resourcePolicy<K extends SettingName = never>(
  info: PolicyInfo,
  types: readonly string[],
  check: (ctx: CheckContext<K>) => readonly string[],
  settings: SettingsOf<K> = noSettings as SettingsOf<K>,
): ResourceValidationPolicy {
  return {
    ...describe(info, settings),
    validateResource: (args: ResourceValidationArgs, reportViolation) => {
      if (!types.includes(args.type)) return;
      const messages = check({
        type: args.type,
        name: args.name,
        props: args.props,
        settings: settings.read(args),
        notApplicable: (reason) => args.notApplicable(reason),
      });
      for (const message of messages) reportViolation(message);
    },
  };
}

/** A policy over every workload (Deployment, StatefulSet, DaemonSet, Job, CronJob, Pod). */
export function workloadPolicy<K extends SettingName = never>(
  info: PolicyInfo,
  check: (w: Workload, ctx: CheckContext<K>) => readonly string[],
  settings: SettingsOf<K> = noSettings as SettingsOf<K>,
): ResourceValidationPolicy {
  return {
    ...describe(info, settings),
    validateResource: (args: ResourceValidationArgs, reportViolation) => {
      const w = workloadOf(args.type, args.props);
      if (w === undefined) return;
      const messages = check(w, {
        type: args.type,
        name: args.name,
        props: args.props,
        settings: settings.read(args),
        notApplicable: (reason) => args.notApplicable(reason),
      });
      for (const message of messages) reportViolation(message);
    },
  };
}

export interface StackViolation {
  readonly message: string;
  /** The resource in violation. */
  readonly urn: string;
}

/** A policy over the whole stack (relations between resources). */
export function stackPolicy<K extends SettingName = never>(
  info: PolicyInfo,
  check: (
    resources: readonly PolicyResource[],
    settings: Pick<PackSettings, K>,
    args: StackValidationArgs,
  ) => readonly StackViolation[],
  settings: SettingsOf<K> = noSettings as SettingsOf<K>,
): StackValidationPolicy {
  return {
    ...describe(info, settings),
    validateStack: (args: StackValidationArgs, reportViolation) => {
      for (const v of check(args.resources, settings.read(args), args)) {
        reportViolation(v.message, v.urn);
      }
    },
  };
}
