import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as pulumi from "@pulumi/pulumi";
import type { RegistrySku } from "../config";
import { globalName, roleDefinitionId, ROLES } from "./names";

export interface RegistryArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  readonly location: string;
  readonly sku: RegistrySku;
  /** Object id of the principal that pulls images (the cluster's kubelet identity). */
  readonly pullPrincipalId: pulumi.Input<string>;
  readonly tags: Record<string, string>;
}

/** An ACR with the admin user disabled; the kubelet identity gets AcrPull on it, and only on it. */
export class Registry extends pulumi.ComponentResource {
  readonly registry: containerregistry.Registry;
  readonly loginServer: pulumi.Output<string>;
  readonly acrPull: authorization.RoleAssignment;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:azure:Registry", name, {}, opts);
    this.registry = new containerregistry.Registry(
      `${name}-acr`,
      {
        registryName: globalName([name, pulumi.getStack()], 50),
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: args.sku },
        adminUserEnabled: false,
        anonymousPullEnabled: false,
        tags: args.tags,
      },
      { parent: this },
    );
    this.loginServer = this.registry.loginServer;

    const client = authorization.getClientConfigOutput({ parent: this });
    this.acrPull = new authorization.RoleAssignment(
      `${name}-acr-pull`,
      {
        principalId: args.pullPrincipalId,
        principalType: "ServicePrincipal",
        roleDefinitionId: client.subscriptionId.apply((s) => roleDefinitionId(s, ROLES.acrPull)),
        scope: this.registry.id,
      },
      { parent: this },
    );
    this.registerOutputs({ loginServer: this.loginServer });
  }
}
