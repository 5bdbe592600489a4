/**
 * The monitoring of a stack as plain files, for a Prometheus that no operator manages (the
 * real-pod e2e suite, a laptop, promtool): `prometheus.yml` (scrape config + rule file),
 * `rules.yml` (the same rules as the PrometheusRule and the Azure rule groups) and
 * `dashboard.json` (import into any Grafana). Pure: `npm run monitoring` writes them.
 */
import { stringify } from "yaml";
import type { PlatformConfig } from "../config";
import { releaseTracks } from "../k8s/release";
import { modelHealthDashboard } from "./dashboard";
import { dashboardInputs, ruleInputs } from "./inputs";
import { alertRules, prometheusRuleGroups, RuleGroup } from "./rules";
import { prometheusScrapeConfig } from "./scrape";

export const RULES_FILE = "rules.yml";
export const PROMETHEUS_FILE = "prometheus.yml";
export const DASHBOARD_FILE = "dashboard.json";

export interface MonitoringFilesOptions {
  /** Kubeconfig Prometheus discovers the pods with (when it runs outside the cluster).
   * @default in-cluster service account */
  readonly kubeconfigFile?: string;
  /** Seconds between two rule evaluations. @default the scrape interval */
  readonly evaluationIntervalSeconds?: number;
}

/** The rule groups a stack's config yields (the image does not matter to them). */
export function stackRuleGroups(config: PlatformConfig): RuleGroup[] {
  const deployments = releaseTracks(config, "unused").tracks.map((t) => t.deploymentName);
  return alertRules(ruleInputs(config, deployments));
}

/** File name -> content. */
export function monitoringFiles(
  config: PlatformConfig,
  instance: string,
  opts: MonitoringFilesOptions = {},
): Record<string, string> {
  const interval = config.monitoring.scrapeIntervalSeconds;
  const prometheus = {
    global: {
      scrape_interval: `${interval}s`,
      evaluation_interval: `${opts.evaluationIntervalSeconds ?? interval}s`,
    },
    rule_files: [RULES_FILE],
    scrape_configs: [
      prometheusScrapeConfig(
        { namespace: config.app.namespace, instance, intervalSeconds: interval },
        { kubeconfigFile: opts.kubeconfigFile },
      ),
    ],
  };
  const dump = (doc: unknown) => stringify(doc, { aliasDuplicateObjects: false, lineWidth: 0 });
  return {
    [PROMETHEUS_FILE]: dump(prometheus),
    [RULES_FILE]: dump({ groups: prometheusRuleGroups(stackRuleGroups(config)) }),
    [DASHBOARD_FILE]:
      JSON.stringify(modelHealthDashboard(dashboardInputs(config, instance)), null, 2) + "\n",
  };
}
