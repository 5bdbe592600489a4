/**
 * The Gateway API implementation the Azure program installs: Envoy Gateway (a CNCF project,
 * conformant to the Gateway API's HTTP profile), from its pinned Helm chart, plus the
 * GatewayClass the app's `Gateway` names. docs/traffic.md explains the choice.
 *
 * A first chart installs the Gateway API CRDs (standard channel, the version that Envoy Gateway
 * release is built against) and Envoy Gateway's own CRDs, a second one the controller. For each `Gateway`
 * the controller runs Envoy proxies in {@link ENVOY_GATEWAY_NAMESPACE} behind a Service of type
 * LoadBalancer: AKS's cloud provider gives it a public IP on the cluster's Standard Load Balancer,
 * and the Gateway turns `Programmed` when that address is served.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ENVOY_GATEWAY_NAMESPACE, PlatformConfig } from "../config";
import { pullProblem } from "./registry";
import { GATEWAY_API_VERSION } from "../k8s/inference-chart";
import { PART_OF } from "../k8s/labels";

/** Envoy Gateway's Helm charts (OCI): the controller, and the CRDs (Gateway API + its own).
 * Bump the version of both together, after reading that release's compatibility matrix. */
export const ENVOY_GATEWAY_CHART = "oci://docker.io/envoyproxy/gateway-helm";
export const ENVOY_GATEWAY_CRDS_CHART = "oci://docker.io/envoyproxy/gateway-crds-helm";
export const ENVOY_GATEWAY_VERSION = "v1.9.0";
/** The `controllerName` Envoy Gateway reconciles GatewayClasses for. */
export const ENVOY_GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller";
/** The pod labels the chart gives the controller (its Deployment's selector). */
export const ENVOY_GATEWAY_POD_LABELS = { "control-plane": "envoy-gateway" } as const;

/** Why `up` cannot install this controller image, or `undefined`: prod needs
 * `ingress.gatewayImage`, by digest, from the shared registry the cluster pulls from. */
export function gatewayImageProblem(
  config: Pick<PlatformConfig, "environment" | "ingress">,
  loginServer: string,
): string | undefined {
  const { api, gatewayImage } = config.ingress;
  if (api !== "gateway") return undefined;
  if (gatewayImage === undefined) {
    return config.environment === "prod"
      ? "mlops:ingress.gatewayImage is not set: prod deploys the Envoy Gateway controller by " +
          "digest from the shared registry (docs/traffic.md)"
      : undefined;
  }
  return pullProblem(
    gatewayImage,
    loginServer,
    "of mlops:ingress.gatewayImage: import the Envoy Gateway image into the shared registry " +
      "and write its digest (docs/traffic.md)",
  );
}

export interface EnvoyGatewayArgs {
  /** Name of the GatewayClass to create (`ingress.gatewayClassName`). */
  readonly gatewayClassName: string;
  /** Replicas of the controller; above 1 it also gets a PodDisruptionBudget and a zone and host
   * spread (the prod policies). */
  readonly controllerReplicas: number;
  /** The controller image (`ingress.gatewayImage`, by digest in prod). @default the chart's */
  readonly controllerImage?: pulumi.Input<string>;
  readonly provider: k8s.Provider;
}

/** The chart's own requests and memory limit for the controller, plus a CPU limit. */
const CONTROLLER_RESOURCES = {
  requests: { cpu: "100m", memory: "256Mi" },
  limits: { cpu: "1", memory: "1024Mi" },
};
const CERTGEN_RESOURCES = {
  requests: { cpu: "50m", memory: "64Mi" },
  limits: { cpu: "500m", memory: "256Mi" },
};

/** Values of the controller chart: CRDs come from the CRD chart (standard channel); labels the
 * policy pack asks of every workload; HA settings above one replica. */
export function controllerValues(replicas: number, image?: string): Record<string, unknown> {
  const spread = (topologyKey: string) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: { ...ENVOY_GATEWAY_POD_LABELS } },
  });
  return {
    crds: { enabled: false },
    commonLabels: {
      "app.kubernetes.io/part-of": PART_OF,
      "app.kubernetes.io/component": "gateway-controller",
    },
    ...(image === undefined ? {} : { global: { images: { envoyGateway: { image } } } }),
    deployment: {
      replicas,
      // The chart sets no CPU limit; the pack asks every container for requests and limits.
      envoyGateway: { resources: CONTROLLER_RESOURCES },
      ...(replicas > 1
        ? {
            pod: {
              topologySpreadConstraints: [
                spread("topology.kubernetes.io/zone"),
                spread("kubernetes.io/hostname"),
              ],
            },
          }
        : {}),
    },
    // The pre-install Job that writes the controller's certificates has no resources at all.
    certgen: { job: { resources: CERTGEN_RESOURCES } },
    ...(replicas > 1 ? { podDisruptionBudget: { minAvailable: 0, maxUnavailable: 1 } } : {}),
  };
}

export class EnvoyGateway extends pulumi.ComponentResource {
  readonly chart: k8s.helm.v4.Chart;
  readonly gatewayClass: k8s.apiextensions.CustomResource;

  constructor(name: string, args: EnvoyGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:azure:EnvoyGateway", name, {}, opts);
    const provider = args.provider;
    // The Gateway API's standard channel only (the controller chart would install the
    // experimental one), and Envoy Gateway's own CRDs.
    const crds = new k8s.helm.v4.Chart(
      `${name}-crds`,
      {
        chart: ENVOY_GATEWAY_CRDS_CHART,
        version: ENVOY_GATEWAY_VERSION,
        values: {
          crds: {
            gatewayAPI: { enabled: true, channel: "standard" },
            envoyGateway: { enabled: true },
          },
        },
      },
      { parent: this, provider },
    );
    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: ENVOY_GATEWAY_NAMESPACE,
          labels: { "app.kubernetes.io/part-of": PART_OF },
        },
      },
      { parent: this, provider },
    );
    this.chart = new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: ENVOY_GATEWAY_CHART,
        version: ENVOY_GATEWAY_VERSION,
        namespace: namespace.metadata.name,
        values: pulumi
          .output(args.controllerImage)
          .apply((image) => controllerValues(args.controllerReplicas, image)),
      },
      { parent: this, provider, dependsOn: [crds] },
    );
    // Accepted = the controller runs and owns the class; a Gateway of this class can be served.
    this.gatewayClass = new k8s.apiextensions.CustomResource(
      `${name}-class`,
      {
        apiVersion: GATEWAY_API_VERSION,
        kind: "GatewayClass",
        metadata: {
          name: args.gatewayClassName,
          labels: { "app.kubernetes.io/part-of": PART_OF },
          annotations: {
            "pulumi.com/waitFor": "condition=Accepted",
            "pulumi.com/timeoutSeconds": "300",
          },
        },
        spec: { controllerName: ENVOY_GATEWAY_CONTROLLER },
      },
      { parent: this, provider, dependsOn: [this.chart] },
    );
    this.registerOutputs({});
  }
}
