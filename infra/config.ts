/**
 * The one typed, validated configuration of the platform.
 *
 * Every setting lives under the `mlops` config namespace of a stack file (Pulumi.<stack>.yaml) and
 * is read exactly once, by {@link loadConfig}. {@link parseConfig} is a pure function: it takes the
 * raw values and returns a fully defaulted {@link PlatformConfig} or throws a {@link ConfigError}
 * naming the key, the value received and what is allowed. Nothing is registered before it returns.
 *
 * Defaults are documented on each property (`@default`) and applied in one place: here.
 */
import * as pulumi from "@pulumi/pulumi";

/** Where the platform runs: any Kubernetes context (`local`) or Azure (AKS + ACR + storage). */
export const TARGETS = ["local", "azure"] as const;
export type Target = (typeof TARGETS)[number];

/** The environment a stack represents; `prod` turns on the strict rules (digests, TLS, HA). */
export const ENVIRONMENTS = ["local", "dev", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** How a new version of the inference service reaches users. */
export const RELEASE_STRATEGIES = ["rolling", "canary", "blueGreen"] as const;
export type ReleaseStrategy = (typeof RELEASE_STRATEGIES)[number];

export const SERVICE_TYPES = ["ClusterIP", "NodePort", "LoadBalancer"] as const;
export type ServiceType = (typeof SERVICE_TYPES)[number];

/** AKS pricing tiers: `Standard` and `Premium` carry the API server SLA; `Free` has none. */
export const AKS_TIERS = ["Free", "Standard", "Premium"] as const;
export type AksTier = (typeof AKS_TIERS)[number];

/** Availability zones a node pool may spread over (where the region has them). */
export const AVAILABILITY_ZONES = ["1", "2", "3"] as const;

/** kubelogin login methods that need no person at a keyboard (see docs/azure.md). */
export const KUBELOGIN_MODES = [
  "azurecli",
  "workloadidentity",
  "spn",
  "msi",
  "devicecode",
] as const;
export type KubeloginMode = (typeof KUBELOGIN_MODES)[number];

/** Kinds of Entra principal that run `pulumi up` (an Azure role assignment must name it). */
export const PRINCIPAL_TYPES = ["ServicePrincipal", "User"] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

/** The resource group the one-time bootstrap creates the shared registry in (docs/azure.md). */
export const SHARED_RESOURCE_GROUP = "mlops-platform-shared";

/** The taint and label that reserve the training pool for training pods only. */
export const TRAINING_POOL_LABEL_KEY = "mlops-platform/pool";
export const TRAINING_POOL_LABEL_VALUE = "training";
export const TRAINING_TAINT = {
  key: TRAINING_POOL_LABEL_KEY,
  value: TRAINING_POOL_LABEL_VALUE,
  effect: "NoSchedule",
} as const;

/** The models the bundled service ships, and the version each stack pins. */
export const BUNDLED_MODELS = ["mpg-regressor", "penguin-classifier"] as const;

/** A node pool of fixed VM size whose node count the cluster autoscaler moves within bounds. */
export interface NodePoolConfig {
  /** Azure VM size of the nodes. */
  readonly vmSize: string;
  /** Lowest node count the autoscaler may reach. */
  readonly minCount: number;
  /** Highest node count the autoscaler may reach. */
  readonly maxCount: number;
  /** OS disk size of each node, in GiB. @default 128 */
  readonly osDiskSizeGb: number;
}

export interface AzureConfig {
  /** Azure region of every resource. @default "westeurope" */
  readonly location: string;
  /** AKS Kubernetes version; `undefined` lets AKS choose its default. @default undefined */
  readonly kubernetesVersion?: string;
  /** The system pool (runs the inference service and cluster add-ons). Never scales to 0.
   * @default { vmSize: "Standard_D4s_v5", minCount: 2, maxCount: 4, osDiskSizeGb: 128 } */
  readonly systemPool: NodePoolConfig;
  /** The training pool, reserved by a taint for training pods; scales to 0 when idle.
   * @default { vmSize: "Standard_D8s_v5", minCount: 0, maxCount: 3, osDiskSizeGb: 128 } */
  readonly trainingPool: NodePoolConfig;
  /** Minutes a node must be unneeded before the autoscaler removes it. @default 5 */
  readonly scaleDownUnneededMinutes: number;
  /** AKS pricing tier. Zones can't be added to a pool later, and only a paid tier has an SLA.
   * @default "Standard" in prod, "Free" elsewhere */
  readonly tier: AksTier;
  /** Availability zones of both node pools; fixed at pool creation.
   * @default ["1", "2", "3"] in prod, [] (no zones) elsewhere */
  readonly availabilityZones: readonly string[];
  /** How kubelogin gets the Entra token for the cluster's exec kubeconfig: the program writes
   * `--login <mode>` into the kubeconfig it hands the Kubernetes provider (what
   * `kubelogin convert-kubeconfig -l <mode>` does). `azurecli` uses the `az login` session, on a
   * laptop and in CI after azure/login. @default "azurecli" */
  readonly kubeloginMode: KubeloginMode;
  /** What kind of principal runs `pulumi up`: it gets AKS RBAC Cluster Admin on the cluster, and
   * Azure needs the kind in the role assignment. @default "ServicePrincipal" (CI) */
  readonly deployerPrincipalType: PrincipalType;
  /** The container registry every stack pushes to and pulls from, created once by the bootstrap
   * (docs/azure.md): one registry, so a digest promoted from dev is pullable in prod. */
  readonly registry: SharedRegistryConfig;
  /** Overrides the suffix of globally unique names (storage account, registry), which is
   * otherwise derived from the subscription, project and stack. @default undefined */
  readonly nameSuffix?: string;
  /** Also create an Azure ML workspace with an AmlCompute cluster of 0 minimum nodes.
   * @default false */
  readonly mlWorkspace: boolean;
}

export interface SharedRegistryConfig {
  /** Registry name. @default derived from the subscription and project (`mlopsacr<8 hex>`),
   * the name the bootstrap creates; `npm run azure:names` prints it */
  readonly name?: string;
  /** Its resource group. @default "mlops-platform-shared" */
  readonly resourceGroup: string;
}

export interface ImageConfig {
  /** Build service/Dockerfile and push it to the registry (needs a Docker engine).
   * @default false */
  readonly build: boolean;
  /** The image to deploy when `build` is false: `repo:tag` or `repo@sha256:<64 hex>` (prod:
   * a digest is required). Required when `build` is false. */
  readonly ref?: string;
  /** Repository name inside the registry when building. @default "mlops-inference" */
  readonly repository: string;
}

export interface AutoscalingConfig {
  /** Ceiling of the HorizontalPodAutoscaler (its floor is `app.replicas`).
   * @default max(3, 2 × replicas) */
  readonly maxReplicas: number;
  /** Average CPU utilisation the HPA aims for, in percent of the request. @default 70 */
  readonly targetCpuPercent: number;
}

export interface ResourcesConfig {
  /** @default 250 */
  readonly cpuRequestMillis: number;
  /** @default 1000 */
  readonly cpuLimitMillis: number;
  /** @default 256 */
  readonly memoryRequestMib: number;
  /** @default 512 */
  readonly memoryLimitMib: number;
}

export interface AppConfig {
  /** Namespace of every object of the app. @default "mlops" */
  readonly namespace: string;
  /** Minimum replicas of the inference Deployment: the HorizontalPodAutoscaler's floor (the
   * HPA owns the replica count, so the Deployment itself sets none). @default 1, 2 in prod */
  readonly replicas: number;
  readonly autoscaling: AutoscalingConfig;
  readonly resources: ResourcesConfig;
  /** Model name -> version the service must load (`MODEL_PINS`).
   * @default { "mpg-regressor": "1", "penguin-classifier": "1" } */
  readonly models: Readonly<Record<string, string>>;
  /** Model A/B inside the service: model -> version -> percent of requests (integers summing to
   * 100), sticky per `x-request-subject` header (`MODEL_TRAFFIC`). @default {} */
  readonly modelTraffic: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Shadow traffic: model -> a version that gets a copy of every request; its answers are only
   * measured, never returned (`MODEL_SHADOW`). @default {} */
  readonly modelShadow: Readonly<Record<string, string>>;
  /** Kubernetes Service type; `LoadBalancer` must also be allowed by the policy pack.
   * @default "ClusterIP" */
  readonly serviceType: ServiceType;
  /** Fixed node port of the Service (30000-32767), with `serviceType` NodePort or LoadBalancer: the
   * `local` stack serves on `http://127.0.0.1:<nodePort>/` through kube-proxy. @default none
   * (Kubernetes picks one when the type is NodePort) */
  readonly nodePort?: number;
  /** Seconds a pod gets to finish in-flight requests after SIGTERM. @default 30 */
  readonly terminationGracePeriodSeconds: number;
}

/** How traffic reaches the Service: the Kubernetes Gateway API (default) or an `Ingress`. */
export const TRAFFIC_APIS = ["gateway", "ingress"] as const;
export type TrafficApi = (typeof TRAFFIC_APIS)[number];

/** The GatewayClass of the Envoy Gateway controller the Azure program installs
 * (infra/azure/gateway.ts), and the default `ingress.gatewayClassName`. */
export const DEFAULT_GATEWAY_CLASS = "envoy-gateway";
/** Where Envoy Gateway runs its controller and its Envoy proxies: the data plane's namespace. */
export const ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system";

export interface IngressConfig {
  /** `gateway`: a `Gateway` and an `HTTPRoute` (Gateway API, standard channel): the only API
   * that can split traffic for a canary. `ingress`: one Kubernetes `Ingress`, for clusters whose
   * only controller serves Ingresses. @default "gateway" */
  readonly api: TrafficApi;
  /** GatewayClass of the `Gateway` (with `api: gateway`). On Azure the program installs Envoy
   * Gateway and its GatewayClass under this name. @default "envoy-gateway" */
  readonly gatewayClassName: string;
  /** Image of the Envoy Gateway controller the Azure program installs (with `api: gateway`):
   * `repo@sha256:<digest>` in prod (where `up` requires it, from the shared registry).
   * @default the chart's own (a tag), outside prod */
  readonly gatewayImage?: string;
  /** IngressClass of the `Ingress` (with `api: ingress`; required there). */
  readonly className?: string;
  /** Host name of the endpoint. @default "mlops.localtest.me" */
  readonly host: string;
  /** Terminate TLS at the Gateway (HTTPS listener) or Ingress with `tlsSecretName`.
   * @default true in prod, false elsewhere */
  readonly tls: boolean;
  /** Secret holding the TLS certificate, in the app's namespace. @default "<namespace>-tls" */
  readonly tlsSecretName: string;
  /** Namespace of the pods that forward traffic to the service (the data plane: Envoy Gateway's
   * proxies, or the Ingress controller): the only source admitted besides the scraper.
   * @default "envoy-gateway-system" with `api: gateway`; required with `api: ingress` */
  readonly controllerNamespace: string;
  /** Namespace of the Prometheus scraper admitted to /metrics. @default "kube-system" when
   * `monitoring.scraper` is `azure-managed` (where AKS runs managed Prometheus), else "monitoring" */
  readonly metricsNamespace: string;
}

export interface TrainingConfig {
  /** Cron schedule of the training CronJob. @default "0 3 * * *" */
  readonly schedule: string;
  /** Suspend the CronJob (no runs). @default false */
  readonly suspend: boolean;
  /** CPU request of the training pod: sized so the autoscaler must add a training node.
   * @default 2000 */
  readonly cpuRequestMillis: number;
  /** @default 4096 */
  readonly memoryRequestMib: number;
  /** Seconds a training run may take before it is stopped. @default 3600 */
  readonly activeDeadlineSeconds: number;
}

/** The colours of a blue-green release. */
export const COLOURS = ["blue", "green"] as const;
export type Colour = (typeof COLOURS)[number];

/** One Deployment of the service: its image and the model versions it must load. */
export interface TrackConfig {
  /** @default `mlops:image` (its `ref`, or the built image) */
  readonly image?: string;
  /** @default `app.models` */
  readonly models: Readonly<Record<string, string>>;
}

export interface CanaryConfig extends TrackConfig {
  /** Image of the canary Deployment (same rules as `image.ref`). */
  readonly image: string;
  /** Percent of requests the HTTPRoute sends to the canary Service (0–100; the stable Service
   * gets the rest; 0 aborts the canary: no request reaches it). */
  readonly weight: number;
}

export interface ReleaseConfig {
  /** `rolling`: one Deployment. `canary`: a second Deployment that the HTTPRoute sends `weight`
   * percent of requests to (needs `ingress.api: gateway`). `blueGreen`: two Deployments; the
   * Service selects `active`, so every route and client of the Service switches at once.
   * @default "rolling" */
  readonly strategy: ReleaseStrategy;
  /** Required when the strategy is `canary`. */
  readonly canary?: CanaryConfig;
  /** The colour the Service sends traffic to (blueGreen). @default "blue" */
  readonly active?: Colour;
  /** The blue and green Deployments (blueGreen); each defaults to `mlops:image` + `app.models`. */
  readonly blue?: TrackConfig;
  readonly green?: TrackConfig;
}

/** Which collector scrapes the inference pods and evaluates the alert rules: it decides which
 * monitoring objects the platform deploys (and so which CRDs the cluster must have). */
export const SCRAPERS = ["none", "prometheus-operator", "azure-managed"] as const;
export type Scraper = (typeof SCRAPERS)[number];

/** Monitoring as code: scrape config, alert rules and a dashboard (see docs/monitoring.md). */
export interface MonitoringConfig {
  /** `none`: deploy no monitoring object (a plain cluster has no PodMonitor CRD; `npm run
   * monitoring` still writes a Prometheus scrape config, the rules and the dashboard as files).
   * `prometheus-operator`: a `monitoring.coreos.com/v1` PodMonitor and PrometheusRule and a
   * Grafana dashboard ConfigMap (the cluster must run the Prometheus Operator).
   * `azure-managed` (target azure only): AKS managed Prometheus: an Azure Monitor workspace, the
   * metrics add-on, an `azmonitoring.coreos.com/v1` PodMonitor, the rules as Azure Prometheus
   * rule groups. @default "azure-managed" on the azure target, "none" on local */
  readonly scraper: Scraper;
  /** Seconds between two scrapes of a pod. @default 30 */
  readonly scrapeIntervalSeconds: number;
  /** Feature drift alert: PSI above this value... @default 0.2 (PSI > 0.2: a significant shift) */
  readonly driftPsiThreshold: number;
  /** ...for this many minutes. @default 15 */
  readonly driftForMinutes: number;
  /** Availability objective of the inference routes, in percent of requests that are not 5xx
   * (30-day window); the error-budget burn alerts derive from it. @default 99.5 */
  readonly availabilityObjectivePercent: number;
  /** 4xx alert: percent of a model's requests answered 4xx (over 30 min and 5 min). @default 10 */
  readonly clientErrorPercent: number;
  /** Latency alert: a model's p99 above this many milliseconds for 10 minutes. Below the
   * service's largest finite histogram bucket (2500 ms), or the quantile can never exceed it.
   * @default 500 */
  readonly latencyP99Millis: number;
  /** Shadow alert (classification): percent of rows whose shadow label differs. @default 10 */
  readonly shadowDisagreementPercent: number;
  /** Shadow alert (regression): mean |shadow − answer| per row, in the model's output unit (the
   * bundled regressor predicts miles per gallon). @default 2 */
  readonly shadowMeanAbsDiff: number;
  /** Training alert: hours since the last successful training run. @default 26 with a daily
   * schedule (the default), 7 × 24 + 2 = 170 with a weekly one, 24 + 2 otherwise */
  readonly trainingMaxAgeHours: number;
  /** Azure only: also create an Azure Managed Grafana reading the Azure Monitor workspace.
   * @default false */
  readonly grafana: boolean;
  /** Azure only: resource id of an existing action group that Azure alerts notify.
   * @default undefined: alerts show in Azure Monitor but notify nobody */
  readonly actionGroupId?: string;
  /** `prometheus-operator` only: labels put on the PodMonitor, PrometheusRule and dashboard
   * ConfigMap so the operator's selectors pick them up (kube-prometheus-stack selects by its Helm
   * release: `{ release: <release name> }`). @default {} */
  readonly operatorLabels: Readonly<Record<string, string>>;
}

export interface PlatformConfig {
  readonly environment: Environment;
  readonly target: Target;
  /** Team that owns the stack; becomes the `owner` tag. */
  readonly owner: string;
  /** Extra tags on every taggable Azure resource (`environment` and `owner` are always set). */
  readonly tags: Readonly<Record<string, string>>;
  /** Azure settings; present only when `target` is `azure`. */
  readonly azure?: AzureConfig;
  readonly image: ImageConfig;
  readonly app: AppConfig;
  readonly ingress: IngressConfig;
  readonly training: TrainingConfig;
  readonly release: ReleaseConfig;
  readonly monitoring: MonitoringConfig;
}

/** A configuration value is invalid. The message names the key, the value and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    received: unknown,
    allowed: string,
  ) {
    super(`mlops:${key}: got ${show(received)}; ${allowed}`);
    this.name = "ConfigError";
  }
}

/** The raw values of the `mlops` namespace, as a stack file holds them. */
export type RawConfig = Readonly<Record<string, unknown>>;

/** The keys the `mlops` namespace accepts. */
export const TOP_LEVEL_KEYS = [
  "environment",
  "target",
  "owner",
  "tags",
  "azure",
  "image",
  "app",
  "ingress",
  "training",
  "release",
  "monitoring",
] as const;

const DIGEST_REF = /^[a-z0-9]+(?:[._\-/:][a-z0-9]+)*@sha256:[0-9a-f]{64}$/;
const TAG_REF = /^[a-z0-9]+(?:[._\-/:][a-z0-9]+)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
const CRON = /^(\S+\s+){4}\S+$|^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/;

/** True when `ref` names an image by content digest (`repo@sha256:<64 hex>`). */
export function isDigestRef(ref: string): boolean {
  return DIGEST_REF.test(ref);
}

/** Validates raw stack values and applies every default. Pure: throws {@link ConfigError}. */
export function parseConfig(raw: RawConfig): PlatformConfig {
  rejectUnknownKeys("", raw, TOP_LEVEL_KEYS);
  const environment = oneOf("environment", raw.environment, ENVIRONMENTS);
  const target = oneOf("target", raw.target ?? "local", TARGETS);
  if (target === "local" && environment === "prod") {
    throw new ConfigError(
      "target",
      target,
      'a prod stack must target "azure" (local clusters are for the local and dev environments)',
    );
  }
  const owner = str("owner", raw.owner ?? "platform-team", DNS_LABEL, "a lowercase DNS label");
  const tags = stringMap("tags", raw.tags ?? {});

  const app = parseApp(obj("app", raw.app ?? {}), environment);
  const image = parseImage(obj("image", raw.image ?? {}), environment);
  const training = parseTraining(obj("training", raw.training ?? {}));
  const monitoring = parseMonitoring(obj("monitoring", raw.monitoring ?? {}), target, training);
  const release = parseRelease(obj("release", raw.release ?? {}), environment, app.models);
  const ingress = parseIngress(
    obj("ingress", raw.ingress ?? {}),
    environment,
    app.namespace,
    monitoring.scraper,
    release.strategy,
  );

  if (raw.azure !== undefined && target !== "azure") {
    throw new ConfigError("azure", raw.azure, 'only allowed when mlops:target is "azure"');
  }
  const azure =
    target === "azure" ? parseAzure(obj("azure", raw.azure ?? {}), environment) : undefined;

  if (environment === "prod" && app.replicas < 2) {
    throw new ConfigError("app.replicas", app.replicas, "prod needs at least 2 replicas");
  }
  return {
    environment,
    target,
    owner,
    tags,
    azure,
    image,
    app,
    ingress,
    training,
    release,
    monitoring,
  };
}

/** Reads the `mlops` namespace of the current stack once and validates it. */
export function loadConfig(): PlatformConfig {
  const config = new pulumi.Config("mlops");
  const raw: Record<string, unknown> = {};
  for (const key of TOP_LEVEL_KEYS) {
    const text = config.get(key);
    if (text === undefined) continue;
    raw[key] = parseMaybeJson(text);
  }
  return parseConfig(raw);
}

function parseApp(raw: RawConfig, environment: Environment): AppConfig {
  rejectUnknownKeys("app.", raw, [
    "namespace",
    "replicas",
    "autoscaling",
    "resources",
    "models",
    "modelTraffic",
    "modelShadow",
    "serviceType",
    "nodePort",
    "terminationGracePeriodSeconds",
  ]);
  const namespace = str("app.namespace", raw.namespace ?? "mlops", DNS_LABEL, "a DNS label");
  const replicas = int("app.replicas", raw.replicas ?? (environment === "prod" ? 2 : 1), 1, 100);

  const as = obj("app.autoscaling", raw.autoscaling ?? {});
  rejectUnknownKeys("app.autoscaling.", as, ["maxReplicas", "targetCpuPercent"]);
  const maxReplicas = int(
    "app.autoscaling.maxReplicas",
    as.maxReplicas ?? Math.max(3, 2 * replicas),
    1,
    100,
  );
  if (maxReplicas < replicas) {
    throw new ConfigError(
      "app.autoscaling.maxReplicas",
      maxReplicas,
      `must be at least app.replicas (${replicas})`,
    );
  }
  const targetCpuPercent = int(
    "app.autoscaling.targetCpuPercent",
    as.targetCpuPercent ?? 70,
    10,
    100,
  );

  const rs = obj("app.resources", raw.resources ?? {});
  rejectUnknownKeys("app.resources.", rs, [
    "cpuRequestMillis",
    "cpuLimitMillis",
    "memoryRequestMib",
    "memoryLimitMib",
  ]);
  const resources: ResourcesConfig = {
    cpuRequestMillis: int("app.resources.cpuRequestMillis", rs.cpuRequestMillis ?? 250, 10, 64000),
    cpuLimitMillis: int("app.resources.cpuLimitMillis", rs.cpuLimitMillis ?? 1000, 10, 64000),
    memoryRequestMib: int("app.resources.memoryRequestMib", rs.memoryRequestMib ?? 256, 32, 262144),
    memoryLimitMib: int("app.resources.memoryLimitMib", rs.memoryLimitMib ?? 512, 32, 262144),
  };
  if (resources.cpuLimitMillis < resources.cpuRequestMillis) {
    throw new ConfigError(
      "app.resources.cpuLimitMillis",
      resources.cpuLimitMillis,
      `must be at least app.resources.cpuRequestMillis (${resources.cpuRequestMillis})`,
    );
  }
  if (resources.memoryLimitMib < resources.memoryRequestMib) {
    throw new ConfigError(
      "app.resources.memoryLimitMib",
      resources.memoryLimitMib,
      `must be at least app.resources.memoryRequestMib (${resources.memoryRequestMib})`,
    );
  }

  const models = stringMap(
    "app.models",
    raw.models ?? Object.fromEntries(BUNDLED_MODELS.map((m) => [m, "1"])),
  );
  for (const [name, version] of Object.entries(models)) {
    knownModel(`app.models.${name}`, name, version);
    str(`app.models.${name}`, version, /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a version string");
  }
  const modelTraffic = parseModelTraffic(obj("app.modelTraffic", raw.modelTraffic ?? {}));
  const modelShadow = stringMap("app.modelShadow", raw.modelShadow ?? {});
  for (const [name, version] of Object.entries(modelShadow)) {
    knownModel(`app.modelShadow.${name}`, name, version);
    // The service refuses to start with a shadow that already answers every request.
    const split = modelTraffic[name];
    const answersAll = split ? split[version] === 100 : models[name] === version;
    if (answersAll) {
      throw new ConfigError(
        `app.modelShadow.${name}`,
        version,
        "this version already answers every request: shadow a candidate version instead",
      );
    }
  }
  const serviceType = oneOf("app.serviceType", raw.serviceType ?? "ClusterIP", SERVICE_TYPES);
  const nodePort =
    raw.nodePort === undefined ? undefined : int("app.nodePort", raw.nodePort, 30000, 32767);
  if (nodePort !== undefined && serviceType === "ClusterIP") {
    throw new ConfigError(
      "app.nodePort",
      nodePort,
      "a ClusterIP Service has no node port: set app.serviceType to NodePort (or LoadBalancer)",
    );
  }
  const terminationGracePeriodSeconds = int(
    "app.terminationGracePeriodSeconds",
    raw.terminationGracePeriodSeconds ?? 30,
    1,
    600,
  );
  return {
    namespace,
    replicas,
    autoscaling: { maxReplicas, targetCpuPercent },
    resources,
    models,
    modelTraffic,
    modelShadow,
    serviceType,
    ...(nodePort === undefined ? {} : { nodePort }),
    terminationGracePeriodSeconds,
  };
}

function parseModelTraffic(raw: RawConfig): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [name, value] of Object.entries(raw)) {
    const key = `app.modelTraffic.${name}`;
    knownModel(key, name, value);
    const split = obj(key, value);
    const weights: Record<string, number> = {};
    for (const [version, weight] of Object.entries(split)) {
      weights[version] = int(`${key}.${version}`, weight, 0, 100);
    }
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    if (total !== 100) {
      throw new ConfigError(key, split, `weights must add up to 100, not ${total}`);
    }
    out[name] = weights;
  }
  return out;
}

function knownModel(key: string, name: string, value: unknown): void {
  if (!(BUNDLED_MODELS as readonly string[]).includes(name)) {
    throw new ConfigError(
      key,
      value,
      `unknown model; the service ships ${BUNDLED_MODELS.join(", ")}`,
    );
  }
}

function parseImage(raw: RawConfig, environment: Environment): ImageConfig {
  rejectUnknownKeys("image.", raw, ["build", "ref", "repository"]);
  const build = bool("image.build", raw.build ?? false);
  const repository = str(
    "image.repository",
    raw.repository ?? "mlops-inference",
    /^[a-z0-9]+(?:[._\-/][a-z0-9]+)*$/,
    "a lowercase repository name",
  );
  if (build) {
    if (raw.ref !== undefined) {
      throw new ConfigError("image.ref", raw.ref, "leave it unset when image.build is true");
    }
    return { build, repository };
  }
  if (raw.ref === undefined) {
    throw new ConfigError(
      "image.ref",
      undefined,
      "required when image.build is false: set repo:tag, or repo@sha256:<digest> in prod",
    );
  }
  return { build, ref: imageRef("image.ref", raw.ref, environment), repository };
}

/** An image reference: `repo:tag` (never `latest`) or `repo@sha256:<64 hex>`; prod: digest only. */
function imageRef(key: string, value: unknown, environment: Environment): string {
  const ref = str(key, value, /^\S+$/, "an image reference");
  if (environment === "prod" && !isDigestRef(ref)) {
    throw new ConfigError(key, ref, "prod deploys by digest: use <repo>@sha256:<64 hex>");
  }
  if (!isDigestRef(ref) && !TAG_REF.test(ref)) {
    throw new ConfigError(key, ref, "use <repo>:<tag> or <repo>@sha256:<64 hex>");
  }
  if (ref.endsWith(":latest")) {
    throw new ConfigError(key, ref, 'pin a version tag or a digest, not "latest"');
  }
  return ref;
}

/** The namespace AKS's managed Prometheus (the ama-metrics pods) scrapes from. */
export const AZURE_MANAGED_SCRAPER_NAMESPACE = "kube-system";

function parseIngress(
  raw: RawConfig,
  environment: Environment,
  namespace: string,
  scraper: Scraper,
  strategy: ReleaseStrategy,
): IngressConfig {
  rejectUnknownKeys("ingress.", raw, [
    "api",
    "gatewayClassName",
    "gatewayImage",
    "className",
    "host",
    "tls",
    "tlsSecretName",
    "controllerNamespace",
    "metricsNamespace",
  ]);
  const api = oneOf("ingress.api", raw.api ?? "gateway", TRAFFIC_APIS);
  if (api === "gateway" && raw.className !== undefined) {
    throw new ConfigError(
      "ingress.className",
      raw.className,
      "the IngressClass of ingress.api: ingress. The traffic layer is the Gateway API by default: " +
        `remove ingress.className (the Gateway's class is ingress.gatewayClassName, default "${DEFAULT_GATEWAY_CLASS}"), ` +
        "or set ingress.api: ingress with the class and ingress.controllerNamespace of the Ingress controller you run",
    );
  }
  if (api === "ingress") {
    for (const key of ["gatewayClassName", "gatewayImage"] as const) {
      if (raw[key] !== undefined) {
        throw new ConfigError(`ingress.${key}`, raw[key], "only used with ingress.api: gateway");
      }
    }
    for (const key of ["className", "controllerNamespace"] as const) {
      if (raw[key] === undefined) {
        throw new ConfigError(
          `ingress.${key}`,
          undefined,
          key === "className"
            ? "required with ingress.api: ingress: the IngressClass of the controller you run"
            : "required with ingress.api: ingress: the namespace of that controller's pods (the NetworkPolicy admits it)",
        );
      }
    }
    if (strategy === "canary") {
      throw new ConfigError(
        "ingress.api",
        api,
        "release.strategy canary needs ingress.api: gateway (an HTTPRoute weights the stable and canary Services; an Ingress cannot split traffic)",
      );
    }
  }
  const tls = bool("ingress.tls", raw.tls ?? environment === "prod");
  if (environment === "prod" && !tls) {
    throw new ConfigError("ingress.tls", tls, "prod serves over TLS: set it to true");
  }
  return {
    api,
    gatewayClassName: str(
      "ingress.gatewayClassName",
      raw.gatewayClassName ?? DEFAULT_GATEWAY_CLASS,
      DNS_NAME,
      "a GatewayClass name",
    ),
    gatewayImage:
      raw.gatewayImage === undefined
        ? undefined
        : imageRef("ingress.gatewayImage", raw.gatewayImage, environment),
    className:
      api === "ingress"
        ? str("ingress.className", raw.className, DNS_NAME, "an IngressClass name")
        : undefined,
    host: str("ingress.host", raw.host ?? "mlops.localtest.me", DNS_NAME, "a DNS host name"),
    tls,
    tlsSecretName: str(
      "ingress.tlsSecretName",
      raw.tlsSecretName ?? `${namespace}-tls`,
      DNS_NAME,
      "a Secret name",
    ),
    controllerNamespace: str(
      "ingress.controllerNamespace",
      raw.controllerNamespace ?? ENVOY_GATEWAY_NAMESPACE,
      DNS_LABEL,
      "a namespace name",
    ),
    metricsNamespace: str(
      "ingress.metricsNamespace",
      raw.metricsNamespace ??
        (scraper === "azure-managed" ? AZURE_MANAGED_SCRAPER_NAMESPACE : "monitoring"),
      DNS_LABEL,
      "a namespace name",
    ),
  };
}

function parseTraining(raw: RawConfig): TrainingConfig {
  rejectUnknownKeys("training.", raw, [
    "schedule",
    "suspend",
    "cpuRequestMillis",
    "memoryRequestMib",
    "activeDeadlineSeconds",
  ]);
  return {
    schedule: str(
      "training.schedule",
      raw.schedule ?? "0 3 * * *",
      CRON,
      'a cron expression of five fields (e.g. "0 3 * * *") or @daily/@weekly/...',
    ),
    suspend: bool("training.suspend", raw.suspend ?? false),
    cpuRequestMillis: int("training.cpuRequestMillis", raw.cpuRequestMillis ?? 2000, 100, 256000),
    memoryRequestMib: int("training.memoryRequestMib", raw.memoryRequestMib ?? 4096, 64, 1048576),
    activeDeadlineSeconds: int(
      "training.activeDeadlineSeconds",
      raw.activeDeadlineSeconds ?? 3600,
      60,
      86400,
    ),
  };
}

const MONITORING_KEYS = [
  "scraper",
  "scrapeIntervalSeconds",
  "driftPsiThreshold",
  "driftForMinutes",
  "availabilityObjectivePercent",
  "clientErrorPercent",
  "latencyP99Millis",
  "shadowDisagreementPercent",
  "shadowMeanAbsDiff",
  "trainingMaxAgeHours",
  "grafana",
  "actionGroupId",
  "operatorLabels",
] as const;

const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const ACTION_GROUP_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/microsoft\.insights\/actionGroups\/[^/]+$/i;

function parseMonitoring(
  raw: RawConfig,
  target: Target,
  training: TrainingConfig,
): MonitoringConfig {
  rejectUnknownKeys("monitoring.", raw, MONITORING_KEYS);
  const scraper = oneOf(
    "monitoring.scraper",
    raw.scraper ?? (target === "azure" ? "azure-managed" : "none"),
    SCRAPERS,
  );
  if (scraper === "azure-managed" && target !== "azure") {
    throw new ConfigError(
      "monitoring.scraper",
      scraper,
      'AKS managed Prometheus needs mlops:target "azure"; use "prometheus-operator" or "none"',
    );
  }
  for (const key of ["grafana", "actionGroupId"] as const) {
    if (raw[key] !== undefined && scraper !== "azure-managed") {
      throw new ConfigError(
        `monitoring.${key}`,
        raw[key],
        'only allowed when monitoring.scraper is "azure-managed"',
      );
    }
  }
  if (raw.operatorLabels !== undefined && scraper !== "prometheus-operator") {
    throw new ConfigError(
      "monitoring.operatorLabels",
      raw.operatorLabels,
      'only allowed when monitoring.scraper is "prometheus-operator"',
    );
  }
  const operatorLabels = stringMap("monitoring.operatorLabels", raw.operatorLabels ?? {});
  for (const [k, v] of Object.entries(operatorLabels)) {
    str(`monitoring.operatorLabels.${k}`, k, LABEL_KEY, "a Kubernetes label key");
    str(`monitoring.operatorLabels.${k}`, v, LABEL_VALUE, "a Kubernetes label value (≤ 63 chars)");
  }
  const availabilityObjectivePercent = num(
    "monitoring.availabilityObjectivePercent",
    raw.availabilityObjectivePercent ?? 99.5,
    90,
    99.99,
  );
  return {
    scraper,
    scrapeIntervalSeconds: int(
      "monitoring.scrapeIntervalSeconds",
      raw.scrapeIntervalSeconds ?? 30,
      5,
      300,
    ),
    driftPsiThreshold: num("monitoring.driftPsiThreshold", raw.driftPsiThreshold ?? 0.2, 0.01, 10),
    driftForMinutes: int("monitoring.driftForMinutes", raw.driftForMinutes ?? 15, 1, 1440),
    availabilityObjectivePercent,
    clientErrorPercent: num(
      "monitoring.clientErrorPercent",
      raw.clientErrorPercent ?? 10,
      0.1,
      100,
    ),
    latencyP99Millis: int("monitoring.latencyP99Millis", raw.latencyP99Millis ?? 500, 1, 2499),
    shadowDisagreementPercent: num(
      "monitoring.shadowDisagreementPercent",
      raw.shadowDisagreementPercent ?? 10,
      0.1,
      100,
    ),
    shadowMeanAbsDiff: num(
      "monitoring.shadowMeanAbsDiff",
      raw.shadowMeanAbsDiff ?? 2,
      0.000001,
      1e9,
    ),
    trainingMaxAgeHours: int(
      "monitoring.trainingMaxAgeHours",
      raw.trainingMaxAgeHours ?? defaultTrainingMaxAgeHours(training.schedule),
      1,
      24 * 366,
    ),
    grafana: bool("monitoring.grafana", raw.grafana ?? false),
    operatorLabels,
    actionGroupId:
      raw.actionGroupId === undefined
        ? undefined
        : str(
            "monitoring.actionGroupId",
            raw.actionGroupId,
            ACTION_GROUP_ID,
            "an action group resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/microsoft.insights/actionGroups/<name>)",
          ),
  };
}

/** The longest gap between two runs of a cron schedule that the platform can tell apart (daily or
 * weekly; anything else counts as daily), plus 2 hours for the run itself. */
export function defaultTrainingMaxAgeHours(schedule: string): number {
  const fields = schedule.trim().split(/\s+/);
  const weekly =
    schedule === "@weekly" ||
    (fields.length === 5 && fields[2] === "*" && fields[3] === "*" && /^\d$/.test(fields[4]));
  return (weekly ? 7 * 24 : 24) + 2;
}

const RELEASE_KEYS: Record<ReleaseStrategy, readonly string[]> = {
  rolling: ["strategy"],
  canary: ["strategy", "canary"],
  blueGreen: ["strategy", "active", "blue", "green"],
};

function parseRelease(
  raw: RawConfig,
  environment: Environment,
  models: Readonly<Record<string, string>>,
): ReleaseConfig {
  const strategy = oneOf("release.strategy", raw.strategy ?? "rolling", RELEASE_STRATEGIES);
  rejectUnknownKeys("release.", raw, RELEASE_KEYS[strategy]);
  if (strategy === "canary") {
    if (raw.canary === undefined) {
      throw new ConfigError(
        "release.canary",
        undefined,
        "required when release.strategy is canary: { image, weight, models? }",
      );
    }
    const c = obj("release.canary", raw.canary);
    rejectUnknownKeys("release.canary.", c, ["image", "weight", "models"]);
    if (c.image === undefined) {
      throw new ConfigError("release.canary.image", undefined, "required: the image of the canary");
    }
    return {
      strategy,
      canary: {
        image: imageRef("release.canary.image", c.image, environment),
        weight: int("release.canary.weight", c.weight ?? 0, 0, 100),
        models: trackModels("release.canary.models", c.models, models),
      },
    };
  }
  if (strategy === "blueGreen") {
    const track = (colour: Colour): TrackConfig => {
      const t = obj(`release.${colour}`, raw[colour] ?? {});
      rejectUnknownKeys(`release.${colour}.`, t, ["image", "models"]);
      return {
        image:
          t.image === undefined
            ? undefined
            : imageRef(`release.${colour}.image`, t.image, environment),
        models: trackModels(`release.${colour}.models`, t.models, models),
      };
    };
    return {
      strategy,
      active: oneOf("release.active", raw.active ?? "blue", COLOURS),
      blue: track("blue"),
      green: track("green"),
    };
  }
  return { strategy };
}

function trackModels(
  key: string,
  value: unknown,
  defaults: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  if (value === undefined) return defaults;
  const models = stringMap(key, value);
  for (const name of Object.keys(models)) knownModel(`${key}.${name}`, name, models[name]);
  return models;
}

function parseAzure(raw: RawConfig, environment: Environment): AzureConfig {
  rejectUnknownKeys("azure.", raw, [
    "location",
    "kubernetesVersion",
    "systemPool",
    "trainingPool",
    "scaleDownUnneededMinutes",
    "mlWorkspace",
    "tier",
    "availabilityZones",
    "kubeloginMode",
    "deployerPrincipalType",
    "registry",
    "nameSuffix",
  ]);
  const prod = environment === "prod";
  const systemPool = parsePool("azure.systemPool", obj("azure.systemPool", raw.systemPool ?? {}), {
    vmSize: "Standard_D4s_v5",
    minCount: 2,
    maxCount: 4,
  });
  if (systemPool.minCount < 1) {
    throw new ConfigError(
      "azure.systemPool.minCount",
      systemPool.minCount,
      "the system pool runs the cluster's add-ons and never scales to 0: use 1 or more",
    );
  }
  const trainingPool = parsePool(
    "azure.trainingPool",
    obj("azure.trainingPool", raw.trainingPool ?? {}),
    { vmSize: "Standard_D8s_v5", minCount: 0, maxCount: 3 },
  );
  if (trainingPool.minCount !== 0) {
    throw new ConfigError(
      "azure.trainingPool.minCount",
      trainingPool.minCount,
      "the training pool scales to zero when idle: it must be 0",
    );
  }
  if (trainingPool.maxCount < 1) {
    throw new ConfigError(
      "azure.trainingPool.maxCount",
      trainingPool.maxCount,
      "at least 1, or the training job can never run",
    );
  }
  const kubernetesVersion =
    raw.kubernetesVersion === undefined
      ? undefined
      : str("azure.kubernetesVersion", raw.kubernetesVersion, /^\d+\.\d+(\.\d+)?$/, "e.g. 1.33");
  return {
    location: str("azure.location", raw.location ?? "westeurope", /^[a-z0-9]+$/, "an Azure region"),
    kubernetesVersion,
    systemPool,
    trainingPool,
    scaleDownUnneededMinutes: int(
      "azure.scaleDownUnneededMinutes",
      raw.scaleDownUnneededMinutes ?? 5,
      1,
      60,
    ),
    mlWorkspace: bool("azure.mlWorkspace", raw.mlWorkspace ?? false),
    tier: oneOf("azure.tier", raw.tier ?? (prod ? "Standard" : "Free"), AKS_TIERS),
    availabilityZones: zones(
      "azure.availabilityZones",
      raw.availabilityZones ?? (prod ? [...AVAILABILITY_ZONES] : []),
    ),
    kubeloginMode: oneOf("azure.kubeloginMode", raw.kubeloginMode ?? "azurecli", KUBELOGIN_MODES),
    deployerPrincipalType: oneOf(
      "azure.deployerPrincipalType",
      raw.deployerPrincipalType ?? "ServicePrincipal",
      PRINCIPAL_TYPES,
    ),
    registry: parseRegistry(obj("azure.registry", raw.registry ?? {})),
    nameSuffix:
      raw.nameSuffix === undefined
        ? undefined
        : str(
            "azure.nameSuffix",
            raw.nameSuffix,
            /^[a-z0-9]{4,12}$/,
            "4 to 12 lowercase letters or digits",
          ),
  };
}

function parseRegistry(raw: RawConfig): SharedRegistryConfig {
  rejectUnknownKeys("azure.registry.", raw, ["name", "resourceGroup"]);
  return {
    name:
      raw.name === undefined
        ? undefined
        : str(
            "azure.registry.name",
            raw.name,
            /^[a-z0-9]{5,50}$/,
            "5 to 50 lowercase letters or digits",
          ),
    resourceGroup: str(
      "azure.registry.resourceGroup",
      raw.resourceGroup ?? SHARED_RESOURCE_GROUP,
      /^[-\w._()]{1,89}[-\w_()]$/,
      "a resource group name",
    ),
  };
}

/** A list of distinct availability zones ("1", "2", "3"); empty means no zones. */
function zones(key: string, value: unknown): string[] {
  const list = Array.isArray(value)
    ? value.map((z) => (typeof z === "number" ? String(z) : z))
    : value;
  if (
    !Array.isArray(list) ||
    !list.every((z) => (AVAILABILITY_ZONES as readonly unknown[]).includes(z)) ||
    new Set(list).size !== list.length
  ) {
    throw new ConfigError(
      key,
      value,
      `expected a list of distinct zones from ${AVAILABILITY_ZONES.join(", ")}, or [] for none`,
    );
  }
  return list as string[];
}

function parsePool(
  key: string,
  raw: RawConfig,
  defaults: { vmSize: string; minCount: number; maxCount: number },
): NodePoolConfig {
  rejectUnknownKeys(`${key}.`, raw, ["vmSize", "minCount", "maxCount", "osDiskSizeGb"]);
  const minCount = int(`${key}.minCount`, raw.minCount ?? defaults.minCount, 0, 1000);
  const maxCount = int(`${key}.maxCount`, raw.maxCount ?? defaults.maxCount, 0, 1000);
  if (maxCount < minCount) {
    throw new ConfigError(
      `${key}.maxCount`,
      maxCount,
      `must be at least ${key}.minCount (${minCount})`,
    );
  }
  return {
    vmSize: str(
      `${key}.vmSize`,
      raw.vmSize ?? defaults.vmSize,
      /^Standard_[A-Za-z0-9_]+$/,
      'an Azure VM size such as "Standard_D4s_v5"',
    ),
    minCount,
    maxCount,
    osDiskSizeGb: int(`${key}.osDiskSizeGb`, raw.osDiskSizeGb ?? 128, 30, 2048),
  };
}

// ---- plain-value validators: each names the key, the value and what is allowed ----

function rejectUnknownKeys(prefix: string, raw: RawConfig, allowed: readonly string[]): void {
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw new ConfigError(
        `${prefix}${key}`,
        raw[key],
        `unknown key; allowed: ${allowed.map((k) => prefix + k).join(", ")}`,
      );
    }
  }
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(key, value, `allowed: ${allowed.join(", ")}`);
  }
  return value as T;
}

function str(key: string, value: unknown, pattern: RegExp, what: string): string {
  if (typeof value !== "string" || !pattern.test(value)) {
    throw new ConfigError(key, value, `expected ${what}`);
  }
  return value;
}

function int(key: string, value: unknown, min: number, max: number): number {
  const n = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(key, value, `expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** A number (or its decimal text) within [min, max]. */
function num(key: string, value: unknown, min: number, max: number): number {
  const n =
    typeof value === "string" && /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n < min || n > max) {
    throw new ConfigError(key, value, `expected a number from ${min} to ${max}`);
  }
  return n;
}

function bool(key: string, value: unknown): boolean {
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  throw new ConfigError(key, value, "expected true or false");
}

function obj(key: string, value: unknown): RawConfig {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(key, value, "expected an object of keys and values");
  }
  return value as RawConfig;
}

function stringMap(key: string, value: unknown): Record<string, string> {
  const o = obj(key, value);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    if (typeof v !== "string" || v.length === 0) {
      throw new ConfigError(`${key}.${k}`, v, "expected a non-empty string");
    }
    out[k] = v;
  }
  return out;
}

function parseMaybeJson(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  return JSON.stringify(value);
}
