/**
 * The one place that turns validated config into Kubernetes manifests: it maps the config to the
 * props of each chart (infra/k8s, infra/monitoring), which know no config. The program deploys
 * the result with the app component (infra/k8s/app.ts) and `npm run synth` writes it as YAML, so
 * both paths produce the same objects.
 */
import { App } from "cdk8s";
import type { PlatformConfig } from "./config";
import type { Manifest } from "./k8s/app";
import { InferenceChart, type InferenceChartProps } from "./k8s/inference-chart";
import { releaseTracks } from "./k8s/release";
import { BlobModelStore, TrainingChart } from "./k8s/training-chart";
import { MonitoringChart } from "./monitoring/chart";
import { dashboardInputs, ruleInputs } from "./monitoring/inputs";

export interface ManifestInputs {
  readonly config: PlatformConfig;
  /** `app.kubernetes.io/instance` of every object (the stack). */
  readonly instance: string;
  /** The resolved image reference to run. */
  readonly image: string;
  /** Workload identity of the service's pods (Azure). @default no workload identity: the pods
   * get no Azure token */
  readonly workloadIdentityClientId?: string;
  /** Where the training job writes artifacts (Azure). @default an emptyDir */
  readonly modelStore?: BlobModelStore;
  /** Extra environment of the service container. @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

/** Synthesises the inference and training charts, and the monitoring chart when the cluster has a
 * Prometheus to read it (`monitoring.scraper`), into plain manifests (namespace first). */
export function synthManifests(inputs: ManifestInputs): Manifest[] {
  const { config } = inputs;
  const app = new App();
  const release = releaseTracks(config, inputs.image);
  new InferenceChart(app, "inference", inferenceChartProps(inputs, release));
  new TrainingChart(app, "training", {
    namespace: config.app.namespace,
    instance: inputs.instance,
    image: inputs.image,
    ...config.training,
    modelStore: inputs.modelStore,
  });
  const { scraper } = config.monitoring;
  if (scraper !== "none") {
    new MonitoringChart(app, "monitoring", {
      flavour: scraper,
      namespace: config.app.namespace,
      instance: inputs.instance,
      scrapeIntervalSeconds: config.monitoring.scrapeIntervalSeconds,
      rules: ruleInputs(
        config,
        release.tracks.map((t) => t.deploymentName),
      ),
      dashboard: dashboardInputs(config, inputs.instance),
      operatorLabels: config.monitoring.operatorLabels,
    });
  }
  return app.charts.flatMap((chart) => chart.toJson() as Manifest[]);
}

/** The inference chart's props from the validated config (what synthManifests renders), with the
 * release's tracks when the caller has them already. */
export function inferenceChartProps(
  inputs: ManifestInputs,
  release = releaseTracks(inputs.config, inputs.image),
): InferenceChartProps {
  const { config } = inputs;
  return {
    namespace: config.app.namespace,
    instance: inputs.instance,
    ...release,
    replicas: config.app.replicas,
    maxReplicas: config.app.autoscaling.maxReplicas,
    targetCpuPercent: config.app.autoscaling.targetCpuPercent,
    resources: config.app.resources,
    modelTraffic: config.app.modelTraffic,
    modelShadow: config.app.modelShadow,
    serviceType: config.app.serviceType,
    nodePort: config.app.nodePort,
    terminationGracePeriodSeconds: config.app.terminationGracePeriodSeconds,
    ingress: config.ingress,
    auth: config.auth,
    maxInFlight: config.app.maxInFlight,
    // Envoy Gateway's policy CRDs exist where the program installs it (Azure, api gateway).
    edgePolicies: config.target === "azure" && config.ingress.api === "gateway",
    workloadIdentityClientId: inputs.workloadIdentityClientId,
    env: inputs.env,
    // A local cluster may run no Ingress controller: waiting for an address none publishes
    // would fail `up` after 10 minutes. On Azure the program installs Envoy Gateway
    // (infra/azure/gateway.ts), so `up` waits until the Gateway is Programmed; a user's own
    // Ingress controller there publishes the Ingress's address, which `up` waits for.
    skipIngressAwait: config.target === "local",
    awaitGateway: config.target === "azure",
  };
}
