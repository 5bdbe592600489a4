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
import type { PlatformConfig } from "../config";
import { pullProblem } from "./registry";
import { ENVOY_GATEWAY_NAMESPACE } from "../k8s/envoy-gateway";
import { GATEWAY_API_VERSION } from "../k8s/inference-chart";
import { MANAGED_BY, PART_OF } from "../k8s/labels";

/** Envoy Gateway's Helm charts (OCI): the controller, and the CRDs (Gateway API + its own).
 * Bump the version of both together, after reading that release's compatibility matrix. */
export const ENVOY_GATEWAY_CHART = "oci://docker.io/envoyproxy/gateway-helm";
export const ENVOY_GATEWAY_CRDS_CHART = "oci://docker.io/envoyproxy/gateway-crds-helm";
export const ENVOY_GATEWAY_VERSION = "v1.9.0";
/** The `controllerName` Envoy Gateway reconciles GatewayClasses for. */
export const ENVOY_GATEWAY_CONTROLLER = "gateway.envoyproxy.io/gatewayclass-controller";
/** The pod labels the chart gives the controller (its Deployment's selector). */
export const ENVOY_GATEWAY_POD_LABELS = { "control-plane": "envoy-gateway" } as const;

/** The images prod pins by digest in the shared registry: the controller (which also runs the
 * certgen Job) and the Envoy proxies the controller creates for each Gateway. */
export const GATEWAY_IMAGE_KEYS = {
  gatewayImage: { what: "the Envoy Gateway controller", repository: "envoyproxy/gateway" },
  envoyProxyImage: { what: "the Envoy proxies", repository: "envoyproxy/envoy" },
} as const;
export type GatewayImageKey = keyof typeof GATEWAY_IMAGE_KEYS;

/** Why `up` cannot deploy the image of `ingress.<key>`, or `undefined`: prod needs it, by digest,
 * from the shared registry the cluster pulls from. */
export function gatewayImageProblem(
  config: Pick<PlatformConfig, "environment" | "ingress">,
  loginServer: string,
  key: GatewayImageKey = "gatewayImage",
): string | undefined {
  if (config.ingress.api !== "gateway") return undefined;
  const image = config.ingress[key];
  const { what, repository } = GATEWAY_IMAGE_KEYS[key];
  if (image === undefined) {
    return config.environment === "prod"
      ? `mlops:ingress.${key} is not set: prod deploys ${what} by digest from the shared ` +
          `registry (import ${repository}, docs/traffic.md)`
      : undefined;
  }
  return pullProblem(
    image,
    loginServer,
    `of mlops:ingress.${key}: import ${repository} into the shared registry and write its ` +
      "digest (docs/traffic.md)",
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
  /** The image of the Envoy proxies the controller runs (`ingress.envoyProxyImage`, by digest in
   * prod). @default the controller's built-in one */
  readonly proxyImage?: pulumi.Input<string>;
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

/** The controller's own image when `ingress.gatewayImage` is not set: the chart's appVersion,
 * from Envoy Gateway's published repository. */
export const ENVOY_GATEWAY_DEFAULT_IMAGE = `envoyproxy/gateway:${ENVOY_GATEWAY_VERSION}`;

/** Values of the controller chart: CRDs come from the CRD chart (standard channel); labels the
 * policy pack asks of every workload; HA settings above one replica; the images (`global.images`:
 * the controller's, and the proxies' it writes into its EnvoyProxy defaults).
 *
 * `helm.v4.Chart` renders no hooks, so the chart's certgen Job and the topology injector's
 * webhook (both `pre-install` hooks) never exist: the certificates come from {@link certgenObjects}
 * instead, and the topology injector is off (certgen would otherwise patch a webhook that is not
 * there, and fail). */
export function controllerValues(
  replicas: number,
  image?: string,
  proxyImage?: string,
): Record<string, unknown> {
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
    ...(image === undefined && proxyImage === undefined
      ? {}
      : {
          global: {
            images: {
              ...(image === undefined ? {} : { envoyGateway: { image } }),
              ...(proxyImage === undefined ? {} : { envoyProxy: { image: proxyImage } }),
            },
          },
        }),
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
    topologyInjector: { enabled: false },
    ...(replicas > 1 ? { podDisruptionBudget: { minAvailable: 0, maxUnavailable: 1 } } : {}),
  };
}

/** The name of the certgen Job and of its ServiceAccount, Role and RoleBinding. */
export const CERTGEN_NAME = "envoy-gateway-certgen";

/** The Secrets `envoy-gateway certgen` writes into its namespace (Envoy Gateway v1.9.0,
 * `internal/provider/kubernetes/secrets.go`): the controller's and the proxies' mTLS
 * certificates, the rate limit service's, and the OIDC HMAC secret. It never overwrites one that
 * exists. */
export const CERTGEN_SECRETS = ["envoy-gateway", "envoy", "envoy-rate-limit", "envoy-oidc-hmac"];

/**
 * What the chart's `pre-install`/`pre-upgrade` hooks (`templates/certgen-rbac.yaml`,
 * `templates/certgen.yaml` of v1.9.0) would create, as plain objects the program registers before
 * the chart: a ServiceAccount that may get, create and update Secrets of the namespace, and a Job
 * running `envoy-gateway certgen` with the controller image. `up` waits for the Job to complete;
 * a new image replaces it (and so runs it again, as `pre-upgrade` would).
 */
export function certgenObjects(namespace: string, image: string) {
  const metadata = (component: string) => ({
    name: CERTGEN_NAME,
    namespace,
    labels: {
      "app.kubernetes.io/name": "envoy-gateway",
      "app.kubernetes.io/instance": CERTGEN_NAME,
      "app.kubernetes.io/component": component,
      "app.kubernetes.io/part-of": PART_OF,
      "app.kubernetes.io/managed-by": MANAGED_BY,
    },
  });
  const nonRoot = { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 };
  return {
    serviceAccount: {
      apiVersion: "v1" as const,
      kind: "ServiceAccount" as const,
      metadata: metadata("gateway-certgen"),
      automountServiceAccountToken: false,
    },
    role: {
      apiVersion: "rbac.authorization.k8s.io/v1" as const,
      kind: "Role" as const,
      metadata: metadata("gateway-certgen"),
      rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "create", "update"] }],
    },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1" as const,
      kind: "RoleBinding" as const,
      metadata: metadata("gateway-certgen"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: CERTGEN_NAME },
      subjects: [{ kind: "ServiceAccount", name: CERTGEN_NAME, namespace }],
    },
    job: {
      apiVersion: "batch/v1" as const,
      kind: "Job" as const,
      metadata: {
        ...metadata("gateway-certgen"),
        annotations: {
          "pulumi.com/waitFor": "condition=Complete",
          "pulumi.com/timeoutSeconds": "300",
        },
      },
      spec: {
        backoffLimit: 1,
        completions: 1,
        parallelism: 1,
        template: {
          metadata: { labels: { app: "certgen", ...metadata("gateway-certgen").labels } },
          spec: {
            automountServiceAccountToken: true,
            securityContext: {
              ...nonRoot,
              fsGroup: 65532,
              seccompProfile: { type: "RuntimeDefault" },
            },
            containers: [
              {
                name: "envoy-gateway-certgen",
                image,
                command: ["envoy-gateway", "certgen"],
                args: ["--disable-topology-injector"],
                env: [
                  {
                    name: "ENVOY_GATEWAY_NAMESPACE",
                    valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.namespace" } },
                  },
                  { name: "KUBERNETES_CLUSTER_DOMAIN", value: "cluster.local" },
                ],
                resources: CERTGEN_RESOURCES,
                securityContext: {
                  ...nonRoot,
                  allowPrivilegeEscalation: false,
                  capabilities: { drop: ["ALL"] },
                  privileged: false,
                  readOnlyRootFilesystem: true,
                  seccompProfile: { type: "RuntimeDefault" },
                },
              },
            ],
            restartPolicy: "Never",
            serviceAccountName: CERTGEN_NAME,
          },
        },
      },
    },
  };
}

export class EnvoyGateway extends pulumi.ComponentResource {
  readonly chart: k8s.helm.v4.Chart;
  /** {@link ENVOY_GATEWAY_NAMESPACE}: the controller's, the proxies' and the listener
   * certificate's namespace. */
  readonly namespace: k8s.core.v1.Namespace;
  /** The Job that writes the controller's certificates ({@link CERTGEN_SECRETS}). */
  readonly certgen: k8s.batch.v1.Job;
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
    const namespace = (this.namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      {
        metadata: {
          name: ENVOY_GATEWAY_NAMESPACE,
          labels: { "app.kubernetes.io/part-of": PART_OF },
        },
      },
      { parent: this, provider },
    ));
    // The controller's certificates, which the chart's hooks would have written: the
    // ServiceAccount, Role and RoleBinding first, then the Job, each a typed resource.
    const rbac = certgenObjects(ENVOY_GATEWAY_NAMESPACE, ENVOY_GATEWAY_DEFAULT_IMAGE);
    const inNamespace = { parent: this, provider, dependsOn: [namespace] };
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-certgen-account`,
      rbac.serviceAccount,
      inNamespace,
    );
    const role = new k8s.rbac.v1.Role(`${name}-certgen-role`, rbac.role, inNamespace);
    const binding = new k8s.rbac.v1.RoleBinding(`${name}-certgen-binding`, rbac.roleBinding, {
      parent: this,
      provider,
      dependsOn: [account, role],
    });
    this.certgen = new k8s.batch.v1.Job(
      `${name}-certgen`,
      {
        ...rbac.job,
        spec: pulumi
          .output(args.controllerImage)
          .apply(
            (image) =>
              certgenObjects(ENVOY_GATEWAY_NAMESPACE, image ?? ENVOY_GATEWAY_DEFAULT_IMAGE).job
                .spec,
          ),
      },
      // A Job's template is immutable: a new image replaces the Job, under the same name.
      { parent: this, provider, dependsOn: [binding], deleteBeforeReplace: true },
    );
    this.chart = new k8s.helm.v4.Chart(
      `${name}-chart`,
      {
        chart: ENVOY_GATEWAY_CHART,
        version: ENVOY_GATEWAY_VERSION,
        namespace: namespace.metadata.name,
        values: pulumi
          .all([args.controllerImage, args.proxyImage])
          .apply(([image, proxy]) => controllerValues(args.controllerReplicas, image, proxy)),
      },
      // The controller mounts the Secret `envoy-gateway` that the certgen Job writes.
      { parent: this, provider, dependsOn: [crds, this.certgen] },
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
