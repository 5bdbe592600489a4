/**
 * Azure policies over azure-native v3 resources (input property names as in the SDK's
 * `<Resource>Args`).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { settingsFor } from "./config";
import { resourcePolicy } from "./rules";
import { isRecord, list, listing, num, Props, rec, str, stringMap } from "./values";

export const REGISTRY = "azure-native:containerregistry:Registry";
export const MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster";
export const AGENT_POOL = "azure-native:containerservice:AgentPool";
export const STORAGE_ACCOUNT = "azure-native:storage:StorageAccount";
export const PUBLIC_IP = "azure-native:network:PublicIPAddress";

/**
 * The azure-native types of the platform whose inputs accept `tags` (checked against the SDK's
 * `<Resource>Args`). A type missing here is not checked: add it when the program starts using it.
 */
export const TAGGABLE_TYPES = [
  "azure-native:resources:ResourceGroup",
  MANAGED_CLUSTER,
  AGENT_POOL,
  REGISTRY,
  STORAGE_ACCOUNT,
  "azure-native:managedidentity:UserAssignedIdentity",
  "azure-native:operationalinsights:Workspace",
  "azure-native:applicationinsights:Component",
  "azure-native:keyvault:Vault",
  "azure-native:machinelearningservices:Workspace",
  "azure-native:machinelearningservices:Compute",
  "azure-native:network:VirtualNetwork",
  "azure-native:network:NetworkSecurityGroup",
  PUBLIC_IP,
  "azure-native:monitor:AzureMonitorWorkspace",
  "azure-native:monitor:DataCollectionEndpoint",
  "azure-native:monitor:DataCollectionRule",
  "azure-native:alertsmanagement:PrometheusRuleGroup",
  "azure-native:dashboard:Grafana",
] as const;

/** The tag (name and value) that marks the one public IP the platform allows: the ingress's. */
export const INGRESS_IP_TAG = { name: "role", value: "ingress" } as const;

export const registryAdminUserDisabled = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-acr-admin-user-disabled",
      description: "The container registry's shared admin user is disabled.",
      enforcementLevel: "mandatory",
      remediationSteps:
        "Set adminUserEnabled: false; pull with the cluster's kubelet identity (AcrPull role).",
    },
    [REGISTRY],
    ({ props }) =>
      props.adminUserEnabled === true
        ? ["adminUserEnabled is true: the shared admin credentials bypass Entra ID and RBAC"]
        : [],
  );

export const aksLocalAccountsDisabled = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-aks-local-accounts-disabled",
      description: "The AKS cluster has no local (certificate) accounts.",
      enforcementLevel: "mandatory",
      remediationSteps: "Set disableLocalAccounts: true.",
    },
    [MANAGED_CLUSTER],
    ({ props }) =>
      props.disableLocalAccounts === true
        ? []
        : ["disableLocalAccounts is not true: the local admin kubeconfig bypasses Entra ID"],
  );

export const aksAzureRbac = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-aks-azure-rbac",
      description: "The AKS cluster authorises Kubernetes access with Azure RBAC (Entra ID).",
      enforcementLevel: "mandatory",
      remediationSteps: "Set aadProfile: { managed: true, enableAzureRBAC: true }.",
    },
    [MANAGED_CLUSTER],
    ({ props }) =>
      rec(props.aadProfile).enableAzureRBAC === true
        ? []
        : ["aadProfile.enableAzureRBAC is not true: Kubernetes access must go through Azure RBAC"],
  );

/** An agent pool, inline (`agentPoolProfiles[]`) or an `AgentPool` resource. */
interface Pool {
  readonly label: string;
  readonly props: Props;
}

const inlinePools = (props: Props): Pool[] =>
  list(props.agentPoolProfiles).map((p, i) => {
    const profile = rec(p);
    return { label: `agentPoolProfiles[${i}] "${str(profile.name) ?? "?"}"`, props: profile };
  });

const poolResource = (name: string, props: Props): Pool => ({
  label: `agent pool "${str(props.agentPoolName) ?? name}"`,
  props,
});

function systemPoolProblems(pool: Pool): string[] {
  const { props } = pool;
  const floor = props.enableAutoScaling === true ? props.minCount : props.count;
  const field = props.enableAutoScaling === true ? "minCount" : "count";
  const n = num(floor);
  return n !== undefined && n < 1
    ? [`System ${pool.label} has ${field} ${n}: it runs the cluster add-ons, keep at least 1 node`]
    : [];
}

export const aksSystemPoolNeverZero = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-aks-system-pool-never-zero",
      description:
        "The cluster has a System-mode pool and no System pool can reach 0 nodes (count, or " +
        "minCount when autoscaling).",
      enforcementLevel: "mandatory",
      remediationSteps: "Keep count (or minCount) of System pools at 1 or more.",
    },
    [MANAGED_CLUSTER, AGENT_POOL],
    ({ type, name, props, notApplicable }) => {
      if (type === AGENT_POOL) {
        if (props.mode !== "System") notApplicable("not a System-mode pool");
        return systemPoolProblems(poolResource(name, props));
      }
      const pools = inlinePools(props);
      if (pools.length === 0) notApplicable("no inline agentPoolProfiles");
      const system = pools.filter((p) => p.props.mode === "System");
      if (system.length === 0) return ['agentPoolProfiles has no pool of mode "System"'];
      return system.flatMap(systemPoolProblems);
    },
  );

const trainingPoolSettings = settingsFor(
  "trainingPoolLabelKey",
  "trainingPoolLabelValue",
  "trainingTaintEffect",
);

export const aksTrainingPool = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-aks-training-pool",
      description:
        "Every non-System pool is a training pool: mode User, autoscaling from minCount 0, " +
        "reserved by the training taint and carrying the training label.",
      enforcementLevel: "mandatory",
      remediationSteps:
        "Set mode User, enableAutoScaling true, minCount 0, nodeTaints with the training taint " +
        "and nodeLabels with the training label.",
    },
    [MANAGED_CLUSTER, AGENT_POOL],
    ({ type, name, props, settings, notApplicable }) => {
      const pools = (type === AGENT_POOL ? [poolResource(name, props)] : inlinePools(props)).filter(
        (p) => p.props.mode !== "System",
      );
      if (pools.length === 0) notApplicable("no training (non-System) pool");
      const key = settings.trainingPoolLabelKey;
      const value = settings.trainingPoolLabelValue;
      const taint = `${key}=${value}:${settings.trainingTaintEffect}`;
      return pools.flatMap(({ label, props: p }) => {
        const out: string[] = [];
        if (p.mode !== "User") out.push(`${label}: mode is not "User"`);
        if (p.enableAutoScaling !== true) {
          out.push(`${label}: enableAutoScaling is not true, so it cannot scale to zero`);
        }
        if (p.minCount !== 0) {
          out.push(
            `${label}: minCount is ${JSON.stringify(p.minCount) ?? "not set"}; ` +
              "the training pool must scale to 0 when idle",
          );
        }
        if (!list(p.nodeTaints).includes(taint)) {
          out.push(`${label}: nodeTaints lacks "${taint}", so any pod could keep a node up`);
        }
        if (stringMap(p.nodeLabels)[key] !== value) {
          out.push(
            `${label}: nodeLabels lacks ${key}: ${value}, so training pods cannot select it`,
          );
        }
        return out;
      });
    },
    trainingPoolSettings,
  );

/** AKS tiers with an SLA on the API server. */
const SLA_TIERS = ["Standard", "Premium"];

export const aksProdZonesAndTier = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-aks-prod-zones-and-tier",
      description:
        "In prod, the AKS cluster runs a tier with an API server SLA (Standard or Premium) and " +
        "every node pool spreads over at least two availability zones.",
      enforcementLevel: "mandatory",
      remediationSteps:
        'Set mlops:azure.tier to "Standard" and mlops:azure.availabilityZones to ["1", "2", "3"] ' +
        "(the prod defaults). Zones are fixed when a pool is created.",
    },
    [MANAGED_CLUSTER, AGENT_POOL],
    ({ type, name, props, settings, notApplicable }) => {
      if (settings.environment !== "prod")
        notApplicable("zones and the SLA are required in prod only");
      const out: string[] = [];
      if (type === MANAGED_CLUSTER) {
        const tier = str(rec(props.sku).tier) ?? "Free";
        if (!SLA_TIERS.includes(tier)) {
          out.push(`sku.tier is "${tier}": prod needs an API server SLA (Standard or Premium)`);
        }
      }
      const pools = type === AGENT_POOL ? [poolResource(name, props)] : inlinePools(props);
      for (const { label, props: p } of pools) {
        const zones = list(p.availabilityZones);
        if (zones.length < 2) {
          out.push(
            `${label} has ${zones.length === 0 ? "no availability zones" : `only zone ${JSON.stringify(zones[0])}`}: ` +
              "a zone outage takes all its nodes",
          );
        }
      }
      return out;
    },
    settingsFor("environment"),
  );

export const storageNoPublicBlobAccess = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-storage-no-public-blob-access",
      description: "Storage accounts forbid anonymous public access to blobs.",
      enforcementLevel: "mandatory",
      remediationSteps: "Set allowBlobPublicAccess: false.",
    },
    [STORAGE_ACCOUNT],
    ({ props }) =>
      props.allowBlobPublicAccess === false
        ? []
        : ["allowBlobPublicAccess is not false: containers could be made publicly readable"],
  );

const MODERN_TLS = ["TLS1_2", "TLS1_3"];

export const storageMinTls = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-storage-min-tls",
      description: "Storage accounts refuse TLS versions older than 1.2.",
      enforcementLevel: "mandatory",
      remediationSteps: 'Set minimumTlsVersion: "TLS1_2".',
    },
    [STORAGE_ACCOUNT],
    ({ props }) => {
      const v = props.minimumTlsVersion;
      if (v === undefined) return ['minimumTlsVersion is not set: use "TLS1_2"'];
      return typeof v === "string" && !MODERN_TLS.includes(v)
        ? [`minimumTlsVersion is "${v}": use "TLS1_2"`]
        : [];
    },
  );

export const requiredTags = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-required-tags",
      description:
        "Taggable Azure resources carry the required tags (environment, owner) with a value.",
      enforcementLevel: "mandatory",
      remediationSteps: "Add the missing tags (the program sets them from mlops:owner).",
    },
    TAGGABLE_TYPES,
    ({ props, settings, notApplicable }) => {
      if (props.tags !== undefined && !isRecord(props.tags)) notApplicable("tags not known yet");
      const tags = stringMap(props.tags);
      const missing = settings.requiredTags.filter((t) => !tags[t]);
      return missing.length === 0 ? [] : [`tags lack ${listing(missing)}`];
    },
    settingsFor("requiredTags"),
  );

export const noPublicIp = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "azure-no-public-ip",
      description:
        `No public IP address except the ingress's (tagged ${INGRESS_IP_TAG.name}: ` +
        `${INGRESS_IP_TAG.value}).`,
      enforcementLevel: "mandatory",
      remediationSteps: "Reach the service through the ingress; do not create public IPs.",
    },
    [PUBLIC_IP],
    ({ props }) =>
      stringMap(props.tags)[INGRESS_IP_TAG.name] === INGRESS_IP_TAG.value
        ? []
        : [
            "a public IP address is only allowed for the ingress " +
              `(tag ${INGRESS_IP_TAG.name}: ${INGRESS_IP_TAG.value})`,
          ],
  );

/** Every Azure policy of the pack. */
export const azurePolicies = (): ResourceValidationPolicy[] => [
  registryAdminUserDisabled(),
  aksLocalAccountsDisabled(),
  aksAzureRbac(),
  aksSystemPoolNeverZero(),
  aksTrainingPool(),
  aksProdZonesAndTier(),
  storageNoPublicBlobAccess(),
  storageMinTls(),
  requiredTags(),
  noPublicIp(),
];
