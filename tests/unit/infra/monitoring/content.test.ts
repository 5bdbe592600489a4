/**
 * What an on-call reader and Grafana get from the monitoring code, beyond the expressions
 * monitoring.test.ts checks: every alert's severity, waiting time and three texts (none empty,
 * none shared, the configured bound in them), thresholds given in percent reaching the
 * expressions as ratios, the Azure rendering's labels and annotations, the dashboard's
 * variables, units, legends and alert lines, the plain scrape config's target labels, and the
 * files `npm run monitoring` writes.
 */
import { parse } from "yaml";
import { parseConfig } from "../../../../infra/config";
import { dashboardUid, modelHealthDashboard } from "../../../../infra/monitoring/dashboard";
import { monitoringFiles } from "../../../../infra/monitoring/files";
import { dashboardInputs, ruleInputs } from "../../../../infra/monitoring/inputs";
import {
  alertRules,
  alertsOf,
  azurePrometheusRules,
  isAlert,
  prometheusRuleGroups,
  promDuration,
} from "../../../../infra/monitoring/rules";
import { prometheusScrapeConfig } from "../../../../infra/monitoring/scrape";
import { stackConfig } from "../../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const raw = stackConfig("local");
const config = parseConfig({
  ...raw,
  monitoring: {
    ...(raw.monitoring as Obj),
    scraper: "prometheus-operator",
    clientErrorPercent: 7,
    shadowDisagreementPercent: 12,
    latencyP99Millis: 350,
    availabilityObjectivePercent: 99.9,
  },
});
const groups = () => alertRules(ruleInputs(config, ["inference", "inference-canary"]));
const alerts = () => alertsOf(groups());

describe("alerts", () => {
  test("severity and waiting time of each: critical only where users are failing now", () => {
    expect(alerts().map((a) => [a.alert, a.severity, a.forMinutes])).toEqual([
      ["InferenceErrorBudgetBurnFast", "critical", 2],
      ["InferenceErrorBudgetBurnSlow", "warning", 15],
      ["InferenceClientErrorsHigh", "warning", 10],
      ["InferenceLatencyP99High", "warning", 10],
      ["InferenceFeatureDrift", "warning", 15],
      ["InferenceNoReadyReplicas", "critical", 5],
      ["InferenceAutoscalerAtMax", "warning", 15],
      ["InferenceMetricsAbsent", "warning", 10],
      ["InferenceShadowDisagreement", "warning", 15],
      ["InferenceShadowDivergence", "warning", 15],
      ["InferenceShadowErrors", "warning", 15],
      ["TrainingRunTooOld", "warning", 10],
      ["TrainingRunFailed", "warning", 0],
    ]);
  });

  test("every alert has its own summary, description and runbook; each names what it is about", () => {
    const all = alerts();
    for (const field of ["summary", "description", "runbook"] as const) {
      const texts = all.map((a) => a[field]);
      expect([field, texts.filter((t) => t.trim().length < 20)]).toEqual([field, []]);
      expect([field, new Set(texts).size]).toEqual([field, all.length]);
    }
    for (const a of all) {
      // The summary says which model, deployment, autoscaler, namespace or job it is about.
      expect([a.alert, /\{\{ \$labels\.\w+ \}\}|mlops|hours/.test(a.summary)]).toEqual([
        a.alert,
        true,
      ]);
      // Alerts on the recording rules inherit the namespace from them.
      if (!a.expr.includes("namespace_model:")) expect(a.expr).toContain('namespace="mlops"');
    }
  });

  test("configured bounds reach the texts and the expressions (percents as ratios)", () => {
    const a = (name: string) => alerts().find((x) => x.alert === name)!;
    expect(a("InferenceLatencyP99High").summary).toBe(
      "{{ $labels.model }}: p99 latency above 350 ms",
    );
    expect(a("InferenceLatencyP99High").expr).toMatch(/ > 0\.35$/);
    expect(a("InferenceClientErrorsHigh").expr).toBe(
      "namespace_model:inference_http_errors_4xx:ratio_rate30m > 0.07\nand\nnamespace_model:inference_http_errors_4xx:ratio_rate5m > 0.07",
    );
    expect(a("InferenceShadowDisagreement").expr).toMatch(/\n> 0\.12$/);
    expect(a("InferenceShadowDisagreement").description).toContain("(threshold 12%)");
    expect(a("InferenceErrorBudgetBurnFast").expr).toContain("(14.4 * 0.001)");
    expect(a("InferenceMetricsAbsent").expr).toBe('absent(inference_ready{namespace="mlops"})');
    expect(a("InferenceMetricsAbsent").summary).toBe("No inference metrics from namespace mlops");
    expect(a("TrainingRunTooOld").summary).toBe("No successful training run for 26 hours");
  });

  test("Prometheus rendering: recording rules carry only record and expr", () => {
    for (const group of prometheusRuleGroups(groups())) {
      for (const rule of group.rules) {
        const keys = Object.keys(rule).sort();
        expect(keys).toEqual(
          "record" in rule ? ["expr", "record"] : ["alert", "annotations", "expr", "for", "labels"],
        );
      }
    }
  });

  test("Azure rendering: the severity label and the three annotations of each alert", () => {
    const azure = groups().flatMap((g) => azurePrometheusRules(g));
    const rendered = azure.filter((r) => r.alert !== undefined);
    const source = alerts();
    expect(rendered.map((r) => r.alert)).toEqual(source.map((a) => a.alert));
    rendered.forEach((r, i) => {
      expect(r.labels).toEqual({ severity: source[i].severity });
      expect(r.annotations).toEqual({
        summary: source[i].summary,
        description: source[i].description,
        runbook: source[i].runbook,
      });
    });
    // Recording rules: the record, the expression, enabled; nothing of an alert.
    const recording = azure.filter((r) => r.alert === undefined);
    const sourceRecords = groups()
      .flatMap((g) => g.rules)
      .filter((r) => !isAlert(r));
    expect(recording).toEqual(
      sourceRecords.map((r) => ({ record: (r as Obj).record, expression: r.expr, enabled: true })),
    );
  });

  test.each([-1, 1.5, Number.NaN])("a duration of %p minutes is refused", (minutes) => {
    expect(() => promDuration(minutes)).toThrow();
  });
});

describe("the dashboard", () => {
  const d = () => modelHealthDashboard(dashboardInputs(config, "local")) as Obj;
  const panels = () => (d().panels as Obj[]).filter((p) => p.type !== "row");

  test("title, tags, refresh, time range; model and track are multi-select with All", () => {
    const dash = d();
    expect([dash.title, dash.tags, dash.refresh, dash.time]).toEqual([
      "Model health (local)",
      ["mlops-platform", "local"],
      "30s",
      { from: "now-6h", to: "now" },
    ]);
    const [source, model, track] = dash.templating.list as Obj[];
    expect([source.type, source.label, source.query]).toEqual([
      "datasource",
      "Data source",
      "prometheus",
    ]);
    for (const [v, label, query] of [
      [model, "Model", 'label_values(inference_model_info{namespace="mlops"}, model)'],
      [track, "Track", 'label_values(inference_ready{namespace="mlops"}, track)'],
    ] as const) {
      expect([v.label, v.query, v.multi, v.includeAll, v.allValue, v.datasource]).toEqual([
        label,
        query,
        true,
        true,
        ".*",
        { type: "prometheus", uid: "${datasource}" },
      ]);
    }
  });

  test("each panel: a description, its unit, the chosen data source, and a legend per query", () => {
    expect(panels().map((p) => [p.title, p.fieldConfig.defaults.unit])).toEqual([
      ["Request rate", "reqps"],
      ["Error ratio (5xx, 4xx)", "percentunit"],
      ["Latency p50 / p90 / p99", "s"],
      ["Feature drift (PSI)", "none"],
      ["Drift window rows", "none"],
      ["A/B split (answered requests)", "percentunit"],
      ["Shadow agreement (classification) and |diff| (regression)", "none"],
      ["Since the last successful training run", "s"],
      ["Training runs", "none"],
    ]);
    expect(panels().flatMap((p) => p.targets.map((t: Obj) => t.legendFormat))).toEqual([
      "{{model}} ({{track}})",
      "5xx {{model}} ({{track}})",
      "4xx {{model}} ({{track}})",
      "p50 {{model}} ({{track}})",
      "p90 {{model}} ({{track}})",
      "p99 {{model}} ({{track}})",
      "{{model}} v{{version}} {{feature}}",
      "{{model}} v{{version}} {{pod}}",
      "{{model}} v{{version}}",
      "agree {{model}} v{{version}} vs v{{primary_version}}",
      "|diff| {{model}} v{{version}} vs v{{primary_version}}",
      "age",
      "active",
      "succeeded",
      "failed",
    ]);
    for (const p of panels()) {
      expect([p.title, (p.description ?? "").length > 20]).toEqual([p.title, true]);
      expect(p.datasource).toEqual({ type: "prometheus", uid: "${datasource}" });
      for (const t of p.targets)
        expect([p.title, t.expr]).toEqual([p.title, expect.stringContaining('namespace="mlops"')]);
    }
    expect(new Set(panels().map((p) => p.description)).size).toBe(panels().length);
  });

  test("the error budget and the latency bound are drawn from the config", () => {
    const byTitle = (t: string) => panels().find((p) => p.title === t)!;
    expect(byTitle("Error ratio (5xx, 4xx)").fieldConfig.defaults.thresholds.steps[1].value).toBe(
      0.001,
    );
    expect(byTitle("Error ratio (5xx, 4xx)").description).toContain(
      "the error budget (0.001 of requests) of the 99.9% objective",
    );
    expect(byTitle("Latency p50 / p90 / p99").fieldConfig.defaults.thresholds.steps[1].value).toBe(
      0.35,
    );
    expect(byTitle("Latency p50 / p90 / p99").description).toContain(
      "the p99 alert bound (350 ms)",
    );
    expect(byTitle("Latency p50 / p90 / p99").targets[2].expr).toMatch(
      /^histogram_quantile\(0\.99, /,
    );
    expect(byTitle("Since the last successful training run").targets[0].expr).toContain(
      'cronjob="training"',
    );
  });

  test("the uid fits Grafana's 40 characters", () => {
    expect(dashboardUid("local")).toBe("mlops-model-health-local");
    expect(dashboardUid("x".repeat(40))).toBe(`mlops-model-health-${"x".repeat(21)}`);
  });
});

describe("the plain scrape config and the files", () => {
  test("every scrape: the interval, only the http port of running pods, four target labels", () => {
    const c = prometheusScrapeConfig({
      namespace: "mlops",
      instance: "local",
      intervalSeconds: 15,
    });
    expect(c.scrape_interval).toBe("15s");
    expect(c.metrics_path).toBe("/metrics");
    expect(c.relabel_configs.slice(1)).toEqual([
      {
        source_labels: ["__meta_kubernetes_pod_container_port_name"],
        regex: "http",
        action: "keep",
      },
      {
        source_labels: ["__meta_kubernetes_pod_phase"],
        regex: "(Failed|Succeeded)",
        action: "drop",
      },
      {
        source_labels: ["__meta_kubernetes_namespace"],
        target_label: "namespace",
        action: "replace",
      },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod", action: "replace" },
      {
        source_labels: ["__meta_kubernetes_pod_container_name"],
        target_label: "container",
        action: "replace",
      },
      {
        source_labels: ["__meta_kubernetes_pod_label_mlops_platform_track"],
        target_label: "track",
        action: "replace",
      },
    ]);
  });

  test("rules.yml: plain YAML (no anchors, no folded lines) covering every Deployment of the release", () => {
    const canary = parseConfig({
      ...raw,
      release: { strategy: "canary", canary: { image: "mlops-inference:0.2.0", weight: 5 } },
    });
    const files = monitoringFiles(canary, "local");
    expect(files["rules.yml"]).not.toMatch(/[&*]a\d/);
    expect(files["rules.yml"]).toContain('deployment=~"inference|inference-canary"');
    const longest = Math.max(...files["rules.yml"].split("\n").map((l) => l.length));
    expect(longest).toBeGreaterThan(120);
    expect(parse(files["rules.yml"]).groups.length).toBeGreaterThan(0);
    expect(files["dashboard.json"].endsWith("}\n")).toBe(true);
    expect(JSON.parse(files["dashboard.json"]).title).toBe("Model health (local)");
  });
});
