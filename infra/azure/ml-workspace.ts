import * as authorization from "@pulumi/azure-native/authorization";
import * as insights from "@pulumi/azure-native/applicationinsights";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as machinelearningservices from "@pulumi/azure-native/machinelearningservices";
import * as pulumi from "@pulumi/pulumi";
import { globalName } from "./names";

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

/** An Azure ML workspace with an AmlCompute cluster of 0 minimum nodes for training. */
export class MlWorkspace extends pulumi.ComponentResource {
  readonly workspace: machinelearningservices.Workspace;
  readonly compute: machinelearningservices.Compute;

  constructor(name: string, args: MlWorkspaceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:azure:MlWorkspace", name, {}, opts);
    const { resourceGroupName, location, tags } = args;
    const client = authorization.getClientConfigOutput({ parent: this });
    const vault = new keyvault.Vault(
      `${name}-kv`,
      {
        vaultName: globalName([name, pulumi.getStack(), "kv"], 24),
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
    const appInsights = new insights.Component(
      `${name}-insights`,
      { resourceGroupName, location, kind: "web", applicationType: "web", tags },
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
