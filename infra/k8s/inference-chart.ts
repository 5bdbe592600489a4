/**
 * The inference service as a cdk8s chart (cdk8s-plus-27): Namespace, ServiceAccount, Deployment,
 * Service, the traffic layer (a Gateway API `Gateway` + `HTTPRoute`, or an `Ingress`),
 * HorizontalPodAutoscaler, PodDisruptionBudget and NetworkPolicy.
 *
 * Pure: no Pulumi. `toJson()` gives the manifests the app component deploys and `npm run synth`
 * writes as YAML, so both paths deploy the same objects.
 */
import { ApiObject, Chart, Duration, JsonPatch, Size } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import { Construct } from "constructs";
import { modelPins } from "../models";
import { ENVOY_GATEWAY_NAMESPACE } from "./envoy-gateway";
import { PART_OF, recommendedLabels, selectorLabels, versionOf } from "./labels";
import { CONTAINER_SECURITY_CONTEXT, hardenPod, POD_SECURITY_CONTEXT } from "./security";

/** Pod Security Admission: the namespace enforces (and warns and audits on) the `restricted`
 * profile, which every pod of the platform meets (security.ts). */
export const POD_SECURITY_LABELS = {
  "pod-security.kubernetes.io/enforce": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
  "pod-security.kubernetes.io/audit": "restricted",
} as const;

/** The port the service listens on inside the container (its `PORT`). */
export const CONTAINER_PORT = 8080;
/** The port of the Kubernetes Service in front of it. */
export const SERVICE_PORT = 80;
/** The OIP v2 gRPC port: the container's and the Services' (h2c, cleartext HTTP/2 inside the
 * cluster; a Gateway listener terminates TLS in front of it). */
export const GRPC_PORT = 8081;
/** The gRPC service of the Open Inference Protocol v2 (service/proto/grpc_predict_v2.proto). */
export const OIP_GRPC_SERVICE = "inference.GRPCInferenceService";
/** The Service port's `appProtocol` that tells the data plane to speak HTTP/2 without TLS. */
export const H2C_APP_PROTOCOL = "kubernetes.io/h2c";
/** The Secrets that hold the stack's two inference keys (created by the app component, which
 * keeps their values in the stack's state): one key each, under the key's own name, as both the
 * service (files in {@link KEYS_MOUNT_PATH}) and Envoy Gateway's API key auth (client id -> key)
 * read them. */
export const KEY_SECRETS = {
  primary: "inference-key-primary",
  secondary: "inference-key-secondary",
} as const;
/** Where the service reads the key files (AUTH_KEYS_DIR). */
export const KEYS_MOUNT_PATH = "/var/run/mlops/keys";
/** The API group of Envoy Gateway's policies (SecurityPolicy, BackendTrafficPolicy). */
export const ENVOY_GATEWAY_API_VERSION = "gateway.envoyproxy.io/v1alpha1";

/** Health routes of the Open Inference Protocol, used by the probes. */
export const LIVE_PATH = "/v2/health/live";
export const READY_PATH = "/v2/health/ready";

/** The type of the Kubernetes Service in front of the pods. */
export type InferenceServiceType = "ClusterIP" | "NodePort" | "LoadBalancer";

/** The service container's CPU (millicores) and memory (MiB), requested and limited. */
export interface InferenceResources {
  readonly cpuRequestMillis: number;
  readonly cpuLimitMillis: number;
  readonly memoryRequestMib: number;
  readonly memoryLimitMib: number;
}

/** The traffic layer in front of the Service (`ingress` of the config). */
export interface InferenceIngress {
  /** A Gateway API `Gateway` with an `HTTPRoute` and a `GRPCRoute`, or an `Ingress`. */
  readonly api: "gateway" | "ingress";
  /** The one host name the routes (or the Ingress rule) answer. */
  readonly host: string;
  /** Terminate TLS (HTTPS on 443) with the certificate in `tlsSecretName`; else HTTP on 80. */
  readonly tls: boolean;
  /** The `kubernetes.io/tls` Secret of the listener (or of the Ingress). */
  readonly tlsSecretName: string;
  /** Where that Secret lives: `self-signed` in {@link ENVOY_GATEWAY_NAMESPACE}, `stack-ca` in
   * `controllerNamespace`, `external` beside the Gateway. */
  readonly certificate: "self-signed" | "stack-ca" | "external";
  /** The `Gateway`'s class (`api: gateway`). */
  readonly gatewayClassName: string;
  /** The `Ingress`'s class (`api: ingress` needs one). @default no IngressClass: right for
   * `api: gateway`, which renders no Ingress */
  readonly className?: string;
  /** Namespace of the data plane's pods, admitted to the HTTP and gRPC ports. */
  readonly controllerNamespace: string;
  /** Namespace of the metrics scraper, admitted to the HTTP port (/metrics). */
  readonly metricsNamespace: string;
  /** Requests per second the Gateway lets one client address make (with `edgePolicies`). */
  readonly rateLimitPerClient: number;
}

/** Who may score the models (`auth` of the config): the stack's two keys ({@link KEY_SECRETS}),
 * Microsoft Entra ID tokens carrying `role`, or anyone. */
export interface InferenceAuth {
  readonly mode: "key" | "entra" | "none";
  /** The app role an Entra token must carry. */
  readonly role: string;
  /** `entra`: the audience, issuer and key set of the tokens. @default unset: the `key` and
   * `none` modes read no token */
  readonly audience?: string;
  readonly issuer?: string;
  readonly jwksUrl?: string;
}

export interface InferenceChartProps {
  /** Namespace of every object; the chart creates it. */
  readonly namespace: string;
  /** `app.kubernetes.io/instance`: the platform instance (stack) these objects belong to. */
  readonly instance: string;
  /** The Deployments of the service: one per release track (see release.ts). */
  readonly tracks: readonly Track[];
  /** The track the `inference` Service (and so the route) sends traffic to. */
  readonly serviceTrack: string;
  /** A canary track the HTTPRoute sends `weight` percent of requests to, through its own
   * Service (`inference-<track>`). Needs `ingress.api: gateway`. @default no canary: the route
   * sends every request to the `inference` Service */
  readonly canary?: { readonly track: string; readonly weight: number };
  /** Each Deployment's HPA floor; PDB and topology spread are added when it is above 1. */
  readonly replicas: number;
  /** The HPA's ceiling. */
  readonly maxReplicas: number;
  /** Average CPU utilisation the HPA aims for, in percent. */
  readonly targetCpuPercent: number;
  readonly resources: InferenceResources;
  /** Model A/B weights (`MODEL_TRAFFIC`). @default {} */
  readonly modelTraffic?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Shadow versions (`MODEL_SHADOW`). @default {} */
  readonly modelShadow?: Readonly<Record<string, string>>;
  /** @default "ClusterIP" */
  readonly serviceType?: InferenceServiceType;
  /** Fixed node port of the main Service (type NodePort). @default one Kubernetes picks */
  readonly nodePort?: number;
  readonly terminationGracePeriodSeconds: number;
  readonly ingress: InferenceIngress;
  /** Who may score: the service checks it on every pod; with {@link edgePolicies} the Gateway too. */
  readonly auth: InferenceAuth;
  /** Requests one pod serves at once (`MAX_IN_FLIGHT`). */
  readonly maxInFlight: number;
  /** Render Envoy Gateway's SecurityPolicy (authentication) and BackendTrafficPolicy (per-client
   * rate limit) on the HTTPRoute: where the program installs Envoy Gateway (Azure), whose CRDs
   * they need. @default false */
  readonly edgePolicies?: boolean;
  /** Client id of the Azure managed identity the pods use (workload identity).
   * @default no workload identity: the ServiceAccount has no client id and the pods get no Azure
   * token */
  readonly workloadIdentityClientId?: string;
  /** Extra environment of the service container. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** Do not wait for an ingress controller to publish the Ingress's load-balancer address
   * (`pulumi.com/skipAwait`): for clusters that may have no ingress controller (the `local`
   * target). @default false */
  readonly skipIngressAwait?: boolean;
  /** Make `up` wait until the Gateway is `Programmed` (it has an address and its listeners are
   * served), up to {@link GATEWAY_AWAIT_SECONDS}: where the program installs the controller
   * (Azure). Elsewhere a cluster may have no Gateway API implementation, and nothing waits.
   * @default false */
  readonly awaitGateway?: boolean;
}

/** One Deployment of the service. */
export interface Track {
  /** Value of the {@link TRACK_LABEL} label: `stable`, `canary`, `blue` or `green`. */
  readonly name: string;
  /** Name of its Deployment, HPA and PDB. */
  readonly deploymentName: string;
  /** Image reference (`repo:tag` or `repo@sha256:…`). */
  readonly image: string;
  /** Model name -> version the service must load (its `MODEL_PINS`). */
  readonly models: Readonly<Record<string, string>>;
}

/** How long `up` waits for the Gateway to be Programmed (a new Azure load balancer and public IP
 * take one to three minutes). */
export const GATEWAY_AWAIT_SECONDS = 600;

/** The Gateway API group and version the chart renders (standard channel, GA since v1.0). */
export const GATEWAY_API_VERSION = "gateway.networking.k8s.io/v1";

/** The label that tells the tracks of one release apart; part of each Deployment's selector. */
export const TRACK_LABEL = "mlops-platform/track";

export class InferenceChart extends Chart {
  /** Name of the Deployment, Service, Ingress, HPA, PDB and NetworkPolicy. */
  static readonly NAME = "inference";

  constructor(scope: Construct, id: string, props: InferenceChartProps) {
    super(scope, id, { namespace: props.namespace, disableResourceNameHashes: true });
    const name = InferenceChart.NAME;
    const labels = recommendedLabels(props.instance, "inference");
    const workloadIdentity = props.workloadIdentityClientId !== undefined;
    if (!props.tracks.some((t) => t.name === props.serviceTrack)) {
      throw new Error(
        `serviceTrack ${props.serviceTrack} is none of the tracks ${props.tracks.map((t) => t.name).join(", ")}`,
      );
    }

    const namespace = new kplus.Namespace(this, "namespace", {
      metadata: {
        name: props.namespace,
        labels: { "app.kubernetes.io/part-of": PART_OF, ...POD_SECURITY_LABELS },
      },
    });
    // A Namespace is cluster-scoped: it must not carry the chart's namespace.
    ApiObject.of(namespace).addJsonPatch(JsonPatch.remove("/metadata/namespace"));

    const serviceAccount = new kplus.ServiceAccount(this, "service-account", {
      metadata: {
        name,
        labels,
        annotations: workloadIdentity
          ? { "azure.workload.identity/client-id": props.workloadIdentityClientId! }
          : undefined,
      },
      automountToken: false,
    });

    for (const track of props.tracks) {
      this.addTrack(track, props, serviceAccount);
    }

    const service = this.addService(name, props, props.serviceTrack, labels, props.nodePort);
    const canaryService = props.canary
      ? this.addService(`${name}-${props.canary.track}`, props, props.canary.track, labels)
      : undefined;
    if (props.ingress.api === "gateway") {
      this.addGateway(name, props, labels);
      const backends = [
        { name: service.name, weight: props.canary ? 100 - props.canary.weight : undefined },
        ...(canaryService ? [{ name: canaryService.name, weight: props.canary!.weight }] : []),
      ];
      this.addRoute(name, props, labels, backends);
      this.addGrpcRoute(name, props, labels, backends);
      if (props.edgePolicies) this.addEdgePolicies(name, props, labels);
    } else {
      if (props.canary) {
        throw new Error("a canary needs ingress.api gateway: an Ingress cannot split traffic");
      }
      this.addIngress(name, props, service, labels);
    }

    // Only the data plane (the Gateway's proxies or the Ingress controller: HTTP and gRPC) and
    // the metrics scraper (/metrics, on the HTTP port) reach the pods.
    // Out: DNS, and with a workload identity (Azure) HTTPS to Entra ID and the model store.
    new kplus.k8s.KubeNetworkPolicy(this, "network-policy", {
      metadata: { name, labels },
      spec: {
        // Every track's pods.
        podSelector: { matchLabels: selectorLabels(props.instance, "inference") },
        policyTypes: ["Ingress", "Egress"],
        egress: egressRules(workloadIdentity),
        ingress: inferenceIngressRules(
          props.ingress.controllerNamespace,
          props.ingress.metricsNamespace,
        ),
      },
    });
  }

  private addTrack(track: Track, props: InferenceChartProps, serviceAccount: kplus.ServiceAccount) {
    const labels = {
      ...recommendedLabels(props.instance, "inference", versionOf(track.image)),
      [TRACK_LABEL]: track.name,
    };
    const selector = { ...selectorLabels(props.instance, "inference"), [TRACK_LABEL]: track.name };
    const tmp = kplus.Volume.fromEmptyDir(this, `${track.name}-tmp`, "tmp", {
      sizeLimit: Size.mebibytes(64),
    });
    const deployment = new kplus.Deployment(this, `${track.name}-deployment`, {
      metadata: { name: track.deploymentName, labels },
      podMetadata: {
        labels: {
          ...labels,
          ...(props.workloadIdentityClientId !== undefined
            ? { "azure.workload.identity/use": "true" }
            : {}),
        },
      },
      select: false,
      serviceAccount,
      automountServiceAccountToken: false,
      securityContext: POD_SECURITY_CONTEXT,
      terminationGracePeriod: Duration.seconds(props.terminationGracePeriodSeconds),
      strategy: kplus.DeploymentStrategy.rollingUpdate({
        maxSurge: kplus.PercentOrAbsolute.absolute(1),
        maxUnavailable: kplus.PercentOrAbsolute.absolute(0),
      }),
      containers: [
        {
          name: InferenceChart.NAME,
          image: track.image,
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          ports: [
            { number: CONTAINER_PORT, name: "http" },
            { number: GRPC_PORT, name: "grpc" },
          ],
          envVariables: envOf({
            PORT: String(CONTAINER_PORT),
            GRPC_PORT: String(GRPC_PORT),
            HOST: "0.0.0.0",
            MODEL_PINS: modelPins(track.models),
            ...jsonEnv("MODEL_TRAFFIC", props.modelTraffic),
            ...jsonEnv("MODEL_SHADOW", props.modelShadow),
            // Leave the kubelet a margin between our own deadline and SIGKILL.
            SHUTDOWN_GRACE_MS: String(Math.max(1, props.terminationGracePeriodSeconds - 5) * 1000),
            MAX_IN_FLIGHT: String(props.maxInFlight),
            ...authEnv(props.auth),
            ...props.env,
          }),
          resources: {
            cpu: {
              request: kplus.Cpu.millis(props.resources.cpuRequestMillis),
              limit: kplus.Cpu.millis(props.resources.cpuLimitMillis),
            },
            memory: {
              request: Size.mebibytes(props.resources.memoryRequestMib),
              limit: Size.mebibytes(props.resources.memoryLimitMib),
            },
          },
          startup: kplus.Probe.fromHttpGet(READY_PATH, {
            port: CONTAINER_PORT,
            periodSeconds: Duration.seconds(2),
            failureThreshold: 30,
          }),
          readiness: kplus.Probe.fromHttpGet(READY_PATH, {
            port: CONTAINER_PORT,
            periodSeconds: Duration.seconds(5),
            failureThreshold: 2,
          }),
          liveness: kplus.Probe.fromHttpGet(LIVE_PATH, {
            port: CONTAINER_PORT,
            periodSeconds: Duration.seconds(10),
            failureThreshold: 3,
          }),
          securityContext: CONTAINER_SECURITY_CONTEXT,
          volumeMounts: [{ path: "/tmp", volume: tmp }],
        },
      ],
    });
    deployment.select(kplus.LabelSelector.of({ labels: selector }));
    hardenPod(deployment, "/spec/template/spec");
    if (props.auth.mode === "key") {
      // Both key Secrets in one read-only directory. Optional: the Secrets are created right
      // after the Deployment (app.ts), and a rotated key reaches the files without a restart.
      ApiObject.of(deployment).addJsonPatch(
        JsonPatch.add("/spec/template/spec/volumes/-", {
          name: "inference-keys",
          projected: {
            defaultMode: 0o440,
            sources: Object.values(KEY_SECRETS).map((secretName) => ({
              secret: { name: secretName, optional: true },
            })),
          },
        }),
        JsonPatch.add("/spec/template/spec/containers/0/volumeMounts/-", {
          name: "inference-keys",
          mountPath: KEYS_MOUNT_PATH,
          readOnly: true,
        }),
      );
    }
    if (props.replicas > 1) {
      ApiObject.of(deployment).addJsonPatch(
        JsonPatch.add("/spec/template/spec/topologySpreadConstraints", [
          spread("topology.kubernetes.io/zone", selector),
          spread("kubernetes.io/hostname", selector),
        ]),
      );
    }

    new kplus.HorizontalPodAutoscaler(this, `${track.name}-hpa`, {
      metadata: { name: track.deploymentName, labels },
      target: deployment,
      minReplicas: props.replicas,
      maxReplicas: props.maxReplicas,
      metrics: [
        kplus.Metric.resourceCpu(kplus.MetricTarget.averageUtilization(props.targetCpuPercent)),
      ],
    });

    if (props.replicas > 1) {
      new kplus.k8s.KubePodDisruptionBudget(this, `${track.name}-pdb`, {
        metadata: { name: track.deploymentName, labels },
        spec: {
          maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
          selector: { matchLabels: selector },
          // A pod that is not Ready serves nothing: let a node drain evict it rather than block.
          unhealthyPodEvictionPolicy: "AlwaysAllow",
        },
      });
    }
  }

  private addService(
    name: string,
    props: InferenceChartProps,
    track: string,
    labels: Record<string, string>,
    nodePort?: number,
  ): kplus.Service {
    const service = new kplus.Service(this, `${name}-service`, {
      metadata: { name, labels },
      type: serviceTypeOf(props.serviceType ?? "ClusterIP"),
      ports: [
        { name: "http", port: SERVICE_PORT, targetPort: CONTAINER_PORT, nodePort },
        { name: "grpc", port: GRPC_PORT, targetPort: GRPC_PORT },
      ],
    });
    // cdk8s-plus has no appProtocol: the data plane reads it to call the pods with h2c.
    ApiObject.of(service).addJsonPatch(
      JsonPatch.add("/spec/ports/1/appProtocol", H2C_APP_PROTOCOL),
    );
    const selector = { ...selectorLabels(props.instance, "inference"), [TRACK_LABEL]: track };
    for (const [key, value] of Object.entries(selector)) service.selectLabel(key, value);
    return service;
  }

  /** The platform's entry point: one listener, HTTPS (terminating with `tlsSecretName`) when
   * `ingress.tls` is on, else HTTP; only routes in this namespace may attach. */
  private addGateway(name: string, props: InferenceChartProps, labels: Record<string, string>) {
    const { host, tls, tlsSecretName, gatewayClassName, certificate } = props.ingress;
    // A certificate the Azure program issues lives in Envoy Gateway's namespace, which exists
    // before the app's (infra/azure/certificate.ts; a ReferenceGrant there admits this Gateway).
    // One the stack's CA signs lives in the data plane's namespace (infra/k8s/certificate.ts).
    const secretNamespace =
      certificate === "self-signed"
        ? { namespace: ENVOY_GATEWAY_NAMESPACE }
        : certificate === "stack-ca"
          ? { namespace: props.ingress.controllerNamespace }
          : {};
    new ApiObject(this, "gateway", {
      apiVersion: GATEWAY_API_VERSION,
      kind: "Gateway",
      metadata: {
        name,
        labels,
        annotations: props.awaitGateway
          ? {
              "pulumi.com/waitFor": "condition=Programmed",
              "pulumi.com/timeoutSeconds": String(GATEWAY_AWAIT_SECONDS),
            }
          : undefined,
      },
      spec: {
        gatewayClassName,
        listeners: [
          {
            name: listenerName(tls),
            hostname: host,
            protocol: tls ? "HTTPS" : "HTTP",
            port: tls ? 443 : 80,
            ...(tls
              ? {
                  tls: {
                    mode: "Terminate",
                    certificateRefs: [
                      { group: "", kind: "Secret", name: tlsSecretName, ...secretNamespace },
                    ],
                  },
                }
              : {}),
            allowedRoutes: { namespaces: { from: "Same" } },
          },
        ],
      },
    });
  }

  /** The app's route: every path of `ingress.host` to the stable Service, or split by weight
   * between the stable and canary Services (the weights add up to 100: each is a percent). */
  private addRoute(
    name: string,
    props: InferenceChartProps,
    labels: Record<string, string>,
    backends: readonly { name: string; weight?: number }[],
  ) {
    new ApiObject(this, "http-route", {
      apiVersion: GATEWAY_API_VERSION,
      kind: "HTTPRoute",
      metadata: { name, labels },
      spec: {
        parentRefs: [gatewayParentRef(name, props.ingress.tls)],
        hostnames: [props.ingress.host],
        rules: [
          {
            matches: [{ path: { type: "PathPrefix", value: "/" } }],
            backendRefs: backendRefs(backends, SERVICE_PORT),
          },
        ],
      },
    });
  }

  /** The gRPC route (OIP v2 over HTTP/2): every method of {@link OIP_GRPC_SERVICE} on
   * `ingress.host` to the same Services and weights as the HTTPRoute, on their gRPC port, through
   * the same listener. */
  private addGrpcRoute(
    name: string,
    props: InferenceChartProps,
    labels: Record<string, string>,
    backends: readonly { name: string; weight?: number }[],
  ) {
    new ApiObject(this, "grpc-route", {
      apiVersion: GATEWAY_API_VERSION,
      kind: "GRPCRoute",
      metadata: { name, labels },
      spec: {
        parentRefs: [gatewayParentRef(name, props.ingress.tls)],
        hostnames: [props.ingress.host],
        // The OIP service only: a rule without matches would take every request of the host on
        // this listener, the HTTPRoute's too.
        rules: [
          {
            matches: [{ method: { type: "Exact", service: OIP_GRPC_SERVICE } }],
            backendRefs: backendRefs(backends, GRPC_PORT),
          },
        ],
      },
    });
  }

  /** At the Gateway: the same authentication as the service, and a per-client rate limit. */
  private addEdgePolicies(
    name: string,
    props: InferenceChartProps,
    labels: Record<string, string>,
  ): void {
    const targetRefs = ["HTTPRoute", "GRPCRoute"].map((kind) => ({
      group: "gateway.networking.k8s.io",
      kind,
      name,
    }));
    const security = securityPolicySpec(props.auth);
    if (security !== undefined) {
      new ApiObject(this, "security-policy", {
        apiVersion: ENVOY_GATEWAY_API_VERSION,
        kind: "SecurityPolicy",
        metadata: { name, labels },
        spec: { targetRefs, ...security },
      });
    }
    new ApiObject(this, "rate-limit", {
      apiVersion: ENVOY_GATEWAY_API_VERSION,
      kind: "BackendTrafficPolicy",
      metadata: { name, labels },
      spec: {
        targetRefs,
        rateLimit: {
          type: "Local",
          local: {
            rules: [
              {
                // Each client address gets its own bucket (per proxy replica: a Local limit).
                clientSelectors: [{ sourceCIDR: { type: "Distinct", value: "0.0.0.0/0" } }],
                limit: { requests: props.ingress.rateLimitPerClient, unit: "Second" },
              },
            ],
          },
        },
      },
    });
  }

  private addIngress(
    name: string,
    props: InferenceChartProps,
    service: kplus.Service,
    labels: Record<string, string>,
  ): void {
    const ingress = new kplus.Ingress(this, "ingress", {
      metadata: {
        name,
        labels,
        annotations: props.skipIngressAwait ? { "pulumi.com/skipAwait": "true" } : undefined,
      },
      className: props.ingress.className!,
      tls: props.ingress.tls
        ? [
            {
              hosts: [props.ingress.host],
              secret: kplus.Secret.fromSecretName(
                this,
                "ingress-tls-secret",
                props.ingress.tlsSecretName,
              ),
            },
          ]
        : undefined,
    });
    ingress.addHostRule(
      props.ingress.host,
      "/",
      kplus.IngressBackend.fromService(service, { port: SERVICE_PORT }),
      kplus.HttpIngressPathType.PREFIX,
    );
  }
}

/** A route's parent: the app's Gateway, at its one listener. */
function gatewayParentRef(name: string, tls: boolean) {
  return {
    group: "gateway.networking.k8s.io",
    kind: "Gateway",
    name,
    sectionName: listenerName(tls),
  };
}

/** A route rule's Services at `port`, each with its weight (a percent) when the release splits. */
function backendRefs(backends: readonly { name: string; weight?: number }[], port: number) {
  return backends.map((b) => ({
    group: "",
    kind: "Service",
    name: b.name,
    port,
    ...(b.weight === undefined ? {} : { weight: b.weight }),
  }));
}

/**
 * Who reaches the inference pods: the data plane's namespace on the HTTP and gRPC ports, the
 * scraper's on the HTTP port only (/metrics). Nothing else: other namespaces, and other pods of
 * the app's own namespace, are refused.
 */
export function inferenceIngressRules(
  controllerNamespace: string,
  metricsNamespace: string,
): kplus.k8s.NetworkPolicyIngressRule[] {
  const from = (ns: string) => [
    { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } },
  ];
  const tcp = (n: number) => ({ protocol: "TCP", port: kplus.k8s.IntOrString.fromNumber(n) });
  return [
    { from: from(controllerNamespace), ports: [tcp(CONTAINER_PORT), tcp(GRPC_PORT)] },
    { from: from(metricsNamespace), ports: [tcp(CONTAINER_PORT)] },
  ];
}

/** The Gateway's one listener: `https` with TLS, else `http` (the HTTPRoute attaches to it). */
export function listenerName(tls: boolean): "http" | "https" {
  return tls ? "https" : "http";
}

/**
 * Egress of the platform's pods: DNS (UDP and TCP 53, to whatever resolver the cluster runs),
 * and, when `azureHttps`, TCP 443 to any address: Entra ID (the workload identity token) and the
 * storage account have no fixed addresses a NetworkPolicy could name (docs/azure.md).
 */
export function egressRules(azureHttps: boolean): kplus.k8s.NetworkPolicyEgressRule[] {
  const port = (protocol: string, n: number) => ({
    protocol,
    port: kplus.k8s.IntOrString.fromNumber(n),
  });
  return [
    { ports: [port("UDP", 53), port("TCP", 53)] },
    ...(azureHttps
      ? [{ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [port("TCP", 443)] }]
      : []),
  ];
}

/** The service's authentication environment (its AUTH_* variables) for the stack's mode. */
export function authEnv(auth: InferenceAuth): Record<string, string> {
  switch (auth.mode) {
    case "key":
      return { AUTH_MODE: "key", AUTH_KEYS_DIR: KEYS_MOUNT_PATH };
    case "entra":
      return {
        AUTH_MODE: "entra",
        AUTH_JWKS_URL: auth.jwksUrl!,
        AUTH_ISSUER: auth.issuer!,
        AUTH_AUDIENCE: auth.audience!,
        AUTH_ROLE: auth.role,
      };
    case "none":
      return { AUTH_MODE: "none" };
  }
}

/** Envoy Gateway's SecurityPolicy for the mode (without its targets): API keys from the two key
 * Secrets, read from the Authorization header (Envoy strips "Bearer "; the header still reaches
 * the service, which checks it again), or Entra JWTs with the app role required; none for
 * `none`. */
export function securityPolicySpec(auth: InferenceAuth): Record<string, unknown> | undefined {
  switch (auth.mode) {
    case "key":
      return {
        apiKeyAuth: {
          credentialRefs: Object.values(KEY_SECRETS).map((secretName) => ({
            group: "",
            kind: "Secret",
            name: secretName,
          })),
          extractFrom: [{ headers: ["authorization"] }],
        },
      };
    case "entra":
      return {
        jwt: {
          providers: [
            {
              name: "entra",
              issuer: auth.issuer!,
              audiences: [auth.audience!],
              remoteJWKS: { uri: auth.jwksUrl! },
            },
          ],
        },
        authorization: {
          defaultAction: "Deny",
          rules: [
            {
              name: "scoring-role",
              action: "Allow",
              principal: {
                jwt: {
                  provider: "entra",
                  claims: [{ name: "roles", valueType: "StringArray", values: [auth.role] }],
                },
              },
            },
          ],
        },
      };
    case "none":
      return undefined;
  }
}

/** `{ NAME: JSON }` when `value` has entries; nothing otherwise (keeps the default manifest lean). */
function jsonEnv(name: string, value: object | undefined): Record<string, string> {
  return value && Object.keys(value).length > 0 ? { [name]: JSON.stringify(value) } : {};
}

/** Container environment from plain strings. */
export function envOf(env: Readonly<Record<string, string>>): Record<string, kplus.EnvValue> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [key, kplus.EnvValue.fromValue(value)]),
  );
}

function spread(topologyKey: string, selector: Record<string, string>) {
  return {
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: selector },
  };
}

function serviceTypeOf(type: InferenceServiceType): kplus.ServiceType {
  switch (type) {
    case "ClusterIP":
      return kplus.ServiceType.CLUSTER_IP;
    case "NodePort":
      return kplus.ServiceType.NODE_PORT;
    case "LoadBalancer":
      return kplus.ServiceType.LOAD_BALANCER;
  }
}
