import * as authorization from "@pulumi/azure-native/authorization";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as resources from "@pulumi/azure-native/resources";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse, stringify } from "yaml";
import { AksTier, KubeloginMode, NodePoolConfig, PrincipalType } from "../config";
import {
  TRAINING_POOL_LABEL_KEY,
  TRAINING_POOL_LABEL_VALUE,
  TRAINING_TAINT,
} from "../k8s/training-pool";
import { roleDefinitionId, ROLES } from "./names";

export interface ClusterArgs {
  /** Azure region. */
  readonly location: string;
  /** AKS version. @default AKS's default */
  readonly kubernetesVersion?: string;
  /** The system pool: inline in the cluster, autoscaled, never at 0. */
  readonly systemPool: NodePoolConfig;
  /** The training pool: a separate AgentPool, autoscaled from 0, reserved by a taint. */
  readonly trainingPool: NodePoolConfig;
  /** Minutes a node must be unneeded before the autoscaler removes it. */
  readonly scaleDownUnneededMinutes: number;
  /** AKS pricing tier (`Standard`: the API server SLA). */
  readonly tier: AksTier;
  /** Availability zones of both pools ([] for none). Fixed when a pool is created. */
  readonly availabilityZones: readonly string[];
  /** kubelogin login method written into the provider's kubeconfig. */
  readonly kubeloginMode: KubeloginMode;
  /** The kind of principal that runs `pulumi up` (it gets AKS RBAC Cluster Admin). */
  readonly deployerPrincipalType: PrincipalType;
  /** Tags of every taggable resource. */
  readonly tags: Record<string, string>;
  /** Enable the managed Prometheus metrics add-on (`azureMonitorProfile.metrics`); its data
   * collection rule and workspace are infra/azure/monitoring.ts. @default false */
  readonly managedPrometheus?: boolean;
}

/** The name of the training AgentPool (AKS pool names: lowercase, ≤ 12 chars). */
export const TRAINING_POOL_NAME = "training";
/** The name of the inline system pool. */
export const SYSTEM_POOL_NAME = "system";
/** What the cluster autoscaler owns on the inline system pool, and so all `up` leaves alone. */
export const SYSTEM_POOL_IGNORED = ["agentPoolProfiles[0].count"];
/** Azure documents up to five minutes before a new Azure RBAC for Kubernetes role assignment is
 * seen by the cluster's authorization (docs/azure.md). */
export const RBAC_PROPAGATION_MS = 5 * 60 * 1000;

/**
 * A resource group and an AKS cluster with managed identity, Azure RBAC (no local accounts), OIDC
 * issuer + workload identity, the blob CSI driver, a system pool, and a training pool that the
 * cluster autoscaler takes down to zero nodes when no training pod needs it.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly resourceGroup: resources.ResourceGroup;
  readonly cluster: containerservice.ManagedCluster;
  readonly trainingPool: containerservice.AgentPool;
  /** The deploying identity's Kubernetes rights: AKS RBAC Cluster Admin on this cluster. */
  readonly deployerAccess: authorization.RoleAssignment;
  /** Object id of the kubelet identity (the principal that pulls images). */
  readonly kubeletObjectId: pulumi.Output<string>;
  /** The cluster's OIDC issuer URL (for workload identity federation). */
  readonly oidcIssuerUrl: pulumi.Output<string>;
  /** An exec-format kubeconfig (needs kubelogin; local accounts are disabled). Secret. */
  readonly kubeconfig: pulumi.Output<string>;
  /** A provider for the cluster's Kubernetes API. */
  readonly provider: k8s.Provider;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:azure:Cluster", name, {}, opts);
    const { location, tags } = args;

    this.resourceGroup = new resources.ResourceGroup(
      `${name}-rg`,
      { location, tags },
      { parent: this },
    );

    this.cluster = new containerservice.ManagedCluster(
      `${name}-aks`,
      {
        resourceGroupName: this.resourceGroup.name,
        location,
        tags,
        dnsPrefix: name,
        kubernetesVersion: args.kubernetesVersion,
        sku: { name: "Base", tier: args.tier },
        identity: { type: "SystemAssigned" },
        disableLocalAccounts: true,
        enableRBAC: true,
        aadProfile: { managed: true, enableAzureRBAC: true },
        oidcIssuerProfile: { enabled: true },
        securityProfile: { workloadIdentity: { enabled: true } },
        storageProfile: { blobCSIDriver: { enabled: true } },
        networkProfile: {
          networkPlugin: "azure",
          networkPluginMode: "overlay",
          networkDataplane: "cilium",
          networkPolicy: "cilium",
        },
        // Only the system pool is inline: the training pool is its own AgentPool resource.
        agentPoolProfiles: [systemPoolProfile(args.systemPool, args.availabilityZones)],
        autoScalerProfile: autoscalerProfile(args.scaleDownUnneededMinutes),
        ...(args.managedPrometheus ? { azureMonitorProfile: managedPrometheusProfile() } : {}),
      },
      {
        parent: this,
        // The autoscaler moves the system pool's node count; everything else of the pool (VM
        // size, bounds, disk) is ours and applies on the next `up`.
        ignoreChanges: SYSTEM_POOL_IGNORED,
      },
    );

    this.trainingPool = new containerservice.AgentPool(
      `${name}-training-pool`,
      {
        resourceGroupName: this.resourceGroup.name,
        resourceName: this.cluster.name,
        tags,
        ...trainingPoolArgs(args.trainingPool, args.availabilityZones),
      },
      { parent: this, ignoreChanges: ["count"] },
    );

    this.kubeletObjectId = this.cluster.identityProfile.apply((profile) => {
      const objectId = profile?.["kubeletidentity"]?.objectId;
      if (!objectId) throw new Error(`AKS cluster ${name} reports no kubelet identity`);
      return objectId;
    });
    this.oidcIssuerUrl = this.cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? "");

    // With Azure RBAC for Kubernetes, Contributor grants nothing inside the cluster: the identity
    // that deploys gets AKS RBAC Cluster Admin on it (the app creates a Namespace and a
    // PersistentVolume, both cluster-scoped).
    const client = authorization.getClientConfigOutput({ parent: this });
    this.deployerAccess = new authorization.RoleAssignment(
      `${name}-deployer-admin`,
      {
        principalId: client.objectId,
        principalType: args.deployerPrincipalType,
        roleDefinitionId: client.subscriptionId.apply((s) =>
          roleDefinitionId(s, ROLES.aksRbacClusterAdmin),
        ),
        scope: this.cluster.id,
      },
      {
        parent: this,
        // Granted to whoever creates the cluster (CI's deploying identity). A later caller (a
        // person's `up`, the read-only identity of a PR preview) must not replace it with
        // itself: people get their cluster roles from the bootstrap (docs/azure.md).
        ignoreChanges: ["principalId", "principalType"],
      },
    );

    const credentials = containerservice.listManagedClusterUserCredentialsOutput(
      {
        resourceGroupName: this.resourceGroup.name,
        resourceName: this.cluster.name,
        format: "exec",
      },
      { parent: this },
    );
    const mode = args.kubeloginMode;
    this.kubeconfig = pulumi.secret(
      pulumi
        .all([credentials.kubeconfigs, this.deployerAccess.createdOn])
        .apply(async ([configs, createdOn]) => {
          // A role assignment made in this `up` is not yet honoured by the API server.
          const wait = pulumi.runtime.isDryRun() ? 0 : rbacPropagationWaitMs(createdOn, Date.now());
          if (wait > 0) {
            pulumi.log.info(`waiting ${Math.ceil(wait / 1000)} s for AKS RBAC to propagate`, this);
            await new Promise((resolve) => setTimeout(resolve, wait));
          }
          return withKubeloginMode(
            Buffer.from(configs[0]?.value ?? "", "base64").toString("utf8"),
            mode,
          );
        }),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this, dependsOn: [this.deployerAccess] },
    );

    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      oidcIssuerUrl: this.oidcIssuerUrl,
      trainingPoolName: this.trainingPool.name,
    });
  }
}

/** The inline system pool: autoscaled between its bounds, never below 1 node. */
export function systemPoolProfile(pool: NodePoolConfig, zones: readonly string[] = []) {
  if (pool.minCount < 1) {
    throw new Error(
      `system pool minCount is ${pool.minCount}: the system pool runs the cluster's add-ons and must keep at least 1 node`,
    );
  }
  return {
    name: SYSTEM_POOL_NAME,
    mode: "System",
    vmSize: pool.vmSize,
    osType: "Linux",
    osDiskSizeGB: pool.osDiskSizeGb,
    type: "VirtualMachineScaleSets",
    enableAutoScaling: true,
    count: pool.minCount,
    minCount: pool.minCount,
    maxCount: pool.maxCount,
    ...zoneArgs(zones),
  };
}

/** The training pool: a User pool the autoscaler moves between 0 and max, reserved by a taint. */
export function trainingPoolArgs(pool: NodePoolConfig, zones: readonly string[] = []) {
  if (pool.minCount !== 0) {
    throw new Error(
      `training pool minCount is ${pool.minCount}: it must be 0 so the pool scales to zero when idle`,
    );
  }
  return {
    agentPoolName: TRAINING_POOL_NAME,
    mode: "User",
    vmSize: pool.vmSize,
    osType: "Linux",
    osDiskSizeGB: pool.osDiskSizeGb,
    type: "VirtualMachineScaleSets",
    enableAutoScaling: true,
    count: 0,
    minCount: 0,
    maxCount: pool.maxCount,
    nodeLabels: { [TRAINING_POOL_LABEL_KEY]: TRAINING_POOL_LABEL_VALUE },
    nodeTaints: [`${TRAINING_TAINT.key}=${TRAINING_TAINT.value}:${TRAINING_TAINT.effect}`],
    ...zoneArgs(zones),
  };
}

/** `availabilityZones` when there are any: an empty list is left out (the region's default). */
function zoneArgs(zones: readonly string[]): { availabilityZones?: string[] } {
  return zones.length > 0 ? { availabilityZones: [...zones] } : {};
}

/**
 * A cluster autoscaler profile that removes idle nodes after `minutes`. The scan interval stays at
 * AKS's default (10 s; the API takes a bare number of seconds, "10", not "10s").
 */
export function autoscalerProfile(minutes: number) {
  return {
    scaleDownUnneededTime: `${minutes}m`,
    scaleDownDelayAfterAdd: `${minutes}m`,
    scaleDownUnreadyTime: `${minutes}m`,
    expander: "least-waste",
    skipNodesWithLocalStorage: "false",
    balanceSimilarNodeGroups: "true",
  };
}

/**
 * Milliseconds still to wait, at `now`, until a role assignment created at `createdOn` has had
 * {@link RBAC_PROPAGATION_MS} to propagate. An unreadable time waits the whole window.
 */
export function rbacPropagationWaitMs(createdOn: string | undefined, now: number): number {
  const created = createdOn === undefined ? NaN : Date.parse(createdOn);
  if (Number.isNaN(created)) return RBAC_PROPAGATION_MS;
  return Math.min(RBAC_PROPAGATION_MS, Math.max(0, created + RBAC_PROPAGATION_MS - now));
}

/**
 * The exec kubeconfig AKS returns, with kubelogin's login method set to `mode` in every user's
 * `kubelogin get-token` arguments: what `kubelogin convert-kubeconfig -l <mode>` does. AKS's own
 * kubeconfig says `--login devicecode`, which waits for a person to type a code.
 */
export function withKubeloginMode(kubeconfig: string, mode: KubeloginMode): string {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const config = parse(kubeconfig) as any;
  const users: unknown[] = Array.isArray(config?.users) ? config.users : [];
  let converted = 0;
  for (const user of users) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const exec = (user as any)?.user?.exec;
    if (!exec || !/(^|\/)kubelogin(\.exe)?$/.test(String(exec.command ?? ""))) continue;
    const args: string[] = Array.isArray(exec.args) ? exec.args.map(String) : [];
    const kept: string[] = [];
    for (let i = 0; i < args.length; i++) {
      if (args[i] === "--login" || args[i] === "-l") i++;
      else if (!args[i].startsWith("--login=")) kept.push(args[i]);
    }
    exec.args = [...kept, "--login", mode];
    converted++;
  }
  if (converted === 0) {
    throw new Error(
      "the cluster's kubeconfig has no kubelogin exec user: expected the exec format of an AKS " +
        "cluster with Entra ID and local accounts disabled",
    );
  }
  return stringify(config);
}

/** The metrics add-on of AKS managed Prometheus (ama-metrics, with its own kube-state-metrics). */
export function managedPrometheusProfile() {
  return {
    metrics: {
      enabled: true,
      kubeStateMetrics: { metricLabelsAllowlist: "", metricAnnotationsAllowList: "" },
    },
  };
}
