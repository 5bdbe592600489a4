/**
 * The monitoring inputs of a platform config: one derivation, used by the in-cluster chart, the
 * Azure rule groups and `npm run monitoring`, so all three render the same rules.
 */
import type { PlatformConfig } from "../config";
import { TrainingChart } from "../k8s/training-chart";
import type { DashboardInputs } from "./dashboard";
import type { RuleInputs } from "./rules";

/** Name of the training CronJob. */
export const TRAINING_CRONJOB = TrainingChart.NAME;

/** Rule inputs for `config`; `deployments` are the inference Deployments (see releaseTracks). */
export function ruleInputs(config: PlatformConfig, deployments: readonly string[]): RuleInputs {
  const m = config.monitoring;
  return {
    namespace: config.app.namespace,
    deployments,
    cronJob: TRAINING_CRONJOB,
    trainingSuspended: config.training.suspend,
    thresholds: {
      driftPsiThreshold: m.driftPsiThreshold,
      driftForMinutes: m.driftForMinutes,
      availabilityObjectivePercent: m.availabilityObjectivePercent,
      clientErrorPercent: m.clientErrorPercent,
      latencyP99Millis: m.latencyP99Millis,
      shadowDisagreementPercent: m.shadowDisagreementPercent,
      shadowMeanAbsDiff: m.shadowMeanAbsDiff,
      trainingMaxAgeHours: m.trainingMaxAgeHours,
    },
  };
}

export function dashboardInputs(config: PlatformConfig, instance: string): DashboardInputs {
  const m = config.monitoring;
  return {
    namespace: config.app.namespace,
    instance,
    cronJob: TRAINING_CRONJOB,
    thresholds: {
      driftPsiThreshold: m.driftPsiThreshold,
      latencyP99Millis: m.latencyP99Millis,
      availabilityObjectivePercent: m.availabilityObjectivePercent,
    },
  };
}
