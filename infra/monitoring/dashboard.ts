/**
 * The model-health dashboard, authored with Grafana's foundation SDK (typed builders, no
 * hand-written JSON): request rate, error ratios and latency percentiles per model and release
 * track, per-feature drift, the A/B split, shadow agreement and training runs. Pure: returns the
 * dashboard's JSON model for Grafana (a ConfigMap for Grafana's sidecar, an import into Azure
 * Managed Grafana, or a file from `npm run monitoring`).
 */
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as prometheus from "@grafana/grafana-foundation-sdk/prometheus";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import type { MonitoringConfig } from "../config";
import { decimal } from "./rules";

export interface DashboardInputs {
  /** Namespace of the inference and training objects. */
  readonly namespace: string;
  /** `app.kubernetes.io/instance` (the stack): part of the uid and title. */
  readonly instance: string;
  /** Name of the training CronJob. */
  readonly cronJob: string;
  readonly thresholds: Pick<
    MonitoringConfig,
    "driftPsiThreshold" | "latencyP99Millis" | "availabilityObjectivePercent"
  >;
}

/** The dashboard's uid: stable per instance, so a re-import replaces it. */
export function dashboardUid(instance: string): string {
  return `mlops-model-health-${instance}`.slice(0, 40);
}

const DATASOURCE: common.DataSourceRef = { type: "prometheus", uid: "${datasource}" };

/** The model-health dashboard's JSON model. */
export function modelHealthDashboard(inputs: DashboardInputs): dashboard.Dashboard {
  const ns = `namespace="${inputs.namespace}"`;
  // Requests that reached a model, narrowed by the dashboard's model and track variables.
  const sel = `${ns},model!="none",model=~"$model",track=~"$track"`;
  const rate = "$__rate_interval";
  const t = inputs.thresholds;

  const query = (expr: string, legend: string) =>
    new prometheus.DataqueryBuilder().expr(expr).legendFormat(legend).datasource(DATASOURCE);
  const graph = (title: string, unit: string, description: string) =>
    new timeseries.PanelBuilder()
      .title(title)
      .description(description)
      .datasource(DATASOURCE)
      .unit(unit)
      .height(8)
      .span(12);
  const withLimit = (panel: timeseries.PanelBuilder, limit: number) =>
    panel
      .thresholds(
        new dashboard.ThresholdsConfigBuilder().mode(dashboard.ThresholdsMode.Absolute).steps([
          { value: null, color: "green" },
          { value: limit, color: "red" },
        ]),
      )
      .thresholdsStyle(
        new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
      );

  const budget = decimal(1 - t.availabilityObjectivePercent / 100);
  const variable = (name: string, label: string, metric: string) =>
    new dashboard.QueryVariableBuilder(name)
      .label(label)
      .datasource(DATASOURCE)
      .query(`label_values(${metric}{${ns}}, ${name})`)
      .refresh(dashboard.VariableRefresh.OnTimeRangeChanged)
      .sort(dashboard.VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue(".*");

  return new dashboard.DashboardBuilder(`Model health (${inputs.instance})`)
    .uid(dashboardUid(inputs.instance))
    .description(
      "The inference service's models: traffic, errors, latency, input drift, A/B and shadow, training. Source: infra/monitoring/dashboard.ts.",
    )
    .tags(["mlops-platform", inputs.instance])
    .readonly()
    .refresh("30s")
    .time({ from: "now-6h", to: "now" })
    .withVariable(
      new dashboard.DatasourceVariableBuilder("datasource").label("Data source").type("prometheus"),
    )
    .withVariable(variable("model", "Model", "inference_model_info"))
    .withVariable(variable("track", "Track", "inference_ready"))
    .withRow(new dashboard.RowBuilder("Traffic, errors, latency"))
    .withPanel(
      graph("Request rate", "reqps", "Requests that reached a model, per model and release track.")
        .withTarget(
          query(
            `sum by (model, track) (rate(inference_http_requests_total{${sel}}[${rate}]))`,
            "{{model}} ({{track}})",
          ),
        )
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)),
    )
    .withPanel(
      withLimit(
        graph(
          "Error ratio (5xx, 4xx)",
          "percentunit",
          `5xx and 4xx answers per model and track. Dashed line: the error budget (${budget} of requests) of the ${t.availabilityObjectivePercent}% objective.`,
        ),
        Number(budget),
      )
        .withTarget(
          query(
            `sum by (model, track) (rate(inference_http_requests_total{${sel},status=~"5.."}[${rate}])) / sum by (model, track) (rate(inference_http_requests_total{${sel}}[${rate}]))`,
            "5xx {{model}} ({{track}})",
          ),
        )
        .withTarget(
          query(
            `sum by (model, track) (rate(inference_http_requests_total{${sel},status=~"4.."}[${rate}])) / sum by (model, track) (rate(inference_http_requests_total{${sel}}[${rate}]))`,
            "4xx {{model}} ({{track}})",
          ),
        ),
    )
    .withPanel(
      withLimit(
        graph(
          "Latency p50 / p90 / p99",
          "s",
          `Request latency percentiles per model and track. Dashed line: the p99 alert bound (${t.latencyP99Millis} ms).`,
        ),
        t.latencyP99Millis / 1000,
      )
        .span(24)
        .targets(
          [0.5, 0.9, 0.99].map((q) =>
            query(
              `histogram_quantile(${q}, sum by (model, track, le) (rate(inference_http_request_duration_seconds_bucket{${sel}}[${rate}])))`,
              `p${Math.round(q * 100)} {{model}} ({{track}})`,
            ),
          ),
        ),
    )
    .withRow(new dashboard.RowBuilder("Drift"))
    .withPanel(
      withLimit(
        graph(
          "Feature drift (PSI)",
          "none",
          `Population stability index of each feature's recent inputs against the training data (highest over pods). Dashed line: the alert threshold (${decimal(t.driftPsiThreshold)}).`,
        ),
        t.driftPsiThreshold,
      ).withTarget(
        query(
          `max by (model, version, feature) (inference_feature_drift_psi{${ns},model=~"$model"})`,
          "{{model}} v{{version}} {{feature}}",
        ),
      ),
    )
    .withPanel(
      graph(
        "Drift window rows",
        "none",
        "Rows in each model version's drift window, per pod.",
      ).withTarget(
        query(
          `inference_drift_window_rows{${ns},model=~"$model",track=~"$track"}`,
          "{{model}} v{{version}} {{pod}}",
        ),
      ),
    )
    .withRow(new dashboard.RowBuilder("A/B and shadow"))
    .withPanel(
      graph(
        "A/B split (answered requests)",
        "percentunit",
        "Share of each model's unversioned requests that each version answered (MODEL_TRAFFIC).",
      )
        .withTarget(
          query(
            `sum by (model, version) (rate(inference_ab_assignments_total{${ns},model=~"$model"}[${rate}])) / ignoring (version) group_left sum by (model) (rate(inference_ab_assignments_total{${ns},model=~"$model"}[${rate}]))`,
            "{{model}} v{{version}}",
          ),
        )
        .stacking(new common.StackingConfigBuilder().mode(common.StackingMode.Normal)),
    )
    .withPanel(
      graph(
        "Shadow agreement (classification) and |diff| (regression)",
        "none",
        "Share of rows whose shadow label agrees with the answer; mean absolute difference per row for regression.",
      )
        .withTarget(
          query(
            `sum by (model, version, primary_version) (rate(inference_shadow_agreement_total{${ns},model=~"$model",agree="true"}[${rate}])) / sum by (model, version, primary_version) (rate(inference_shadow_agreement_total{${ns},model=~"$model"}[${rate}]))`,
            "agree {{model}} v{{version}} vs v{{primary_version}}",
          ),
        )
        .withTarget(
          query(
            `sum by (model, version, primary_version) (rate(inference_shadow_abs_diff_sum{${ns},model=~"$model"}[${rate}])) / sum by (model, version, primary_version) (rate(inference_shadow_abs_diff_count{${ns},model=~"$model"}[${rate}]))`,
            "|diff| {{model}} v{{version}} vs v{{primary_version}}",
          ),
        ),
    )
    .withRow(new dashboard.RowBuilder("Training"))
    .withPanel(
      new stat.PanelBuilder()
        .title("Since the last successful training run")
        .description(`Time since CronJob ${inputs.cronJob} last succeeded (kube-state-metrics).`)
        .datasource(DATASOURCE)
        .unit("s")
        .height(6)
        .span(12)
        .withTarget(
          query(
            `time() - max(kube_cronjob_status_last_successful_time{${ns},cronjob="${inputs.cronJob}"})`,
            "age",
          ),
        ),
    )
    .withPanel(
      graph(
        "Training runs",
        "none",
        `Jobs of CronJob ${inputs.cronJob} that are running, succeeded or failed (kube-state-metrics; a Job is kept for its TTL).`,
      )
        .span(12)
        .height(6)
        .targets(
          (["active", "succeeded", "failed"] as const).map((s) =>
            query(
              `sum(kube_job_status_${s}{${ns}} * on (namespace, job_name) group_left kube_job_owner{${ns},owner_kind="CronJob",owner_name="${inputs.cronJob}"})`,
              s,
            ),
          ),
        ),
    )
    .build();
}
