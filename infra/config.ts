/**
 * The one typed, validated configuration of the platform, declared once as a zod schema.
 *
 * Every setting lives under the `mlops` config namespace of a stack file (Pulumi.<stack>.yaml) and
 * is read exactly once, by {@link loadConfig}. {@link parseConfig} is a pure function: it takes the
 * raw values and returns a fully defaulted {@link PlatformConfig} or throws a {@link ConfigError}
 * naming the key, the value received and what is allowed. Nothing is registered before it returns.
 *
 * Read it top to bottom like the README's configuration table (which is generated from it, as is
 * schema/pulumi-stack.schema.json, the JSON Schema editors use on the stack files):
 *  1. the vocabulary: a few schema builders that carry the error messages;
 *  2. {@link DERIVED}: each default that depends on another key, its words and its code in one
 *     helper;
 *  3. {@link StackConfigSchema}: each key once, with its type, bounds, documentation and default:
 *     a fixed `.default()`, a helper of 2 (whose words the table shows), or {@link unset} with
 *     words saying what happens without the key;
 *  4. {@link withDefaults}, which applies the helpers of 2; rules that relate two keys are in
 *  5. {@link crossKeyProblems}.
 * The types ({@link PlatformConfig} and its parts) are inferred from 3 and 4.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { BUNDLED_MODELS } from "../service/train/models";
import { SHARED_RESOURCE_GROUP } from "./azure/names";
import { DEFAULT_GATEWAY_CLASS, ENVOY_GATEWAY_NAMESPACE } from "./k8s/envoy-gateway";
import { AZURE_MANAGED_SCRAPER_NAMESPACE } from "./monitoring/scrape";

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

/** How traffic reaches the Service: the Kubernetes Gateway API (default) or an `Ingress`. */
export const TRAFFIC_APIS = ["gateway", "ingress"] as const;
export type TrafficApi = (typeof TRAFFIC_APIS)[number];

/** Who may score the models: the stack's two keys (default), Microsoft Entra ID tokens, or
 * anyone (a `local` stack only, when it says so). */
export const AUTH_MODES = ["key", "entra", "none"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];

/** Where the certificate of the HTTPS listener comes from: `self-signed`, issued by the Azure
 * program itself (infra/azure/certificate.ts); `stack-ca`, signed by a CA the stack makes
 * (infra/k8s/certificate.ts), whose certificate is the stack's `caCertificate` output; or
 * `external`, a Secret made outside the program. */
export const CERTIFICATE_SOURCES = ["self-signed", "stack-ca", "external"] as const;
export type CertificateSource = (typeof CERTIFICATE_SOURCES)[number];

/** The colours of a blue-green release. */
export const COLOURS = ["blue", "green"] as const;
export type Colour = (typeof COLOURS)[number];

/** Which collector scrapes the inference pods and evaluates the alert rules: it decides which
 * monitoring objects the platform deploys (and so which CRDs the cluster must have). */
export const SCRAPERS = ["none", "prometheus-operator", "azure-managed"] as const;
export type Scraper = (typeof SCRAPERS)[number];

const DIGEST_REF = /^[a-z0-9]+(?:[._\-/:][a-z0-9]+)*@sha256:[0-9a-f]{64}$/;
const TAG_REF = /^[a-z0-9]+(?:[._\-/:][a-z0-9]+)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const IMAGE_REF_FORM = new RegExp(`${DIGEST_REF.source}|${TAG_REF.source}`);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_NAME =
  /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/;
const CRON = /^(\S+\s+){4}\S+$|^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/;
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HTTPS_URL = /^https:\/\/[^\s/]+(\/\S*)?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
/** `word` in any letter case, without the `i` flag (JSON Schema patterns have no flags). */
const anyCase = (word: string) =>
  word.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
const ACTION_GROUP_ID = new RegExp(
  `^/${anyCase("subscriptions")}/[^/]+/${anyCase("resourceGroups")}/[^/]+/` +
    `${anyCase("providers")}/${anyCase("microsoft")}\\.${anyCase("insights")}/${anyCase("actionGroups")}/[^/]+$`,
);

/** True when `ref` names an image by content digest (`repo@sha256:<64 hex>`). */
export function isDigestRef(ref: string): boolean {
  return DIGEST_REF.test(ref);
}

// ---- 1. vocabulary: each builder returns a schema whose every failure says what is allowed ----

/** The {@link KeyDefault} of each documented key that has one. */
const KEY_DEFAULTS = new WeakMap<z.ZodType, KeyDefault>();

/** Documents a key: `description` (editors show it), and `absent` when a stack file that leaves
 * the key out gets no one fixed value (that is the schema's own `.default()`): its text becomes
 * the key's `defaultText`. */
const doc = <S extends z.ZodType>(schema: S, description: string, absent?: KeyDefault): S => {
  if (absent === undefined) return schema.meta({ description });
  const documented = schema.meta({ description, defaultText: absent.text });
  KEY_DEFAULTS.set(documented, absent);
  return documented;
};

/** What a key of {@link StackConfigSchema} (the schema at that key) means when a stack file leaves
 * it out, unless that is a fixed `.default()`. */
export const keyDefault = (key: z.ZodType): KeyDefault | undefined => KEY_DEFAULTS.get(key);

/** Stack files and `pulumi config set` may hold numbers and booleans as text. */
const fromText =
  (pattern: RegExp, convert: (text: string) => unknown) =>
  (value: unknown): unknown =>
    typeof value === "string" && pattern.test(value.trim()) ? convert(value.trim()) : value;

/** A whole number within [min, max] (or its decimal text); `below` replaces the message for a
 * value under `min` when there is more to say. */
function int(min: number, max: number, below?: string) {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.preprocess(
    fromText(/^-?\d+$/, Number),
    z
      .int({ error })
      .min(min, { error: below ?? error })
      .max(max, { error }),
  );
}

/** A number within [min, max] (or its decimal text). */
function num(min: number, max: number) {
  const error = `expected a number from ${min} to ${max}`;
  return z.preprocess(
    fromText(/^-?\d+(\.\d+)?$/, Number),
    z.number({ error }).min(min, { error }).max(max, { error }),
  );
}

function bool() {
  return z.preprocess(
    fromText(/^(true|false)$/, (t) => t === "true"),
    z.boolean({ error: "expected true or false" }),
  );
}

/** A string matching `pattern`; `what` completes "expected ..." (and the README's "allowed"). */
function text(pattern: RegExp, what: string) {
  const error = `expected ${what}`;
  return z.string({ error }).regex(pattern, { error }).meta({ allowedText: what });
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `allowed: ${values.join(", ")}` });
}

/** "required: ..." when the key is missing, else `otherwise`. */
const requiredOr =
  (required: string, otherwise: string) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? required : otherwise;

/** An object with exactly these keys; another key is named with the full list of allowed ones. */
function section<Shape extends z.ZodRawShape>(shape: Shape, missing?: string) {
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        const prefix = issue.path?.length ? `${issue.path.join(".")}.` : "";
        return `unknown key; allowed: ${Object.keys(shape)
          .map((k) => prefix + k)
          .join(", ")}`;
      }
      return issue.input === undefined && missing !== undefined
        ? missing
        : "expected an object of keys and values";
    },
  });
}

/** Names to non-empty strings. */
function stringMap() {
  const error = "expected a non-empty string";
  return z.record(z.string(), z.string({ error }).min(1, { error }), {
    error: "expected an object of keys and values",
  });
}

/** Bundled model name (service/train/models.ts) -> `value`; another name is refused with the names
 * the service ships. */
function perModel<V extends z.ZodType>(value: V) {
  return z.partialRecord(z.enum(BUNDLED_MODELS), value, {
    error: (issue) =>
      // zod reports a name outside an enum of keys as an unrecognized key.
      (issue as { code: string }).code === "unrecognized_keys"
        ? `unknown model; the service ships ${BUNDLED_MODELS.join(", ")}`
        : "expected an object of keys and values",
  });
}

/** An image reference: `repo:tag` (never `latest`) or `repo@sha256:<64 hex>` (prod: digest only,
 * see {@link crossKeyProblems}). */
function imageRef(required = "expected an image reference") {
  return z
    .string({ error: requiredOr(required, "expected an image reference") })
    .regex(/^\S+$/, { error: "expected an image reference" })
    .regex(IMAGE_REF_FORM, { error: "use <repo>:<tag> or <repo>@sha256:<64 hex>" })
    .regex(/^(?!.*:latest$)/, { error: 'pin a version tag or a digest, not "latest"' })
    .meta({ allowedText: "`<repo>:<tag>` (not `latest`) or `<repo>@sha256:<64 hex>`" });
}

/** Bundled model name -> one of its versions. */
const versionPerModel = () => perModel(text(VERSION, "a version string"));

/** A node pool of fixed VM size whose node count the cluster autoscaler moves within bounds. */
function nodePool<Min extends z.ZodType<number, unknown>, Max extends z.ZodType<number, unknown>>(
  vmSize: string,
  minCount: Min,
  maxCount: Max,
) {
  return section({
    vmSize: doc(
      text(/^Standard_[A-Za-z0-9_]+$/, 'an Azure VM size such as "Standard_D4s_v5"').default(
        vmSize,
      ),
      "Azure VM size of the nodes.",
    ),
    minCount: doc(minCount, "Lowest node count the autoscaler may reach."),
    maxCount: doc(maxCount, "Highest node count the autoscaler may reach."),
    osDiskSizeGb: doc(int(30, 2048).default(128), "OS disk size of each node, in GiB."),
  });
}

// ---- 2. defaults that depend on another key: each one's words and code in one value ----

/** What a key means when a stack file leaves it out, when that is not one fixed value (a fixed
 * default is the schema's own `.default()`). `text` is what the README's table and the JSON Schema
 * show; `of`, when there is one, computes the value from the other keys and is what
 * {@link withDefaults} applies, so the words and the code are one value and cannot drift apart. */
export interface KeyDefault<T = unknown> {
  readonly text: string;
  /** The value of the key when it is left out; without it the key stays unset in the
   * {@link PlatformConfig} and `text` says what happens then. */
  readonly of?: (c: StackConfig) => T;
}

/** A default computed from other keys. */
function derived<T>(text: string, of: (c: StackConfig) => T): Required<KeyDefault<T>> {
  return { text, of };
}

/** A key left unset in the {@link PlatformConfig}: `text` says what happens without it (a
 * component or Azure picks the value, or another key's value makes it required). */
const unset = (text: string): KeyDefault<undefined> => ({ text });

const entraAuthority = (c: StackConfig) =>
  `https://login.microsoftonline.com/${c.auth.tenantId ?? "<tenantId>"}`;

/** Every default that depends on another key, each applied by {@link withDefaults} and documented
 * at its key. */
export const DERIVED = {
  tier: derived("`Standard` in prod, `Free` elsewhere", (c): AksTier =>
    c.environment === "prod" ? "Standard" : "Free",
  ),
  availabilityZones: derived('`["1", "2", "3"]` in prod, `[]` elsewhere', (c): readonly string[] =>
    c.environment === "prod" ? [...AVAILABILITY_ZONES] : [],
  ),
  replicas: derived("`2` in prod, `1` elsewhere", (c): number =>
    c.environment === "prod" ? 2 : 1,
  ),
  maxReplicas: derived("max(3, 2 × `replicas`)", (c): number => Math.max(3, 2 * replicasOf(c))),
  gatewayClassName: derived(
    `\`${DEFAULT_GATEWAY_CLASS}\` (with \`api: gateway\`)`,
    (): string => DEFAULT_GATEWAY_CLASS,
  ),
  tls: derived("`true` in prod, `false` elsewhere", (c): boolean => c.environment === "prod"),
  tlsSecretName: derived("`<app.namespace>-tls`", (c): string => `${c.app.namespace}-tls`),
  certificate: derived(
    "`self-signed` on the azure target with `api: gateway`, `stack-ca` on the local target with `api: gateway`, else `external`",
    (c): CertificateSource =>
      c.ingress.api !== "gateway" ? "external" : c.target === "azure" ? "self-signed" : "stack-ca",
  ),
  controllerNamespace: derived(
    `\`${ENVOY_GATEWAY_NAMESPACE}\` with \`api: gateway\`; required with \`api: ingress\``,
    (): string => ENVOY_GATEWAY_NAMESPACE,
  ),
  metricsNamespace: derived(
    "`kube-system` with `monitoring.scraper` `azure-managed`, else `monitoring`",
    (c): string =>
      scraperOf(c) === "azure-managed" ? AZURE_MANAGED_SCRAPER_NAMESPACE : "monitoring",
  ),
  issuer: derived(
    "`https://login.microsoftonline.com/<tenantId>/v2.0`",
    (c): string => `${entraAuthority(c)}/v2.0`,
  ),
  jwksUrl: derived(
    "`https://login.microsoftonline.com/<tenantId>/discovery/v2.0/keys`",
    (c): string => `${entraAuthority(c)}/discovery/v2.0/keys`,
  ),
  expectedDurationMinutes: derived(
    "`activeDeadlineSeconds` ÷ 60, rounded up (the longest a run may take)",
    (c): number => Math.ceil(c.training.activeDeadlineSeconds / 60),
  ),
  trackModels: derived("`app.models`", (c): Models => c.app.models),
  scraper: derived("`azure-managed` on the azure target, `none` on local", (c): Scraper =>
    c.target === "azure" ? "azure-managed" : "none",
  ),
  trainingMaxAgeHours: derived("the schedule's period + 2 (26 daily, 170 weekly)", (c): number =>
    defaultTrainingMaxAgeHours(c.training.schedule),
  ),
  grafana: derived("`false`", (): boolean => false),
  operatorLabels: derived("`{}`", (): Readonly<Record<string, string>> => ({})),
} as const;

/** `app.replicas` as configured, else its default. */
const replicasOf = (c: StackConfig): number => c.app.replicas ?? DERIVED.replicas.of(c);

/** `monitoring.scraper` as configured, else its default. */
const scraperOf = (c: StackConfig): Scraper => c.monitoring.scraper ?? DERIVED.scraper.of(c);

/** The longest gap between two runs of a cron schedule that the platform can tell apart (daily or
 * weekly; anything else counts as daily), plus 2 hours for the run itself. */
export function defaultTrainingMaxAgeHours(schedule: string): number {
  const fields = schedule.trim().split(/\s+/);
  const weekly =
    schedule === "@weekly" ||
    (fields.length === 5 && fields[2] === "*" && fields[3] === "*" && /^\d$/.test(fields[4]));
  return (weekly ? 7 * 24 : 24) + 2;
}

// ---- 3. the keys of the `mlops` namespace, in the order of the README's table ----

const ZONES_ERROR = `expected a list of distinct zones from ${AVAILABILITY_ZONES.join(", ")}, or [] for none`;

const azure = section({
  location: doc(
    text(/^[a-z0-9]+$/, "an Azure region").default("westeurope"),
    "Azure region of every resource.",
  ),
  kubernetesVersion: doc(
    text(/^\d+\.\d+(\.\d+)?$/, "e.g. 1.33").optional(),
    "AKS Kubernetes version.",
    unset("AKS default"),
  ),
  systemPool: doc(
    nodePool(
      "Standard_D4s_v5",
      int(
        1,
        1000,
        "the system pool runs the cluster's add-ons and never scales to 0: use 1 or more",
      ).default(2),
      int(0, 1000).default(4),
    ).prefault({}),
    "The system pool (runs the inference service and cluster add-ons). Never scales to 0.",
  ),
  trainingPool: doc(
    nodePool(
      "Standard_D8s_v5",
      z
        .preprocess(
          fromText(/^-?\d+$/, Number),
          z.literal(0, { error: "the training pool scales to zero when idle: it must be 0" }),
        )
        .default(0),
      int(1, 1000, "at least 1, or the training job can never run").default(3),
    ).prefault({}),
    "The training pool, reserved by a taint for training pods; scales to 0 when idle.",
  ),
  scaleDownUnneededMinutes: doc(
    int(1, 60).default(5),
    "Minutes a node must be unneeded before the autoscaler removes it (autoscaler profile).",
  ),
  mlWorkspace: doc(
    bool().default(false),
    "Also create an Azure ML workspace with an AmlCompute cluster of 0 minimum nodes.",
  ),
  tier: doc(
    oneOf(AKS_TIERS).optional(),
    "AKS pricing tier; only a paid tier has the API server SLA.",
    DERIVED.tier,
  ),
  availabilityZones: doc(
    z
      .array(
        z.preprocess(
          (zone) => (typeof zone === "number" ? String(zone) : zone),
          z.enum(AVAILABILITY_ZONES, { error: ZONES_ERROR }),
        ),
        { error: ZONES_ERROR },
      )
      .refine((list) => new Set(list).size === list.length, { error: ZONES_ERROR })
      .meta({ uniqueItems: true })
      .optional(),
    "Availability zones of both node pools; fixed when a pool is created. [] for none.",
    DERIVED.availabilityZones,
  ),
  kubeloginMode: doc(
    oneOf(KUBELOGIN_MODES).default("azurecli"),
    "How kubelogin gets the Entra token for the cluster's exec kubeconfig (`--login <mode>`).",
  ),
  deployerPrincipalType: doc(
    oneOf(PRINCIPAL_TYPES).default("ServicePrincipal"),
    "The kind of principal that runs `pulumi up` (it gets AKS RBAC Cluster Admin).",
  ),
  registry: doc(
    section({
      name: doc(
        text(/^[a-z0-9]{5,50}$/, "5 to 50 lowercase letters or digits").optional(),
        "The shared registry the bootstrap creates (`npm run azure:names` prints it).",
        unset("`mlopsacr<hash of subscription and project>`"),
      ),
      resourceGroup: doc(
        text(/^[-\w._()]{1,89}[-\w_()]$/, "a resource group name").default(SHARED_RESOURCE_GROUP),
        "Its resource group.",
      ),
    }).prefault({}),
    "The container registry every stack pushes to and pulls from, created once by the bootstrap.",
  ),
  nameSuffix: doc(
    text(/^[a-z0-9]{4,12}$/, "4 to 12 lowercase letters or digits").optional(),
    "Suffix of globally unique names (storage account).",
    unset("hash of subscription, project and stack"),
  ),
});

const image = section({
  build: doc(
    bool().default(false),
    "Build service/Dockerfile and push it to the registry (needs a Docker engine).",
  ),
  ref: doc(
    imageRef().optional(),
    "The image to deploy when `build` is false: `repo:tag` or `repo@sha256:<64 hex>`; prod: digest only; never `latest`.",
    unset("(required unless `build`)"),
  ),
  repository: doc(
    text(/^[a-z0-9]+(?:[._\-/][a-z0-9]+)*$/, "a lowercase repository name").default(
      "mlops-inference",
    ),
    "Repository name inside the registry when building.",
  ),
});

const app = section({
  namespace: doc(
    text(DNS_LABEL, "a DNS label").default("mlops"),
    "Namespace of every object of the app.",
  ),
  replicas: doc(
    int(1, 100).optional(),
    "Minimum replicas: the HorizontalPodAutoscaler's floor; prod ≥ 2; > 1 adds a PDB and topology spread.",
    DERIVED.replicas,
  ),
  autoscaling: section({
    maxReplicas: doc(
      int(1, 100).optional(),
      "Ceiling of the HorizontalPodAutoscaler.",
      DERIVED.maxReplicas,
    ),
    targetCpuPercent: doc(
      int(10, 100).default(70),
      "Average CPU utilisation the HPA aims for, in percent of the request.",
    ),
  }).prefault({}),
  resources: section({
    cpuRequestMillis: doc(
      int(10, 64000).default(250),
      "CPU request of the service, in millicores.",
    ),
    cpuLimitMillis: doc(int(10, 64000).default(1000), "CPU limit, in millicores."),
    memoryRequestMib: doc(int(32, 262144).default(256), "Memory request, in MiB."),
    memoryLimitMib: doc(int(32, 262144).default(512), "Memory limit, in MiB."),
  }).prefault({}),
  models: doc(
    versionPerModel().default(Object.fromEntries(BUNDLED_MODELS.map((m) => [m, "1"]))),
    "Model name -> the version the service must load (`MODEL_PINS`).",
  ),
  modelTraffic: doc(
    perModel(
      z
        .record(z.string(), int(0, 100), { error: "expected an object of keys and values" })
        .superRefine((split, ctx) => {
          const total = Object.values(split).reduce((a, b) => a + b, 0);
          if (total !== 100) {
            ctx.addIssue({
              code: "custom",
              input: split,
              message: `weights must add up to 100, not ${total}`,
            });
          }
        }),
    ).default({}),
    'Model A/B: model -> version -> percent of requests, e.g. `{mpg-regressor: {"1": 90, "2": 10}}`; weights sum to 100, sticky per `x-request-subject`.',
  ),
  modelShadow: doc(
    versionPerModel().default({}),
    "Shadow traffic: model -> a version that gets a copy of every request, measured in `/metrics`, never returned.",
  ),
  serviceType: doc(
    oneOf(SERVICE_TYPES).default("ClusterIP"),
    "Kubernetes Service type (`Pulumi.local.yaml`: `NodePort`); `LoadBalancer` is refused by policy unless allowed.",
  ),
  nodePort: doc(
    int(30000, 32767).optional(),
    "Fixed node port of the Service (not with `ClusterIP`); `Pulumi.local.yaml` sets 30080.",
    unset("none (Kubernetes picks one for a `NodePort` Service)"),
  ),
  terminationGracePeriodSeconds: doc(
    int(1, 600).default(30),
    "Seconds a pod gets to finish in-flight requests after SIGTERM; the service drains within this minus 5 s.",
  ),
  maxInFlight: doc(
    int(0, 100000).default(64),
    "Requests one pod serves at once; beyond it the pod answers 503 with Retry-After at once instead of queueing (0 = no bound).",
  ),
});

const ingress = section({
  api: doc(
    oneOf(TRAFFIC_APIS).default("gateway"),
    "`gateway`: a `Gateway` and an `HTTPRoute` (Gateway API, standard channel): the only API that can split traffic for a canary. `ingress`: one Kubernetes `Ingress`, for clusters whose only controller serves Ingresses.",
  ),
  gatewayClassName: doc(
    text(DNS_NAME, "a GatewayClass name").optional(),
    "GatewayClass of the `Gateway` (with `api: gateway`); on Azure the program installs Envoy Gateway and its GatewayClass under this name.",
    DERIVED.gatewayClassName,
  ),
  gatewayImage: doc(
    imageRef().optional(),
    "Image of the Envoy Gateway controller the Azure program installs (with `api: gateway`): by digest in prod (where `up` requires it, from the shared registry).",
    unset("the chart's own (a tag), outside prod"),
  ),
  envoyProxyImage: doc(
    imageRef().optional(),
    "Image of the Envoy proxies the Envoy Gateway controller runs for each Gateway (with `api: gateway`, on Azure): by digest in prod (where `up` requires it, from the shared registry).",
    unset("the controller's built-in one (a tag), outside prod"),
  ),
  className: doc(
    text(DNS_NAME, "an IngressClass name").optional(),
    "IngressClass of the `Ingress` (with `api: ingress`).",
    unset("none: required with `api: ingress`"),
  ),
  host: doc(
    text(DNS_NAME, "a DNS host name").default("mlops.localtest.me"),
    "Host name of the endpoint.",
  ),
  tls: doc(
    bool().optional(),
    "Terminate TLS at the Gateway (HTTPS listener) or Ingress with `tlsSecretName`; prod requires it.",
    DERIVED.tls,
  ),
  tlsSecretName: doc(
    text(DNS_NAME, "a Secret name").optional(),
    "Secret holding the TLS certificate: in the app's namespace (`certificate: external`), or written by the program in Envoy Gateway's namespace (`certificate: self-signed`) or in `controllerNamespace` (`certificate: stack-ca`).",
    DERIVED.tlsSecretName,
  ),
  certificate: doc(
    oneOf(CERTIFICATE_SOURCES).optional(),
    "With `tls`: `self-signed`: the Azure program issues the listener's certificate for `host` (a year, renewed by the first `up` in its last 30 days) and writes `tlsSecretName` before the Gateway; `stack-ca` (`api: gateway`): the program makes a CA (a year) and a serving certificate for `host` signed by it (30 days; both renewed by the first `up` in their last 30 and 10 days), writes `tlsSecretName` in `controllerNamespace` (which must exist) and exports the CA as `caCertificate` for clients to trust; `external`: the Secret is made outside the program (it must exist before the Gateway).",
    DERIVED.certificate,
  ),
  controllerNamespace: doc(
    text(DNS_LABEL, "a namespace name").optional(),
    "Namespace of the pods that forward traffic to the service (the data plane: Envoy Gateway's proxies, or the Ingress controller): a source the NetworkPolicy admits.",
    DERIVED.controllerNamespace,
  ),
  metricsNamespace: doc(
    text(DNS_LABEL, "a namespace name").optional(),
    "Namespace of the Prometheus scraper admitted to /metrics.",
    DERIVED.metricsNamespace,
  ),
  rateLimitPerClient: doc(
    int(1, 1000000).default(100),
    "Requests per second one client IP may send through each Gateway proxy (Envoy Gateway on Azure: a BackendTrafficPolicy on the route); more get 429.",
  ),
});

const auth = section({
  mode: doc(
    oneOf(AUTH_MODES).default("key"),
    "`key`: clients send one of the stack's two generated keys (`npm run keys`); `entra`: a Microsoft Entra ID access token with `role`; `none`: anyone (a `local` stack only). Checked at the Gateway on Azure and in the service.",
  ),
  tenantId: doc(
    text(GUID, "an Entra tenant id (a lowercase GUID)").optional(),
    "`entra`: the tenant that issues the tokens.",
    unset("none: required with `mode: entra`"),
  ),
  audience: doc(
    text(/^[!-~]{1,200}$/, "an app ID URI such as api://mlops-inference").optional(),
    "`entra`: the app ID URI of the endpoint's app registration (the tokens' `aud`).",
    unset("none: required with `mode: entra`"),
  ),
  role: doc(
    text(/^[A-Za-z0-9._-]{1,120}$/, "an app role value such as Score").default("Score"),
    "`entra`: the app role a token must hold (its `roles` claim), else 403.",
  ),
  issuer: doc(
    text(HTTPS_URL, "an https URL").optional(),
    "`entra`: the tokens' `iss`.",
    DERIVED.issuer,
  ),
  jwksUrl: doc(
    text(HTTPS_URL, "an https URL").optional(),
    "`entra`: where the issuer publishes its signing keys.",
    DERIVED.jwksUrl,
  ),
});

const training = section({
  schedule: doc(
    text(CRON, 'a cron expression of five fields (e.g. "0 3 * * *") or @daily/@weekly/...').default(
      "0 3 * * *",
    ),
    "Cron schedule of the training CronJob.",
  ),
  suspend: doc(bool().default(false), "Suspend the CronJob (no runs)."),
  cpuRequestMillis: doc(
    int(100, 256000).default(2000),
    "CPU request of the training pod: sized so the autoscaler must add a training node.",
  ),
  memoryRequestMib: doc(
    int(64, 1048576).default(4096),
    "Memory request of the training pod, in MiB.",
  ),
  activeDeadlineSeconds: doc(
    int(60, 86400).default(3600),
    "Seconds a training run may take before it is stopped; the last 3 successful and 3 failed Jobs are kept.",
  ),
  expectedDurationMinutes: doc(
    int(1, 1440).optional(),
    "Minutes a training run usually takes (measure one: `kubectl get jobs`); `npm run cost` prices the training pool's busy hours with it.",
    DERIVED.expectedDurationMinutes,
  ),
});

const trackModels = () =>
  doc(versionPerModel().optional(), "Model versions this Deployment loads.", DERIVED.trackModels);

const track = () =>
  section({
    image: doc(imageRef().optional(), "Image of this Deployment.", unset("`mlops:image`")),
    models: trackModels(),
  });

/** One variant per strategy, so each accepts exactly the keys its strategy uses. */
const release = z.discriminatedUnion(
  "strategy",
  [
    section({
      strategy: doc(
        z.literal("rolling").default("rolling"),
        "`rolling`: one Deployment. `canary`: a second Deployment the HTTPRoute sends `canary.weight` percent to (needs `ingress.api: gateway`). `blueGreen`: two Deployments; the Service selects `active`, so every route and client of the Service switches at once.",
      ),
    }),
    section({
      strategy: z.literal("canary"),
      canary: doc(
        section(
          {
            image: doc(
              imageRef("required: the image of the canary"),
              "Image of the canary Deployment (same rules as image.ref).",
            ),
            weight: doc(
              int(0, 100).default(0),
              "Percent of requests the HTTPRoute sends to the canary Service (the stable Service gets the rest; 0 aborts the canary).",
            ),
            models: trackModels(),
          },
          "required when release.strategy is canary: { image, weight, models? }",
        ),
        "The canary Deployment (required for canary).",
      ),
    }),
    section({
      strategy: z.literal("blueGreen"),
      active: doc(oneOf(COLOURS).default("blue"), "The colour the Service sends traffic to."),
      blue: doc(track().prefault({}), "The blue Deployment: its image and model versions."),
      green: doc(track().prefault({}), "The green Deployment: its image and model versions."),
    }),
  ],
  { error: `allowed: ${RELEASE_STRATEGIES.join(", ")}` },
);

const monitoring = section({
  scraper: doc(
    oneOf(SCRAPERS).optional(),
    "`none`: no monitoring object; `prometheus-operator`: PodMonitor, PrometheusRule and a dashboard ConfigMap; `azure-managed`: AKS managed Prometheus (target azure only).",
    DERIVED.scraper,
  ),
  scrapeIntervalSeconds: doc(int(5, 300).default(30), "Seconds between two scrapes of a pod."),
  driftPsiThreshold: doc(
    num(0.01, 10).default(0.2),
    "Feature drift alert: PSI above this value...",
  ),
  driftForMinutes: doc(int(1, 1440).default(15), "...for this many minutes."),
  availabilityObjectivePercent: doc(
    num(90, 99.99).default(99.5),
    "Percent of inference requests that are not 5xx (30-day window); the error-budget burn alerts derive from it.",
  ),
  clientErrorPercent: doc(
    num(0.1, 100).default(10),
    "4xx alert: percent of a model's requests answered 4xx.",
  ),
  latencyP99Millis: doc(
    int(1, 2499).default(500),
    "Latency alert: a model's p99 above this many milliseconds; below 2500 (the largest histogram bucket).",
  ),
  shadowDisagreementPercent: doc(
    num(0.1, 100).default(10),
    "Shadow alert (classification): percent of rows whose shadow label differs.",
  ),
  shadowMeanAbsDiff: doc(
    num(0.000001, 1e9).default(2),
    "Shadow alert (regression): mean |shadow − answer| per row, in the model's output unit.",
  ),
  trainingMaxAgeHours: doc(
    int(1, 24 * 366).optional(),
    "Training alert: hours since the last successful training run.",
    DERIVED.trainingMaxAgeHours,
  ),
  grafana: doc(
    bool().optional(),
    "`azure-managed` only: also create an Azure Managed Grafana.",
    DERIVED.grafana,
  ),
  actionGroupId: doc(
    text(
      ACTION_GROUP_ID,
      "an action group resource id (/subscriptions/<id>/resourceGroups/<rg>/providers/microsoft.insights/actionGroups/<name>)",
    ).optional(),
    "`azure-managed` only: an existing action group that Azure alerts notify.",
    unset("none: alerts notify nobody"),
  ),
  operatorLabels: doc(
    z
      .record(
        text(LABEL_KEY, "a Kubernetes label key"),
        text(LABEL_VALUE, "a Kubernetes label value (≤ 63 chars)"),
        { error: "expected an object of keys and values" },
      )
      .optional(),
    "`prometheus-operator` only: labels its selectors need (kube-prometheus-stack: `{release: <Helm release>}`).",
    DERIVED.operatorLabels,
  ),
});

/** What a stack file may hold under `mlops:`, as written (before defaults that depend on other
 * keys). The JSON Schema of the stack files is generated from it. */
export const StackConfigSchema = section({
  environment: doc(oneOf(ENVIRONMENTS), "`local`, `dev`, `prod`; prod turns on the strict rules."),
  target: doc(
    oneOf(TARGETS).default("local"),
    "`local` (any kube context) or `azure`; prod must be `azure`.",
  ),
  owner: doc(
    text(DNS_LABEL, "a lowercase DNS label").default("platform-team"),
    "Team that owns the stack; becomes the `owner` tag.",
  ),
  tags: doc(
    stringMap().default({}),
    "Extra tags on every Azure resource (`environment` and `owner` are always set).",
  ),
  azure: doc(azure.optional(), "Azure settings; only with target `azure`."),
  image: doc(image.prefault({}), "The image of the inference service."),
  app: doc(app.prefault({}), "The inference service's Kubernetes objects."),
  ingress: doc(ingress.prefault({}), "How the endpoint is exposed."),
  training: doc(training.prefault({}), "The training CronJob."),
  release: doc(release.prefault({}), "How a new version reaches users: see Release strategies."),
  monitoring: doc(
    monitoring.prefault({}),
    "Scrape config, alert rules and dashboard (docs/monitoring.md).",
  ),
  auth: doc(auth.prefault({}), "Who may score the models: see Authentication."),
});

/** The keys the `mlops` namespace accepts. */
export const TOP_LEVEL_KEYS = Object.keys(StackConfigSchema.shape) as Array<
  keyof typeof StackConfigSchema.shape
>;

// ---- 4. the defaults of section 2, applied ----

/** What a stack file holds, validated, before the defaults of section 2 are applied. An interface
 * rather than a type alias: TypeScript resolves it lazily, so the schema can hold the defaults whose
 * functions take it (an alias would make the schema's type refer to itself). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- see above
interface StackConfig extends z.output<typeof StackConfigSchema> {}
type Models = Readonly<Record<string, string>>;

/** The `azure` section with every default: what a stack without one (local) would get. */
export const AZURE_DEFAULTS = azure.parse({});

/** The stack's values with every default of section 2 applied: a key left out gets its
 * {@link DERIVED} value. */
function withDefaults(c: StackConfig) {
  const replicas = replicasOf(c);
  const scraper = scraperOf(c);
  const a = c.azure ?? AZURE_DEFAULTS;
  const { nodePort, ...appRest } = c.app;
  return {
    environment: c.environment,
    target: c.target,
    owner: c.owner,
    tags: c.tags as Readonly<Record<string, string>>,
    azure:
      c.target === "azure"
        ? {
            ...a,
            tier: a.tier ?? DERIVED.tier.of(c),
            availabilityZones: (a.availabilityZones ??
              DERIVED.availabilityZones.of(c)) as readonly string[],
          }
        : undefined,
    image: c.image.build
      ? { build: true, repository: c.image.repository }
      : { build: false, ref: c.image.ref, repository: c.image.repository },
    app: {
      ...appRest,
      replicas,
      autoscaling: {
        maxReplicas: c.app.autoscaling.maxReplicas ?? DERIVED.maxReplicas.of(c),
        targetCpuPercent: c.app.autoscaling.targetCpuPercent,
      },
      models: c.app.models as Models,
      modelTraffic: c.app.modelTraffic as Readonly<
        Record<string, Readonly<Record<string, number>>>
      >,
      modelShadow: c.app.modelShadow as Models,
      ...(nodePort === undefined ? {} : { nodePort }),
    },
    ingress: {
      ...c.ingress,
      gatewayClassName: c.ingress.gatewayClassName ?? DERIVED.gatewayClassName.of(c),
      className: c.ingress.api === "ingress" ? c.ingress.className : undefined,
      controllerNamespace: c.ingress.controllerNamespace ?? DERIVED.controllerNamespace.of(c),
      tls: c.ingress.tls ?? DERIVED.tls.of(c),
      tlsSecretName: c.ingress.tlsSecretName ?? DERIVED.tlsSecretName.of(c),
      certificate: c.ingress.certificate ?? DERIVED.certificate.of(c),
      metricsNamespace: c.ingress.metricsNamespace ?? DERIVED.metricsNamespace.of(c),
    },
    auth: authWithDefaults(c),
    training: {
      ...c.training,
      expectedDurationMinutes:
        c.training.expectedDurationMinutes ?? DERIVED.expectedDurationMinutes.of(c),
    },
    release: releaseWithDefaults(c),
    monitoring: {
      ...c.monitoring,
      scraper,
      trainingMaxAgeHours: c.monitoring.trainingMaxAgeHours ?? DERIVED.trainingMaxAgeHours.of(c),
      grafana: c.monitoring.grafana ?? DERIVED.grafana.of(c),
      operatorLabels: (c.monitoring.operatorLabels ?? DERIVED.operatorLabels.of(c)) as Readonly<
        Record<string, string>
      >,
    },
  };
}

/** Entra's issuer and key set follow from the tenant unless given. */
function authWithDefaults(c: StackConfig) {
  const a = c.auth;
  if (a.mode !== "entra") return { mode: a.mode, role: a.role };
  return {
    mode: a.mode,
    role: a.role,
    tenantId: a.tenantId,
    audience: a.audience,
    issuer: a.issuer ?? DERIVED.issuer.of(c),
    jwksUrl: a.jwksUrl ?? DERIVED.jwksUrl.of(c),
  };
}

/** One Deployment of the service: its image and the model versions it must load. */
export interface TrackConfig {
  /** @default `mlops:image` (its `ref`, or the built image) */
  readonly image?: string;
  /** @default `app.models` */
  readonly models: Models;
}

export interface CanaryConfig extends TrackConfig {
  readonly image: string;
  readonly weight: number;
}

/** Every strategy's settings in one shape (a field is set only for its strategy). */
export interface ReleaseConfig {
  readonly strategy: ReleaseStrategy;
  readonly canary?: CanaryConfig;
  readonly active?: Colour;
  readonly blue?: TrackConfig;
  readonly green?: TrackConfig;
}

function releaseWithDefaults(c: StackConfig): ReleaseConfig {
  const r = c.release;
  const models = (track: { models?: Models }) => track.models ?? DERIVED.trackModels.of(c);
  switch (r.strategy) {
    case "canary":
      return { strategy: r.strategy, canary: { ...r.canary, models: models(r.canary) } };
    case "blueGreen":
      return {
        strategy: r.strategy,
        active: r.active,
        blue: { image: r.blue.image, models: models(r.blue) },
        green: { image: r.green.image, models: models(r.green) },
      };
    default:
      return { strategy: r.strategy };
  }
}

// ---- 5. rules that relate two keys: [key, value received, what is allowed] ----

type Problem = readonly [key: string, received: unknown, allowed: string];

function* crossKeyProblems(c: StackConfig, p: PlatformConfig): Generator<Problem> {
  const prod = p.environment === "prod";
  if (prod && p.target === "local") {
    yield [
      "target",
      p.target,
      'a prod stack must target "azure" (local clusters are for the local and dev environments)',
    ];
  }
  if (c.azure !== undefined && p.target !== "azure") {
    yield ["azure", c.azure, 'only allowed when mlops:target is "azure"'];
  }
  if (p.azure) {
    for (const pool of ["systemPool", "trainingPool"] as const) {
      const { minCount, maxCount } = p.azure[pool];
      if (maxCount < minCount) {
        yield [
          `azure.${pool}.maxCount`,
          maxCount,
          `must be at least azure.${pool}.minCount (${minCount})`,
        ];
      }
    }
  }
  if (p.image.build && c.image.ref !== undefined) {
    yield ["image.ref", c.image.ref, "leave it unset when image.build is true"];
  }
  if (!p.image.build && p.image.ref === undefined) {
    yield [
      "image.ref",
      undefined,
      "required when image.build is false: set repo:tag, or repo@sha256:<digest> in prod",
    ];
  }
  const images: Array<[string, string | undefined]> = [
    ["image.ref", p.image.ref],
    ["release.canary.image", p.release.canary?.image],
    ["ingress.gatewayImage", p.ingress.gatewayImage],
    ["ingress.envoyProxyImage", p.ingress.envoyProxyImage],
    ["release.blue.image", p.release.blue?.image],
    ["release.green.image", p.release.green?.image],
  ];
  for (const [key, ref] of images) {
    if (prod && ref !== undefined && !isDigestRef(ref)) {
      yield [key, ref, "prod deploys by digest: use <repo>@sha256:<64 hex>"];
    }
  }
  const { app } = p;
  if (app.autoscaling.maxReplicas < app.replicas) {
    yield [
      "app.autoscaling.maxReplicas",
      app.autoscaling.maxReplicas,
      `must be at least app.replicas (${app.replicas})`,
    ];
  }
  const r = app.resources;
  if (r.cpuLimitMillis < r.cpuRequestMillis) {
    yield [
      "app.resources.cpuLimitMillis",
      r.cpuLimitMillis,
      `must be at least app.resources.cpuRequestMillis (${r.cpuRequestMillis})`,
    ];
  }
  if (r.memoryLimitMib < r.memoryRequestMib) {
    yield [
      "app.resources.memoryLimitMib",
      r.memoryLimitMib,
      `must be at least app.resources.memoryRequestMib (${r.memoryRequestMib})`,
    ];
  }
  for (const [name, version] of Object.entries(app.modelShadow)) {
    // The service refuses to start with a shadow that already answers every request.
    const split = app.modelTraffic[name];
    if (split ? split[version] === 100 : app.models[name] === version) {
      yield [
        `app.modelShadow.${name}`,
        version,
        "this version already answers every request: shadow a candidate version instead",
      ];
    }
  }
  if (app.nodePort !== undefined && app.serviceType === "ClusterIP") {
    yield [
      "app.nodePort",
      app.nodePort,
      "a ClusterIP Service has no node port: set app.serviceType to NodePort (or LoadBalancer)",
    ];
  }
  const { api } = p.ingress;
  if (api === "gateway" && c.ingress.className !== undefined) {
    yield [
      "ingress.className",
      c.ingress.className,
      "the IngressClass of ingress.api: ingress. The traffic layer is the Gateway API by default: " +
        `remove ingress.className (the Gateway's class is ingress.gatewayClassName, default "${DEFAULT_GATEWAY_CLASS}"), ` +
        "or set ingress.api: ingress with the class and ingress.controllerNamespace of the Ingress controller you run",
    ];
  }
  if (api === "ingress") {
    for (const key of ["gatewayClassName", "gatewayImage", "envoyProxyImage"] as const) {
      if (c.ingress[key] !== undefined) {
        yield [`ingress.${key}`, c.ingress[key], "only used with ingress.api: gateway"];
      }
    }
    if (c.ingress.className === undefined) {
      yield [
        "ingress.className",
        undefined,
        "required with ingress.api: ingress: the IngressClass of the controller you run",
      ];
    }
    if (c.ingress.controllerNamespace === undefined) {
      yield [
        "ingress.controllerNamespace",
        undefined,
        "required with ingress.api: ingress: the namespace of that controller's pods (the NetworkPolicy admits it)",
      ];
    }
    if (p.release.strategy === "canary") {
      yield [
        "ingress.api",
        api,
        "release.strategy canary needs ingress.api: gateway (an HTTPRoute weights the stable and canary Services; an Ingress cannot split traffic)",
      ];
    }
  }
  if (c.ingress.certificate === "self-signed" && (p.target !== "azure" || api !== "gateway")) {
    yield [
      "ingress.certificate",
      c.ingress.certificate,
      'the program issues a certificate on mlops:target "azure" with ingress.api "gateway" only; use "external" and create the Secret',
    ];
  }
  if (c.ingress.certificate === "stack-ca" && api !== "gateway") {
    yield [
      "ingress.certificate",
      c.ingress.certificate,
      'the stack\'s CA signs the certificate of a Gateway listener: needs ingress.api "gateway"; use "external" and create the Secret',
    ];
  }
  if (c.ingress.certificate !== undefined && !p.ingress.tls) {
    yield ["ingress.certificate", c.ingress.certificate, "only used with ingress.tls: true"];
  }
  if (prod && !p.ingress.tls) {
    yield ["ingress.tls", p.ingress.tls, "prod serves over TLS: set it to true"];
  }
  const { scraper } = p.monitoring;
  if (scraper === "azure-managed" && p.target !== "azure") {
    yield [
      "monitoring.scraper",
      scraper,
      'AKS managed Prometheus needs mlops:target "azure"; use "prometheus-operator" or "none"',
    ];
  }
  for (const key of ["grafana", "actionGroupId"] as const) {
    if (c.monitoring[key] !== undefined && scraper !== "azure-managed") {
      yield [
        `monitoring.${key}`,
        c.monitoring[key],
        'only allowed when monitoring.scraper is "azure-managed"',
      ];
    }
  }
  if (c.monitoring.operatorLabels !== undefined && scraper !== "prometheus-operator") {
    yield [
      "monitoring.operatorLabels",
      c.monitoring.operatorLabels,
      'only allowed when monitoring.scraper is "prometheus-operator"',
    ];
  }
  if (p.auth.mode === "none" && p.environment !== "local") {
    yield [
      "auth.mode",
      "none",
      `only a stack whose environment is "local" may serve without authentication; a ${p.environment} stack uses "key" or "entra"`,
    ];
  }
  if (p.auth.mode === "entra") {
    for (const key of ["tenantId", "audience"] as const) {
      if (c.auth[key] === undefined) {
        yield [
          `auth.${key}`,
          undefined,
          "required with auth.mode: entra (docs/azure.md, Authentication)",
        ];
      }
    }
  } else {
    for (const key of ["tenantId", "audience", "issuer", "jwksUrl"] as const) {
      if (c.auth[key] !== undefined) {
        yield [`auth.${key}`, c.auth[key], "only used with auth.mode: entra"];
      }
    }
  }
  if (prod && p.app.replicas < 2) {
    yield ["app.replicas", p.app.replicas, "prod needs at least 2 replicas"];
  }
}

/** The stack configuration, validated and fully defaulted. */
export const PlatformConfigSchema = StackConfigSchema.transform((stack, ctx) => {
  const config = withDefaults(stack);
  for (const [key, received, allowed] of crossKeyProblems(stack, config)) {
    ctx.issues.push({ code: "custom", path: key.split("."), input: received, message: allowed });
  }
  return config;
});

export type PlatformConfig = z.output<typeof PlatformConfigSchema>;
export type AzureConfig = NonNullable<PlatformConfig["azure"]>;
export type NodePoolConfig = AzureConfig["systemPool"];
export type SharedRegistryConfig = AzureConfig["registry"];
export type ImageConfig = PlatformConfig["image"];
export type AppConfig = PlatformConfig["app"];
export type AutoscalingConfig = AppConfig["autoscaling"];
export type ResourcesConfig = AppConfig["resources"];
export type IngressConfig = PlatformConfig["ingress"];
export type TrainingConfig = PlatformConfig["training"];
export type AuthConfig = PlatformConfig["auth"];
export type MonitoringConfig = PlatformConfig["monitoring"];

// ---- errors, parsing and loading ----

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

/** Validates raw stack values and applies every default. Pure: throws {@link ConfigError}. */
export function parseConfig(raw: RawConfig): PlatformConfig {
  const result = PlatformConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) throw configError(result.error.issues[0], raw);
  return result.data;
}

/** The first problem as a ConfigError: the full key (an unknown key's own name; a list, not the
 * position in it), and the value as written, or the defaulted value a rule refused. */
function configError(issue: z.core.$ZodIssue, raw: RawConfig): ConfigError {
  const at: PropertyKey[] = [...issue.path];
  if (issue.code === "unrecognized_keys") at.push(issue.keys[0]);
  while (typeof at[at.length - 1] === "number") at.pop();
  const path = at.map(String);
  const written = valueAt(raw, path);
  return new ConfigError(
    path.join("."),
    written.found ? written.value : issue.input,
    issue.message,
  );
}

function valueAt(raw: unknown, path: readonly string[]): { found: boolean; value?: unknown } {
  let value = raw;
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) {
      return { found: false };
    }
    value = (value as Record<string, unknown>)[key];
  }
  return { found: true, value };
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
