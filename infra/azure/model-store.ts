import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as storage from "@pulumi/azure-native/storage";
import * as pulumi from "@pulumi/pulumi";
import { roleDefinitionId, ROLES, STORAGE_ACCOUNT, uniqueName } from "./names";

export interface ModelStoreArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  /** The stack's suffix of globally unique names (see names.ts). */
  readonly nameSuffix: pulumi.Input<string>;
  readonly location: string;
  /** The cluster's OIDC issuer URL: tokens of `serviceAccounts` are federated to the identity. */
  readonly oidcIssuerUrl: pulumi.Input<string>;
  /** Namespace of the service accounts. */
  readonly namespace: string;
  /** Service accounts (in `namespace`) that may use the identity. */
  readonly serviceAccounts: readonly string[];
  readonly tags: Record<string, string>;
}

/** Name of the blob container that holds trained artifacts. */
export const MODEL_CONTAINER = "models";

/**
 * A storage account + blob container for trained artifacts (no public blob access, TLS ≥ 1.2,
 * HTTPS only) and a user-assigned identity that the training job and the service reach it with
 * through workload identity (a federated credential per service account; Blob Data Contributor).
 *
 * The training pod mounts the container with the blob CSI driver in token mode
 * (`mountWithWorkloadIdentityToken`, see training-chart.ts), so Blob Data Contributor is all the
 * identity needs: it never lists the account's keys (which would take Storage Account
 * Contributor).
 */
export class ModelStore extends pulumi.ComponentResource {
  readonly account: storage.StorageAccount;
  readonly container: storage.BlobContainer;
  readonly identity: managedidentity.UserAssignedIdentity;
  /** `https://<account>.blob.core.windows.net/models` */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: ModelStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:azure:ModelStore", name, {}, opts);
    const { resourceGroupName, location, tags } = args;
    this.account = new storage.StorageAccount(
      `${name}-sa`,
      {
        accountName: pulumi
          .output(args.nameSuffix)
          .apply((suffix) => modelStoreAccountName(suffix)),
        resourceGroupName,
        location,
        kind: "StorageV2",
        sku: { name: "Standard_ZRS" },
        allowBlobPublicAccess: false,
        minimumTlsVersion: "TLS1_2",
        enableHttpsTrafficOnly: true,
        tags,
      },
      { parent: this },
    );
    this.container = new storage.BlobContainer(
      `${name}-models`,
      {
        accountName: this.account.name,
        resourceGroupName,
        containerName: MODEL_CONTAINER,
        publicAccess: "None",
      },
      { parent: this },
    );
    this.identity = new managedidentity.UserAssignedIdentity(
      `${name}-identity`,
      { resourceGroupName, location, tags },
      { parent: this },
    );
    // Entra refuses concurrent writes of federated credentials under one identity (409
    // Conflict): each one waits for the one before it.
    let previous: managedidentity.FederatedIdentityCredential | undefined;
    for (const serviceAccount of args.serviceAccounts) {
      previous = new managedidentity.FederatedIdentityCredential(
        `${name}-${serviceAccount}-federation`,
        {
          resourceGroupName,
          resourceName: this.identity.name,
          issuer: args.oidcIssuerUrl,
          subject: `system:serviceaccount:${args.namespace}:${serviceAccount}`,
          audiences: ["api://AzureADTokenExchange"],
        },
        { parent: this, dependsOn: previous ? [previous] : [] },
      );
    }
    const client = authorization.getClientConfigOutput({ parent: this });
    new authorization.RoleAssignment(
      `${name}-blob-contributor`,
      {
        principalId: this.identity.principalId,
        principalType: "ServicePrincipal",
        roleDefinitionId: client.subscriptionId.apply((s) =>
          roleDefinitionId(s, ROLES.storageBlobDataContributor),
        ),
        scope: this.account.id,
      },
      { parent: this },
    );
    this.url = pulumi.interpolate`${this.account.primaryEndpoints.blob}${MODEL_CONTAINER}`;
    this.registerOutputs({ url: this.url, clientId: this.identity.clientId });
  }
}

/** The model store's storage account: `mlopsmodels<suffix>`, within Azure's storage naming rule. */
export function modelStoreAccountName(suffix: string): string {
  return uniqueName(STORAGE_ACCOUNT, "mlopsmodels", suffix);
}
