import * as authorization from "@pulumi/azure-native/authorization";
import * as insights from "@pulumi/azure-native/applicationinsights";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as machinelearningservices from "@pulumi/azure-native/machinelearningservices";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import * as pulumi from "@pulumi/pulumi";

export interface MlWorkspaceArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: string;
  /** The storage account the workspace keeps its data in (the model store's). */
  readonly storageAccountId: pulumi.Input<string>;
  /** VM size of the AmlCompute cluster. */
  readonly vmSize: string;
  /** Highest node count of the AmlCompute cluster (its lowest is always 0). */
  readonly maxNodes: number;
  readonly tags: Record<string, string>;
}

/**
 * An Azure ML workspace with an AmlCompute cluster of 0 minimum nodes for training, its key vault,
 * and Application Insights backed by a Log Analytics workspace (classic, workspace-less
 * Application Insights is retired).
 */
export class MlWorkspace extends pulumi.ComponentResource {
  readonly workspace: machinelearningservices.Workspace;
  readonly compute: machinelearningservices.Compute;

  constructor(name: string, args: MlWorkspaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:azure:MlWorkspace", name, {}, opts);
    const { resourceGroupName, location, tags } = args;
    const client = authorization.getClientConfigOutput({ parent: this });
    // No vaultName: the provider names it `<name>-kv` + a random suffix, kept in the state. A
    // vault with purge protection stays soft-deleted (its name taken) for 90 days after a
    // destroy, so a fixed name would block destroy-and-recreate.
    const vault = new keyvault.Vault(
      `${name}-kv`,
      {
        resourceGroupName,
        location,
        tags,
        properties: {
          tenantId: client.tenantId,
          sku: { family: "A", name: "standard" },
          enableRbacAuthorization: true,
          enablePurgeProtection: true,
        },
      },
      { parent: this },
    );
    const logs = new operationalinsights.Workspace(
      `${name}-logs`,
      {
        resourceGroupName,
        location,
        sku: { name: "PerGB2018" },
        retentionInDays: 30,
        tags,
      },
      { parent: this },
    );
    const appInsights = new insights.Component(
      `${name}-insights`,
      {
        resourceGroupName,
        location,
        kind: "web",
        applicationType: "web",
        workspaceResourceId: logs.id,
        ingestionMode: "LogAnalytics",
        tags,
      },
      { parent: this },
    );
    this.workspace = new machinelearningservices.Workspace(
      `${name}-ws`,
      {
        resourceGroupName,
        location,
        tags,
        identity: { type: "SystemAssigned" },
        sku: { name: "Basic", tier: "Basic" },
        keyVault: vault.id,
        storageAccount: args.storageAccountId,
        applicationInsights: appInsights.id,
      },
      { parent: this },
    );
    this.compute = new machinelearningservices.Compute(
      `${name}-training`,
      {
        resourceGroupName,
        location,
        workspaceName: this.workspace.name,
        computeName: "training",
        tags,
        properties: {
          computeType: "AmlCompute",
          properties: {
            vmSize: args.vmSize,
            scaleSettings: {
              minNodeCount: 0,
              maxNodeCount: args.maxNodes,
              nodeIdleTimeBeforeScaleDown: "PT5M",
            },
          },
        },
      },
      { parent: this },
    );
    this.registerOutputs({ workspaceName: this.workspace.name });
  }
}
