import * as containerservice from "@pulumi/azure-native/containerservice";
import * as resources from "@pulumi/azure-native/resources";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  NodePoolConfig,
  TRAINING_POOL_LABEL_KEY,
  TRAINING_POOL_LABEL_VALUE,
  TRAINING_TAINT,
} from "../config";

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

/**
 * A resource group and an AKS cluster with managed identity, Azure RBAC (no local accounts), OIDC
 * issuer + workload identity, the blob CSI driver, a system pool, and a training pool that the
 * cluster autoscaler takes down to zero nodes when no training pod needs it.
 */
export class Cluster extends pulumi.ComponentResource {
  readonly resourceGroup: resources.ResourceGroup;
  readonly cluster: containerservice.ManagedCluster;
  readonly trainingPool: containerservice.AgentPool;
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
        agentPoolProfiles: [systemPoolProfile(args.systemPool)],
        autoScalerProfile: autoscalerProfile(args.scaleDownUnneededMinutes),
        ...(args.managedPrometheus ? { azureMonitorProfile: managedPrometheusProfile() } : {}),
      },
      {
        parent: this,
        // Inline pools and AgentPool resources fight over the pool list: after creation, pools
        // are managed by their own resources, never by the cluster's inline list.
        ignoreChanges: ["agentPoolProfiles"],
      },
    );

    this.trainingPool = new containerservice.AgentPool(
      `${name}-training-pool`,
      {
        resourceGroupName: this.resourceGroup.name,
        resourceName: this.cluster.name,
        tags,
        ...trainingPoolArgs(args.trainingPool),
      },
      { parent: this, ignoreChanges: ["count"] },
    );

    this.kubeletObjectId = this.cluster.identityProfile.apply((profile) => {
      const objectId = profile?.["kubeletidentity"]?.objectId;
      if (!objectId) throw new Error(`AKS cluster ${name} reports no kubelet identity`);
      return objectId;
    });
    this.oidcIssuerUrl = this.cluster.oidcIssuerProfile.apply((p) => p?.issuerURL ?? "");

    const credentials = containerservice.listManagedClusterUserCredentialsOutput(
      {
        resourceGroupName: this.resourceGroup.name,
        resourceName: this.cluster.name,
        format: "exec",
      },
      { parent: this },
    );
    this.kubeconfig = pulumi.secret(
      credentials.kubeconfigs.apply((configs) =>
        Buffer.from(configs[0]?.value ?? "", "base64").toString("utf8"),
      ),
    );
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this },
    );

    this.registerOutputs({
      kubeconfig: this.kubeconfig,
      oidcIssuerUrl: this.oidcIssuerUrl,
      trainingPoolName: this.trainingPool.name,
    });
  }
}

/** The inline system pool: autoscaled between its bounds, never below 1 node. */
export function systemPoolProfile(pool: NodePoolConfig) {
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
  };
}

/** The training pool: a User pool the autoscaler moves between 0 and max, reserved by a taint. */
export function trainingPoolArgs(pool: NodePoolConfig) {
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
  };
}

/** A cluster autoscaler profile that removes idle nodes after `minutes`. */
export function autoscalerProfile(minutes: number) {
  return {
    scaleDownUnneededTime: `${minutes}m`,
    scaleDownDelayAfterAdd: `${minutes}m`,
    scaleDownUnreadyTime: `${minutes}m`,
    scanInterval: "10s",
    expander: "least-waste",
    skipNodesWithLocalStorage: "false",
    balanceSimilarNodeGroups: "true",
  };
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
