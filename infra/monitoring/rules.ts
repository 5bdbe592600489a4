/**
 * The alert and recording rules of the platform: one source, rendered as a Prometheus rule file
 * (promtool, a plain Prometheus), as a Prometheus Operator `PrometheusRule`, and as Azure
 * Prometheus rule groups (managed Prometheus). Pure: no Pulumi, no cdk8s.
 *
 * Signals: the service's own metrics (service/src/metrics.ts), scraped through the PodMonitor or
 * the scrape config of ./scrape.ts (which add `namespace`, `pod`, `container` and `track`), and
 * kube-state-metrics for what the service cannot say about itself (ready replicas, the HPA, the
 * training CronJob and its Jobs). The training job pushes nothing: no pushgateway to run, and a
 * run that never starts is still seen (its CronJob's last success grows old).
 *
 * Every alert's meaning, threshold rationale and runbook line are in docs/monitoring.md.
 */
import type { MonitoringConfig } from "../config";

export type Severity = "critical" | "warning";

export interface AlertRule {
  /** Alert name (CamelCase, as Prometheus convention has it). */
  readonly alert: string;
  /** PromQL; a series in its result is a firing (or pending) alert. */
  readonly expr: string;
  /** Minutes the expression must hold before the alert fires (0: at once). */
  readonly forMinutes: number;
  /** `critical` pages someone; `warning` opens a ticket. */
  readonly severity: Severity;
  /** One line, may use `{{ $labels.x }}` / `{{ $value }}` templates. */
  readonly summary: string;
  readonly description: string;
  /** What to do first (the full runbook entry is in docs/monitoring.md under the alert's name). */
  readonly runbook: string;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: ReadonlyArray<AlertRule | RecordingRule>;
}

/** What the rules need to know about the deployed platform. */
export interface RuleInputs {
  /** Namespace of the inference and training objects (a label of every scraped series). */
  readonly namespace: string;
  /** Names of the inference Deployments (one per release track); each HPA has the same name. */
  readonly deployments: readonly string[];
  /** Name of the training CronJob. */
  readonly cronJob: string;
  /** The CronJob is suspended: no run is expected, so the "too old" alert is left out. */
  readonly trainingSuspended: boolean;
  readonly thresholds: Omit<
    MonitoringConfig,
    "scraper" | "scrapeIntervalSeconds" | "grafana" | "actionGroupId" | "operatorLabels"
  >;
}

/** Error-budget burn windows (SRE workbook, "Alerting on SLOs", table 5-8): for a 30-day budget,
 * 2 % of it spent in 1 h or 5 % in 6 h pages; 10 % in 1 d or 10 % in 3 d opens a ticket. Each
 * long window is paired with a short one (1/12 of it) so the alert resets soon after a fix. */
export const BURN_RATE_WINDOWS = [
  { severity: "critical", long: "1h", short: "5m", factor: 14.4 },
  { severity: "critical", long: "6h", short: "30m", factor: 6 },
  { severity: "warning", long: "1d", short: "2h", factor: 3 },
  { severity: "warning", long: "3d", short: "6h", factor: 1 },
] as const;

/** The request-ratio windows recorded: every window the burn-rate alerts read. */
export const RATIO_WINDOWS = ["5m", "30m", "1h", "2h", "6h", "1d", "3d"] as const;

export const GROUP_NAMES = {
  slo: "mlops-inference-slo",
  inference: "mlops-inference",
  training: "mlops-training",
} as const;

/** `namespace_model:inference_http_errors_<class>:ratio_rate<window>` */
export function errorRatioRecord(statusClass: "5xx" | "4xx", window: string): string {
  return `namespace_model:inference_http_errors_${statusClass}:ratio_rate${window}`;
}

/** The alert and recording rules for `inputs`, in three groups: SLO recordings, inference
 * alerts, training alerts. */
export function alertRules(inputs: RuleInputs): RuleGroup[] {
  const t = inputs.thresholds;
  const ns = `namespace=${quote(inputs.namespace)}`;
  // Requests that reached a model: health checks, /metrics and unknown routes are not the SLI.
  const requests = `inference_http_requests_total{${ns},model!="none"`;
  const by = "sum by (namespace, model)";
  const ratio = (status: string, w: string) =>
    `${by} (rate(${requests},status=~"${status}"}[${w}]))\n/\n${by} (rate(${requests}}[${w}]))`;

  const slo: RecordingRule[] = [
    ...RATIO_WINDOWS.map((w) => ({ record: errorRatioRecord("5xx", w), expr: ratio("5..", w) })),
    ...(["5m", "30m"] as const).map((w) => ({
      record: errorRatioRecord("4xx", w),
      expr: ratio("4..", w),
    })),
  ];

  const budget = decimal(1 - t.availabilityObjectivePercent / 100);
  const burn = (severity: Severity) =>
    BURN_RATE_WINDOWS.filter((b) => b.severity === severity)
      .map(
        (b) =>
          `(\n  ${errorRatioRecord("5xx", b.long)} > (${b.factor} * ${budget})\nand\n  ${errorRatioRecord("5xx", b.short)} > (${b.factor} * ${budget})\n)`,
      )
      .join("\nor\n");
  const deployments = `deployment=~${quote(inputs.deployments.map(escapeRegex).join("|"))}`;
  const hpas = `horizontalpodautoscaler=~${quote(inputs.deployments.map(escapeRegex).join("|"))}`;
  const clientErrors = decimal(t.clientErrorPercent / 100);
  const latency = decimal(t.latencyP99Millis / 1000);
  const disagreement = decimal(t.shadowDisagreementPercent / 100);
  const shadowBy = "sum by (namespace, model, version, primary_version)";

  const inference: AlertRule[] = [
    {
      alert: "InferenceErrorBudgetBurnFast",
      expr: burn("critical"),
      forMinutes: 2,
      severity: "critical",
      summary: "{{ $labels.model }}: 5xx errors are burning the error budget fast",
      description: `{{ $labels.model }} answers {{ $value | humanizePercentage }} of its requests with 5xx; at this rate the ${t.availabilityObjectivePercent}% availability objective's 30-day budget is gone in days.`,
      runbook:
        "Check the pods' logs for 'request failed' and recent rollouts (canary, new model version); roll back the last change.",
    },
    {
      alert: "InferenceErrorBudgetBurnSlow",
      expr: burn("warning"),
      forMinutes: 15,
      severity: "warning",
      summary: "{{ $labels.model }}: 5xx errors are slowly burning the error budget",
      description: `{{ $labels.model }} answers {{ $value | humanizePercentage }} of its requests with 5xx, enough to spend the ${t.availabilityObjectivePercent}% objective's 30-day budget before the month ends.`,
      runbook:
        "Look for a pattern in the 5xx (one pod, one version, one input shape) on the dashboard; fix it within the week.",
    },
    {
      alert: "InferenceClientErrorsHigh",
      expr: `${errorRatioRecord("4xx", "30m")} > ${clientErrors}\nand\n${errorRatioRecord("4xx", "5m")} > ${clientErrors}`,
      forMinutes: 10,
      severity: "warning",
      summary: "{{ $labels.model }}: many requests rejected with 4xx",
      description: `{{ $value | humanizePercentage }} of {{ $labels.model }}'s requests are answered 4xx (threshold ${t.clientErrorPercent}%): clients send inputs the model's schema rejects.`,
      runbook:
        "Compare the clients' payloads with GET /v2/models/<model> (inputs, datatypes, shapes); a new model version may have changed its inputs.",
    },
    {
      alert: "InferenceLatencyP99High",
      expr: `histogram_quantile(0.99,\n  sum by (namespace, model, le) (rate(inference_http_request_duration_seconds_bucket{${ns},model!="none"}[5m]))\n) > ${latency}`,
      forMinutes: 10,
      severity: "warning",
      summary: "{{ $labels.model }}: p99 latency above " + t.latencyP99Millis + " ms",
      description: `{{ $labels.model }}'s 99th percentile latency is {{ $value | humanizeDuration }} over 5 minutes (bound ${t.latencyP99Millis} ms).`,
      runbook:
        "Check CPU throttling and the HPA (InferenceAutoscalerAtMax); large batches in one request also raise p99.",
    },
    {
      alert: "InferenceFeatureDrift",
      expr: `max by (namespace, model, feature) (inference_feature_drift_psi{${ns}}) > ${decimal(t.driftPsiThreshold)}`,
      forMinutes: t.driftForMinutes,
      severity: "warning",
      summary: "{{ $labels.model }}: input drift on feature {{ $labels.feature }}",
      description: `The population stability index of {{ $labels.model }}'s recent {{ $labels.feature }} inputs against its training data is {{ $value | printf "%.2f" }} (threshold ${decimal(t.driftPsiThreshold)}, highest over versions and pods).`,
      runbook:
        "Compare recent inputs with the training data for this feature; if the shift is real, retrain on recent data and promote the new version.",
    },
    {
      alert: "InferenceNoReadyReplicas",
      expr: `max by (namespace, deployment) (kube_deployment_status_replicas_ready{${ns},${deployments}}) == 0`,
      forMinutes: 5,
      severity: "critical",
      summary: "{{ $labels.deployment }} has no ready replica",
      description:
        "Deployment {{ $labels.namespace }}/{{ $labels.deployment }} has had no ready pod for 5 minutes (kube-state-metrics): its track serves nothing.",
      runbook:
        "kubectl -n {{ $labels.namespace }} describe deployment {{ $labels.deployment }}; look at the pods' events (image pull, readiness probe, model load).",
    },
    {
      alert: "InferenceAutoscalerAtMax",
      expr: `max by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_status_current_replicas{${ns},${hpas}})\n>=\nmax by (namespace, horizontalpodautoscaler) (kube_horizontalpodautoscaler_spec_max_replicas{${ns},${hpas}})`,
      forMinutes: 15,
      severity: "warning",
      summary: "{{ $labels.horizontalpodautoscaler }} runs at its maximum replicas",
      description:
        "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has been at its ceiling for 15 minutes (kube-state-metrics): more load cannot be absorbed.",
      runbook:
        "Raise mlops:app.autoscaling.maxReplicas (and the node pool's maxCount if nodes are full), or find what drives the load.",
    },
    {
      alert: "InferenceMetricsAbsent",
      expr: `absent(inference_ready{${ns}})`,
      forMinutes: 10,
      severity: "warning",
      summary: `No inference metrics from namespace ${inputs.namespace}`,
      description: `No pod of the inference service in ${inputs.namespace} has been scraped for 10 minutes: every other inference alert is blind.`,
      runbook:
        "Check the PodMonitor (or scrape config) targets in Prometheus, the NetworkPolicy's metrics namespace (mlops:ingress.metricsNamespace) and that pods run.",
    },
    {
      alert: "InferenceShadowDisagreement",
      expr: `${shadowBy} (rate(inference_shadow_agreement_total{${ns},agree="false"}[30m]))\n/\n${shadowBy} (rate(inference_shadow_agreement_total{${ns}}[30m]))\n> ${disagreement}`,
      forMinutes: 15,
      severity: "warning",
      summary:
        "{{ $labels.model }}: shadow version {{ $labels.version }} disagrees with {{ $labels.primary_version }}",
      description: `Shadow version {{ $labels.version }} of {{ $labels.model }} gives another label than the answering version {{ $labels.primary_version }} on {{ $value | humanizePercentage }} of rows (threshold ${t.shadowDisagreementPercent}%).`,
      runbook:
        "Do not promote the shadow version as is: compare both versions on recent inputs and their evaluation reports.",
    },
    {
      alert: "InferenceShadowDivergence",
      expr: `${shadowBy} (rate(inference_shadow_abs_diff_sum{${ns}}[30m]))\n/\n${shadowBy} (rate(inference_shadow_abs_diff_count{${ns}}[30m]))\n> ${decimal(t.shadowMeanAbsDiff)}`,
      forMinutes: 15,
      severity: "warning",
      summary:
        "{{ $labels.model }}: shadow version {{ $labels.version }} diverges from {{ $labels.primary_version }}",
      description: `Shadow version {{ $labels.version }} of {{ $labels.model }} differs from the answer of {{ $labels.primary_version }} by {{ $value | printf "%.2f" }} per row on average (bound ${decimal(t.shadowMeanAbsDiff)}).`,
      runbook:
        "Do not promote the shadow version as is: compare both versions' errors on recent labelled data.",
    },
    {
      alert: "InferenceShadowErrors",
      expr: `sum by (namespace, model, version) (rate(inference_shadow_errors_total{${ns}}[15m])) > 0`,
      forMinutes: 15,
      severity: "warning",
      summary: "{{ $labels.model }}: shadow version {{ $labels.version }} fails",
      description:
        "Shadow predictions of {{ $labels.model }} version {{ $labels.version }} have failed for 15 minutes (clients are not affected).",
      runbook:
        "Read the pods' logs for 'shadow prediction failed'; fix or remove the shadow (mlops:app.modelShadow).",
    },
  ];

  const cron = `${ns},cronjob=${quote(inputs.cronJob)}`;
  const maxAge = t.trainingMaxAgeHours * 3600;
  const training: AlertRule[] = [
    ...(inputs.trainingSuspended
      ? []
      : [
          {
            alert: "TrainingRunTooOld",
            expr: `time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{${cron}}) > ${maxAge}\nor\n(\n  time() - max by (namespace, cronjob) (kube_cronjob_created{${cron}}) > ${maxAge}\n  unless on (namespace, cronjob)\n  kube_cronjob_status_last_successful_time{${cron}}\n)`,
            forMinutes: 10,
            severity: "warning" as const,
            summary: `No successful training run for ${t.trainingMaxAgeHours} hours`,
            description: `CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} last succeeded {{ $value | humanizeDuration }} ago, or never (kube-state-metrics); the models are not retrained.`,
            runbook:
              "kubectl -n {{ $labels.namespace }} get jobs,pods -l app.kubernetes.io/component=training; check the training pool can scale up (pending pods) and the last run's logs.",
          },
        ]),
    {
      alert: "TrainingRunFailed",
      expr: `max by (namespace, job_name) (kube_job_failed{${ns},condition="true"}) == 1\nand on (namespace, job_name)\nkube_job_owner{${ns},owner_kind="CronJob",owner_name=${quote(inputs.cronJob)}}`,
      forMinutes: 0,
      severity: "warning",
      summary: "Training run {{ $labels.job_name }} failed",
      description:
        "Job {{ $labels.namespace }}/{{ $labels.job_name }} of CronJob " +
        inputs.cronJob +
        " failed (backoff limit or deadline reached; kube-state-metrics). The Job is deleted after its TTL, which resolves this alert.",
      runbook:
        "kubectl -n {{ $labels.namespace }} logs job/{{ $labels.job_name }} before the Job's TTL removes it; fix the data or code, then run it again (kubectl create job --from=cronjob/training).",
    },
  ];

  return [
    { name: GROUP_NAMES.slo, rules: slo },
    { name: GROUP_NAMES.inference, rules: inference },
    { name: GROUP_NAMES.training, rules: training },
  ];
}

/** Every alert of `groups`, in order. */
export function alertsOf(groups: readonly RuleGroup[]): AlertRule[] {
  return groups.flatMap((g) => g.rules.filter(isAlert));
}

export function isAlert(rule: AlertRule | RecordingRule): rule is AlertRule {
  return "alert" in rule;
}

// ---- renderings ----

/** A rule group as Prometheus (and the Prometheus Operator's PrometheusRule spec) reads it. */
export interface PromRuleGroup {
  name: string;
  rules: Array<
    | { record: string; expr: string }
    | {
        alert: string;
        expr: string;
        for: string;
        labels: Record<string, string>;
        annotations: Record<string, string>;
      }
  >;
}

/** The groups as a Prometheus rule file's `groups` (also a PrometheusRule's `spec.groups`). */
export function prometheusRuleGroups(groups: readonly RuleGroup[]): PromRuleGroup[] {
  return groups.map((g) => ({
    name: g.name,
    rules: g.rules.map((r) =>
      isAlert(r)
        ? {
            alert: r.alert,
            expr: r.expr,
            for: promDuration(r.forMinutes),
            labels: { severity: r.severity },
            annotations: { summary: r.summary, description: r.description, runbook: r.runbook },
          }
        : { record: r.record, expr: r.expr },
    ),
  }));
}

/** Azure Monitor alert severities: 0 critical … 4 verbose. */
export const AZURE_SEVERITY: Record<Severity, number> = { critical: 0, warning: 2 };

/** One rule of an Azure Prometheus rule group (alertsmanagement `PrometheusRuleArgs`). */
export interface AzurePrometheusRule {
  record?: string;
  alert?: string;
  expression: string;
  for?: string;
  severity?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  enabled: boolean;
  resolveConfiguration?: { autoResolved: boolean; timeToResolve: string };
  actions?: Array<{ actionGroupId: string }>;
}

/** A rule group's rules as Azure managed Prometheus reads them (ISO 8601 durations, numeric
 * severity; alerts notify `actionGroupId` when one is given). */
export function azurePrometheusRules(
  group: RuleGroup,
  actionGroupId?: string,
): AzurePrometheusRule[] {
  return group.rules.map((r) =>
    isAlert(r)
      ? {
          alert: r.alert,
          expression: r.expr,
          for: isoDuration(r.forMinutes),
          severity: AZURE_SEVERITY[r.severity],
          labels: { severity: r.severity },
          annotations: { summary: r.summary, description: r.description, runbook: r.runbook },
          enabled: true,
          resolveConfiguration: { autoResolved: true, timeToResolve: "PT10M" },
          ...(actionGroupId ? { actions: [{ actionGroupId }] } : {}),
        }
      : { record: r.record, expression: r.expr, enabled: true },
  );
}

/** Minutes as a Prometheus duration: `0s`, `90m`, `2h`, `1d`. */
export function promDuration(minutes: number): string {
  if (!Number.isInteger(minutes) || minutes < 0) {
    throw new Error(`a rule duration must be a whole number of minutes, not ${minutes}`);
  }
  if (minutes === 0) return "0s";
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

/** Minutes as an ISO 8601 duration: `PT0M`, `PT1H30M`, `P1D`. */
export function isoDuration(minutes: number): string {
  promDuration(minutes); // same validation
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const time = `${hours ? `${hours}H` : ""}${mins || (!days && !hours) ? `${mins}M` : ""}`;
  return `P${days ? `${days}D` : ""}${time ? `T${time}` : ""}`;
}

/** A number as PromQL text, without binary floating-point noise (1 - 0.995 -> 0.005). */
export function decimal(x: number): string {
  return String(Number(x.toPrecision(12)));
}

function quote(value: string): string {
  return JSON.stringify(value);
}

function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
