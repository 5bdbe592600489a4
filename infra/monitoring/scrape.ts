/**
 * How the inference pods are scraped, from one description rendered two ways: a PodMonitor (the
 * Prometheus Operator's `monitoring.coreos.com/v1`, or AKS managed Prometheus's
 * `azmonitoring.coreos.com/v1`) and a plain Prometheus `scrape_configs` entry (Kubernetes pod
 * discovery) that yields the same target labels. Pure.
 */
import { selectorLabels } from "../k8s/labels";
import { TRACK_LABEL } from "../k8s/inference-chart";

/** The API groups of the two PodMonitor flavours. */
export const POD_MONITOR_API_VERSIONS = {
  "prometheus-operator": "monitoring.coreos.com/v1",
  "azure-managed": "azmonitoring.coreos.com/v1",
} as const;
export type PodMonitorFlavour = keyof typeof POD_MONITOR_API_VERSIONS;

/** The namespace AKS's managed Prometheus (the ama-metrics pods) scrapes from, and so the
 * default `ingress.metricsNamespace` with `monitoring.scraper: azure-managed`. */
export const AZURE_MANAGED_SCRAPER_NAMESPACE = "kube-system";

/** The container port (by name) and path the service exports its metrics on. */
export const METRICS_PORT_NAME = "http";
export const METRICS_PATH = "/metrics";

/** Name of the PodMonitor, and of the scrape job of the plain Prometheus config. */
export const SCRAPE_NAME = "inference";

export interface ScrapeInputs {
  /** Namespace of the inference pods. */
  readonly namespace: string;
  /** `app.kubernetes.io/instance` of the pods (the stack). */
  readonly instance: string;
  /** Seconds between two scrapes. */
  readonly intervalSeconds: number;
}

/** One relabeling step, in Prometheus's own terms (snake_case in a scrape config). */
interface Relabel {
  readonly sourceLabels: readonly string[];
  readonly targetLabel: string;
}

/** The Kubernetes pod label as Prometheus's pod discovery names it. */
export function podLabelMeta(label: string): string {
  return `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

/** Target labels added to every series besides those the Prometheus Operator adds by itself
 * (namespace, pod, container, endpoint, job): the release track, so the dashboard and alerts
 * can tell stable from canary, blue from green. */
const TARGET_RELABELS: readonly Relabel[] = [
  { sourceLabels: [podLabelMeta(TRACK_LABEL)], targetLabel: "track" },
];

/** The labels the Prometheus Operator gives a PodMonitor target; a plain config adds them itself. */
const OPERATOR_RELABELS: readonly Relabel[] = [
  { sourceLabels: ["__meta_kubernetes_namespace"], targetLabel: "namespace" },
  { sourceLabels: ["__meta_kubernetes_pod_name"], targetLabel: "pod" },
  { sourceLabels: ["__meta_kubernetes_pod_container_name"], targetLabel: "container" },
];

/** A PodMonitor for the inference pods of `inputs.instance` (every release track). */
export function podMonitor(flavour: PodMonitorFlavour, inputs: ScrapeInputs) {
  return {
    apiVersion: POD_MONITOR_API_VERSIONS[flavour],
    kind: "PodMonitor",
    metadata: { name: SCRAPE_NAME, namespace: inputs.namespace },
    spec: {
      selector: { matchLabels: selectorLabels(inputs.instance, "inference") },
      namespaceSelector: { matchNames: [inputs.namespace] },
      podMetricsEndpoints: [
        {
          port: METRICS_PORT_NAME,
          path: METRICS_PATH,
          interval: `${inputs.intervalSeconds}s`,
          relabelings: TARGET_RELABELS.map((r) => ({
            sourceLabels: [...r.sourceLabels],
            targetLabel: r.targetLabel,
            action: "replace",
          })),
        },
      ],
    },
  };
}

export interface PrometheusScrapeOptions {
  /** Kubeconfig Prometheus discovers pods with when it runs outside the cluster.
   * @default in-cluster service account */
  readonly kubeconfigFile?: string;
}

/** A Prometheus `scrape_configs` entry equivalent to {@link podMonitor}: same pods, same port,
 * same target labels (namespace, pod, container, track; job = `<namespace>/inference`, as the
 * Operator names a PodMonitor's job). */
export function prometheusScrapeConfig(inputs: ScrapeInputs, opts: PrometheusScrapeOptions = {}) {
  const selector = selectorLabels(inputs.instance, "inference");
  const keys = Object.keys(selector);
  return {
    job_name: `${inputs.namespace}/${SCRAPE_NAME}`,
    scrape_interval: `${inputs.intervalSeconds}s`,
    metrics_path: METRICS_PATH,
    kubernetes_sd_configs: [
      {
        role: "pod",
        ...(opts.kubeconfigFile ? { kubeconfig_file: opts.kubeconfigFile } : {}),
        namespaces: { names: [inputs.namespace] },
        selectors: [{ role: "pod", label: keys.map((k) => `${k}=${selector[k]}`).join(",") }],
      },
    ],
    relabel_configs: [
      // Only the selected pods' metrics port, and only pods that run (as the Operator does).
      {
        source_labels: keys.map(podLabelMeta),
        regex: keys.map((k) => escapeRegex(selector[k])).join(";"),
        action: "keep",
      },
      {
        source_labels: ["__meta_kubernetes_pod_container_port_name"],
        regex: METRICS_PORT_NAME,
        action: "keep",
      },
      {
        source_labels: ["__meta_kubernetes_pod_phase"],
        regex: "(Failed|Succeeded)",
        action: "drop",
      },
      ...[...OPERATOR_RELABELS, ...TARGET_RELABELS].map((r) => ({
        source_labels: [...r.sourceLabels],
        target_label: r.targetLabel,
        action: "replace",
      })),
    ],
  };
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
