import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as pulumi from "@pulumi/pulumi";
import { CONTAINER_REGISTRY, roleDefinitionId, ROLES, stableSuffix, uniqueName } from "./names";

export interface RegistryArgs {
  /** Name of the shared registry. @default {@link sharedRegistryName} of the subscription */
  readonly name?: string;
  /** Resource group of the shared registry. */
  readonly resourceGroupName: string;
  /** Object id of the principal that pulls images (the cluster's kubelet identity). */
  readonly pullPrincipalId: pulumi.Input<string>;
}

/**
 * The shared container registry, which the one-time bootstrap creates (docs/azure.md) and every
 * stack uses: dev pushes the image it builds, prod pulls the digest promoted from dev. This
 * component looks it up and grants the cluster's kubelet identity AcrPull on it, and only on it.
 *
 * Why one registry: the registry then exists before the first `pulumi up`, so the first build
 * can push; a digest that ran in dev is, byte for byte, the one prod pulls; and there is nothing
 * to copy between registries during a promotion.
 */
export class Registry extends pulumi.ComponentResource {
  readonly registryId: pulumi.Output<string>;
  readonly loginServer: pulumi.Output<string>;
  readonly acrPull: authorization.RoleAssignment;

  constructor(name: string, args: RegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:azure:Registry", name, {}, opts);
    const client = authorization.getClientConfigOutput({ parent: this });
    const registryName =
      args.name ?? client.subscriptionId.apply((s) => sharedRegistryName(s, pulumi.getProject()));
    const registry = containerregistry.getRegistryOutput(
      { registryName, resourceGroupName: args.resourceGroupName },
      { parent: this },
    );
    this.registryId = registry.id;
    this.loginServer = registry.loginServer;

    this.acrPull = new authorization.RoleAssignment(
      `${name}-acr-pull`,
      {
        principalId: args.pullPrincipalId,
        principalType: "ServicePrincipal",
        roleDefinitionId: client.subscriptionId.apply((s) => roleDefinitionId(s, ROLES.acrPull)),
        scope: registry.id,
      },
      {
        parent: this,
        // The bootstrap's CanNotDelete lock on the shared registry also refuses deleting role
        // assignments under it (ScopeLocked): `destroy`, or a new kubelet identity (a
        // replacement), leaves the old assignment in Azure instead of failing. The runbook
        // removes such leftovers with the lock lifted (docs/azure.md).
        retainOnDelete: true,
      },
    );
    this.registerOutputs({ loginServer: this.loginServer });
  }
}

/** The name the bootstrap gives the shared registry: `mlopsacr` + a suffix of subscription and
 * project (`npm run azure:names` prints it). */
export function sharedRegistryName(subscriptionId: string, project: string): string {
  return uniqueName(CONTAINER_REGISTRY, "mlopsacr", stableSuffix([subscriptionId, project]));
}

/**
 * Why a cluster that pulls from the shared registry `loginServer` cannot run `ref`, or undefined
 * when it can: a ref in another registry, or the all-zero placeholder digest of a stack file that
 * has had no promotion yet.
 */
export function pullProblem(
  ref: string,
  loginServer: string,
  placeholderFix = "of a stack that has had no promotion yet: " +
    "run `npm run promote -- --from dev --to <stack>` first (docs/azure.md)",
): string | undefined {
  if (/@sha256:0{64}$/.test(ref)) {
    return `image ${ref} is the placeholder ${placeholderFix}`;
  }
  const host = ref.split("/")[0];
  if (host !== loginServer) {
    return (
      `image ${ref} is in registry ${host}, but the cluster pulls only from the shared registry ` +
      `${loginServer}: deploy a digest that dev built and pushed there (docs/azure.md)`
    );
  }
  return undefined;
}
