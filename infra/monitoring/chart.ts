/**
 * The in-cluster monitoring objects as a cdk8s chart: the PodMonitor of the inference pods and,
 * with the Prometheus Operator, the PrometheusRule and a Grafana dashboard ConfigMap (with AKS
 * managed Prometheus the rules are Azure resources: infra/azure/monitoring.ts). Pure: no Pulumi.
 */
import { ApiObject, Chart } from "cdk8s";
import { Construct } from "constructs";
import { recommendedLabels } from "../k8s/labels";
import type { DashboardInputs } from "./dashboard";
import { modelHealthDashboard } from "./dashboard";
import { prometheusRuleGroups, RuleInputs, alertRules } from "./rules";
import { PodMonitorFlavour, podMonitor } from "./scrape";

/** Label Grafana's dashboard sidecar (kube-prometheus-stack) loads ConfigMaps by. */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;

export interface MonitoringChartProps {
  /** Which PodMonitor API group the cluster's collector reads; the PrometheusRule and the
   * dashboard ConfigMap are rendered only for `prometheus-operator`. */
  readonly flavour: PodMonitorFlavour;
  /** Namespace of the inference pods (and of every object of this chart). */
  readonly namespace: string;
  /** `app.kubernetes.io/instance` (the stack). */
  readonly instance: string;
  /** Seconds between two scrapes. */
  readonly scrapeIntervalSeconds: number;
  readonly rules: RuleInputs;
  readonly dashboard: DashboardInputs;
  /** Extra labels of every object, for the operator's selectors (e.g. `{ release: "kps" }`).
   * @default {} */
  readonly operatorLabels?: Readonly<Record<string, string>>;
}

export class MonitoringChart extends Chart {
  /** Name of the PrometheusRule and of the dashboard ConfigMap. */
  static readonly NAME = "inference";

  constructor(scope: Construct, id: string, props: MonitoringChartProps) {
    super(scope, id, { namespace: props.namespace, disableResourceNameHashes: true });
    const labels = { ...props.operatorLabels, ...recommendedLabels(props.instance, "inference") };

    const monitor = podMonitor(props.flavour, {
      namespace: props.namespace,
      instance: props.instance,
      intervalSeconds: props.scrapeIntervalSeconds,
    });
    new ApiObject(this, "pod-monitor", {
      ...monitor,
      metadata: { ...monitor.metadata, labels },
    });
    if (props.flavour !== "prometheus-operator") return;

    new ApiObject(this, "prometheus-rule", {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: MonitoringChart.NAME, labels },
      spec: { groups: prometheusRuleGroups(alertRules(props.rules)) },
    });
    new ApiObject(this, "dashboard", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: `${MonitoringChart.NAME}-dashboard`,
        labels: { ...labels, ...GRAFANA_DASHBOARD_LABEL },
      },
      data: {
        "model-health.json": JSON.stringify(modelHealthDashboard(props.dashboard), null, 2),
      },
    });
  }
}
