import { Testing } from "cdk8s";
import * as fs from "fs";
import { parse } from "yaml";
import * as path from "path";
import { parseConfig } from "../../../../infra/config";
import { synthManifests } from "../../../../infra/manifests";
import { MonitoringChart } from "../../../../infra/monitoring/chart";
import { dashboardUid, modelHealthDashboard } from "../../../../infra/monitoring/dashboard";
import { monitoringFiles, stackRuleGroups } from "../../../../infra/monitoring/files";
import { dashboardInputs, ruleInputs } from "../../../../infra/monitoring/inputs";
import {
  alertRules,
  alertsOf,
  azurePrometheusRules,
  decimal,
  isoDuration,
  promDuration,
  prometheusRuleGroups,
  RuleInputs,
} from "../../../../infra/monitoring/rules";
import { podMonitor, prometheusScrapeConfig } from "../../../../infra/monitoring/scrape";
import { REPO_ROOT, stackConfig } from "../../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const local = parseConfig(stackConfig("local"));
const inputs: RuleInputs = ruleInputs(local, ["inference"]);
const groups = alertRules(inputs);
const alert = (name: string, rules = alertsOf(groups)) => {
  const hit = rules.find((r) => r.alert === name);
  if (!hit) throw new Error(`no alert ${name}`);
  return hit;
};

const ALERTS = [
  "InferenceErrorBudgetBurnFast",
  "InferenceErrorBudgetBurnSlow",
  "InferenceClientErrorsHigh",
  "InferenceLatencyP99High",
  "InferenceFeatureDrift",
  "InferenceNoReadyReplicas",
  "InferenceAutoscalerAtMax",
  "InferenceMetricsAbsent",
  "InferenceShadowDisagreement",
  "InferenceShadowDivergence",
  "InferenceShadowErrors",
  "TrainingRunTooOld",
  "TrainingRunFailed",
];

describe("alert rules", () => {
  test("three groups; every alert the issue asks for, in order", () => {
    expect(groups.map((g) => g.name)).toEqual([
      "mlops-inference-slo",
      "mlops-inference",
      "mlops-training",
    ]);
    expect(alertsOf(groups).map((a) => a.alert)).toEqual(ALERTS);
  });

  test("drift: PSI per model and feature above the configured threshold for the configured window", () => {
    const drift = alert("InferenceFeatureDrift");
    expect(drift.expr).toBe(
      'max by (namespace, model, feature) (inference_feature_drift_psi{namespace="mlops"}) > 0.2',
    );
    expect(drift.forMinutes).toBe(15);
    const custom = alertRules(
      ruleInputs(
        parseConfig({
          ...stackConfig("local"),
          monitoring: { driftPsiThreshold: 0.35, driftForMinutes: 45 },
        }),
        ["inference"],
      ),
    );
    expect(alert("InferenceFeatureDrift", alertsOf(custom)).expr).toMatch(/> 0\.35$/);
    expect(alert("InferenceFeatureDrift", alertsOf(custom)).forMinutes).toBe(45);
  });

  test("error budget: the SRE workbook's four burn-rate window pairs on the 5xx ratio of a 99.5% objective", () => {
    expect(alert("InferenceErrorBudgetBurnFast").expr).toBe(
      [
        "(",
        "  namespace_model:inference_http_errors_5xx:ratio_rate1h > (14.4 * 0.005)",
        "and",
        "  namespace_model:inference_http_errors_5xx:ratio_rate5m > (14.4 * 0.005)",
        ")",
        "or",
        "(",
        "  namespace_model:inference_http_errors_5xx:ratio_rate6h > (6 * 0.005)",
        "and",
        "  namespace_model:inference_http_errors_5xx:ratio_rate30m > (6 * 0.005)",
        ")",
      ].join("\n"),
    );
    expect(alert("InferenceErrorBudgetBurnSlow").expr).toContain(
      "namespace_model:inference_http_errors_5xx:ratio_rate3d > (1 * 0.005)",
    );
    expect(alert("InferenceErrorBudgetBurnFast").severity).toBe("critical");
    expect(alert("InferenceErrorBudgetBurnSlow").severity).toBe("warning");
    // Every ratio an alert reads is recorded.
    const recorded = groups[0].rules.map((r) => ("record" in r ? r.record : ""));
    for (const a of alertsOf(groups)) {
      for (const ref of a.expr.match(/namespace_model:[a-z0-9_:]+/g) ?? []) {
        expect(recorded).toContain(ref);
      }
    }
  });

  test("the SLI counts only requests that reached a model", () => {
    const fiveMin = groups[0].rules[0] as { record: string; expr: string };
    expect(fiveMin).toEqual({
      record: "namespace_model:inference_http_errors_5xx:ratio_rate5m",
      expr: [
        'sum by (namespace, model) (rate(inference_http_requests_total{namespace="mlops",model!="none",status=~"5.."}[5m]))',
        "/",
        'sum by (namespace, model) (rate(inference_http_requests_total{namespace="mlops",model!="none"}[5m]))',
      ].join("\n"),
    });
  });

  test("latency bound in seconds; replicas and HPA for every release track, regex-escaped", () => {
    expect(alert("InferenceLatencyP99High").expr).toMatch(/\) > 0\.5$/);
    const tracks = alertsOf(
      alertRules({ ...inputs, deployments: ["inference-blue", "inference.green"] }),
    );
    expect(alert("InferenceNoReadyReplicas", tracks).expr).toBe(
      'max by (namespace, deployment) (kube_deployment_status_replicas_ready{namespace="mlops",deployment=~"inference-blue|inference\\\\.green"}) == 0',
    );
    expect(alert("InferenceAutoscalerAtMax", tracks).expr).toContain(
      'horizontalpodautoscaler=~"inference-blue|inference\\\\.green"',
    );
  });

  test("training: stale after the configured age (or never succeeded), failed Jobs of the CronJob only", () => {
    expect(alert("TrainingRunTooOld").expr).toBe(
      [
        'time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{namespace="mlops",cronjob="training"}) > 93600',
        "or",
        "(",
        '  time() - max by (namespace, cronjob) (kube_cronjob_created{namespace="mlops",cronjob="training"}) > 93600',
        "  unless on (namespace, cronjob)",
        '  kube_cronjob_status_last_successful_time{namespace="mlops",cronjob="training"}',
        ")",
      ].join("\n"),
    );
    expect(alert("TrainingRunFailed").expr).toContain('owner_kind="CronJob",owner_name="training"');
    expect(alert("TrainingRunFailed").forMinutes).toBe(0);
  });

  test("a suspended CronJob expects no run: no staleness alert, the failure alert stays", () => {
    const names = alertsOf(alertRules({ ...inputs, trainingSuspended: true })).map((a) => a.alert);
    expect(names).not.toContain("TrainingRunTooOld");
    expect(names).toContain("TrainingRunFailed");
  });

  test("Prometheus rendering: durations, severity label, three annotations", () => {
    const rendered = prometheusRuleGroups(groups);
    const drift = rendered[1].rules.find(
      (r) => "alert" in r && r.alert === "InferenceFeatureDrift",
    );
    expect(drift).toEqual({
      alert: "InferenceFeatureDrift",
      expr: alert("InferenceFeatureDrift").expr,
      for: "15m",
      labels: { severity: "warning" },
      annotations: {
        summary: alert("InferenceFeatureDrift").summary,
        description: alert("InferenceFeatureDrift").description,
        runbook: alert("InferenceFeatureDrift").runbook,
      },
    });
    expect(
      rendered[2].rules.find((r) => "alert" in r && r.alert === "TrainingRunFailed"),
    ).toMatchObject({
      for: "0s",
    });
  });

  test("Azure rendering: ISO 8601 durations, numeric severity, action group only when given", () => {
    const [slo, inference] = groups;
    const rules = azurePrometheusRules(inference);
    expect(rules.find((r) => r.alert === "InferenceErrorBudgetBurnFast")).toMatchObject({
      expression: alert("InferenceErrorBudgetBurnFast").expr,
      for: "PT2M",
      severity: 0,
      enabled: true,
      resolveConfiguration: { autoResolved: true, timeToResolve: "PT10M" },
    });
    expect(rules.find((r) => r.alert === "InferenceFeatureDrift")!.severity).toBe(2);
    expect(rules.every((r) => r.actions === undefined)).toBe(true);
    const id =
      "/subscriptions/s/resourceGroups/rg/providers/microsoft.insights/actionGroups/oncall";
    expect(azurePrometheusRules(inference, id).map((r) => r.actions)).toEqual(
      rules.map(() => [{ actionGroupId: id }]),
    );
    expect(azurePrometheusRules(slo)[0]).toEqual({
      record: "namespace_model:inference_http_errors_5xx:ratio_rate5m",
      expression: (slo.rules[0] as { expr: string }).expr,
      enabled: true,
    });
  });

  test("durations and numbers", () => {
    expect([0, 2, 90, 120, 1440].map(promDuration)).toEqual(["0s", "2m", "90m", "2h", "1d"]);
    expect([0, 2, 90, 120, 1440, 1500].map(isoDuration)).toEqual([
      "PT0M",
      "PT2M",
      "PT1H30M",
      "PT2H",
      "P1D",
      "P1DT1H",
    ]);
    expect(() => promDuration(1.5)).toThrow(
      "a rule duration must be a whole number of minutes, not 1.5",
    );
    expect(decimal(1 - 0.995)).toBe("0.005");
    expect(decimal(1 - 99.99 / 100)).toBe("0.0001");
  });
});

describe("scrape", () => {
  const scrape = { namespace: "mlops", instance: "local", intervalSeconds: 30 };

  test.each([
    ["prometheus-operator", "monitoring.coreos.com/v1"],
    ["azure-managed", "azmonitoring.coreos.com/v1"],
  ] as const)(
    "%s PodMonitor: %s, the inference pods' http port, the track as a label",
    (flavour, api) => {
      expect(podMonitor(flavour, scrape)).toEqual({
        apiVersion: api,
        kind: "PodMonitor",
        metadata: { name: "inference", namespace: "mlops" },
        spec: {
          selector: {
            matchLabels: {
              "app.kubernetes.io/name": "mlops-inference",
              "app.kubernetes.io/instance": "local",
              "app.kubernetes.io/component": "inference",
            },
          },
          namespaceSelector: { matchNames: ["mlops"] },
          podMetricsEndpoints: [
            {
              port: "http",
              path: "/metrics",
              interval: "30s",
              relabelings: [
                {
                  sourceLabels: ["__meta_kubernetes_pod_label_mlops_platform_track"],
                  targetLabel: "track",
                  action: "replace",
                },
              ],
            },
          ],
        },
      });
    },
  );

  test("the plain scrape config selects the same pods and gives the same target labels", () => {
    const c = prometheusScrapeConfig(scrape, { kubeconfigFile: "/tmp/kubeconfig" });
    expect(c.job_name).toBe("mlops/inference");
    expect(c.kubernetes_sd_configs).toEqual([
      {
        role: "pod",
        kubeconfig_file: "/tmp/kubeconfig",
        namespaces: { names: ["mlops"] },
        selectors: [
          {
            role: "pod",
            label:
              "app.kubernetes.io/name=mlops-inference,app.kubernetes.io/instance=local,app.kubernetes.io/component=inference",
          },
        ],
      },
    ]);
    expect(c.relabel_configs[0]).toEqual({
      source_labels: [
        "__meta_kubernetes_pod_label_app_kubernetes_io_name",
        "__meta_kubernetes_pod_label_app_kubernetes_io_instance",
        "__meta_kubernetes_pod_label_app_kubernetes_io_component",
      ],
      regex: "mlops-inference;local;inference",
      action: "keep",
    });
    expect(
      c.relabel_configs.filter((r) => r.action === "replace").map((r) => (r as Obj).target_label),
    ).toEqual(["namespace", "pod", "container", "track"]);
    expect(prometheusScrapeConfig(scrape).kubernetes_sd_configs[0]).not.toHaveProperty(
      "kubeconfig_file",
    );
  });
});

describe("MonitoringChart (Testing.synth)", () => {
  const props = {
    namespace: "mlops",
    instance: "local",
    scrapeIntervalSeconds: 30,
    rules: inputs,
    dashboard: dashboardInputs(local, "local"),
  };

  test("prometheus-operator: PodMonitor, PrometheusRule with every group, dashboard ConfigMap for Grafana's sidecar", () => {
    const objs = Testing.synth(
      new MonitoringChart(Testing.app(), "m", { ...props, flavour: "prometheus-operator" }),
    ) as Obj[];
    expect(objs.map((o) => `${o.apiVersion} ${o.kind}/${o.metadata.name}`)).toEqual([
      "monitoring.coreos.com/v1 PodMonitor/inference",
      "monitoring.coreos.com/v1 PrometheusRule/inference",
      "v1 ConfigMap/inference-dashboard",
    ]);
    expect(objs.every((o) => o.metadata.namespace === "mlops")).toBe(true);
    expect(objs[1].spec.groups).toEqual(prometheusRuleGroups(groups));
    expect(objs[2].metadata.labels.grafana_dashboard).toBe("1");
    expect(JSON.parse(objs[2].data["model-health.json"]).uid).toBe("mlops-model-health-local");
  });

  test("operatorLabels reach every object, for the operator's selectors", () => {
    const objs = Testing.synth(
      new MonitoringChart(Testing.app(), "m", {
        ...props,
        flavour: "prometheus-operator",
        operatorLabels: { release: "kube-prometheus-stack" },
      }),
    ) as Obj[];
    expect(objs.map((o) => o.metadata.labels.release)).toEqual([
      "kube-prometheus-stack",
      "kube-prometheus-stack",
      "kube-prometheus-stack",
    ]);
    // They never replace the recommended labels.
    expect(objs[0].metadata.labels["app.kubernetes.io/name"]).toBe("mlops-inference");
  });

  test("azure-managed: only the azmonitoring PodMonitor (the rules are Azure resources)", () => {
    const objs = Testing.synth(
      new MonitoringChart(Testing.app(), "m", { ...props, flavour: "azure-managed" }),
    ) as Obj[];
    expect(objs.map((o) => `${o.apiVersion} ${o.kind}`)).toEqual([
      "azmonitoring.coreos.com/v1 PodMonitor",
    ]);
  });

  test("the app's manifests carry the chart only when the cluster has a scraper", () => {
    const kinds = (monitoring: Obj) =>
      synthManifests({
        config: parseConfig({ ...stackConfig("local"), monitoring }),
        instance: "local",
        image: "mlops-inference:0.1.0",
      }).map((m) => m.kind);
    expect(kinds({})).not.toContain("PodMonitor");
    expect(kinds({ scraper: "prometheus-operator" })).toEqual(
      expect.arrayContaining(["PodMonitor", "PrometheusRule", "ConfigMap"]),
    );
    // cdk8s `App` keeps chart order: the Namespace still comes first.
    expect(kinds({ scraper: "prometheus-operator" })[0]).toBe("Namespace");
  });
});

describe("dashboard (Grafana foundation SDK)", () => {
  const d = modelHealthDashboard(dashboardInputs(local, "local"));

  test("uid, variables and every panel the issue asks for", () => {
    expect(d.uid).toBe(dashboardUid("local"));
    expect(d.templating?.list?.map((v) => v.name)).toEqual(["datasource", "model", "track"]);
    expect((d.panels ?? []).map((p) => p.title)).toEqual([
      "Traffic, errors, latency",
      "Request rate",
      "Error ratio (5xx, 4xx)",
      "Latency p50 / p90 / p99",
      "Drift",
      "Feature drift (PSI)",
      "Drift window rows",
      "A/B and shadow",
      "A/B split (answered requests)",
      "Shadow agreement (classification) and |diff| (regression)",
      "Training",
      "Since the last successful training run",
      "Training runs",
    ]);
  });

  test("the drift panel draws the alert threshold", () => {
    const drift = (d.panels ?? []).find((p) => p.title === "Feature drift (PSI)") as Obj;
    expect(drift.fieldConfig.defaults.thresholds.steps).toEqual([
      { value: null, color: "green" },
      { value: 0.2, color: "red" },
    ]);
    expect(drift.targets[0].expr).toBe(
      'max by (model, version, feature) (inference_feature_drift_psi{namespace="mlops",model=~"$model"})',
    );
  });
});

describe("one source of truth", () => {
  /** The metric names service/src/metrics/service-metrics.ts registers (prom-client metrics by
   * `name:`, the service's own fast counters and histograms by their first argument). */
  const exported = [
    ...fs
      .readFileSync(path.join(REPO_ROOT, "service/src/metrics/service-metrics.ts"), "utf8")
      .matchAll(/(?:name: |new Fast(?:Counter|Histogram)\(\s*)"(inference_[a-z_]+)"/g),
  ].map((m) => m[1]);

  test("every inference_* series the rules and the dashboard read is one the service exports", () => {
    expect(exported).toHaveLength(15);
    expect(exported).toEqual(
      expect.arrayContaining([
        "inference_http_requests_total",
        "inference_http_request_duration_seconds",
        "inference_predictions_total",
        "inference_feature_drift_psi",
      ]),
    );
    const files = monitoringFiles(local, "local");
    const used = new Set(
      [files["rules.yml"], files["dashboard.json"]].flatMap(
        (t) => t.match(/(?<![:\w])inference_[a-z_]+/g) ?? [],
      ),
    );
    const base = (n: string) => n.replace(/_(bucket|sum|count)$/, "");
    const unknown = [...used].filter((n) => !exported.includes(n) && !exported.includes(base(n)));
    expect(unknown).toEqual([]);
  });

  test("rules.yml is the rule groups the stack deploys; prometheus.yml reads it", () => {
    const files = monitoringFiles(local, "local", { kubeconfigFile: "/k" });
    expect(parse(files["rules.yml"])).toEqual({
      groups: prometheusRuleGroups(stackRuleGroups(local)),
    });
    const prom = parse(files["prometheus.yml"]) as Obj;
    expect(prom.rule_files).toEqual(["rules.yml"]);
    expect(prom.global).toEqual({ scrape_interval: "30s", evaluation_interval: "30s" });
    expect(prom.scrape_configs[0].kubernetes_sd_configs[0].kubeconfig_file).toBe("/k");
  });

  test("docs/monitoring.md has a runbook section for every alert", () => {
    const doc = fs.readFileSync(path.join(REPO_ROOT, "docs/monitoring.md"), "utf8");
    const sections = [...doc.matchAll(/^### (\w+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual(ALERTS);
  });
});
