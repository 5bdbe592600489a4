import * as authorization from "@pulumi/azure-native/authorization";
import * as managedidentity from "@pulumi/azure-native/managedidentity";
import * as storage from "@pulumi/azure-native/storage";
import * as pulumi from "@pulumi/pulumi";
import { globalName, roleDefinitionId, ROLES } from "./names";

export interface ModelStoreArgs {
  readonly resourceGroupName: pulumi.Input<string>;
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
        accountName: globalName([name, pulumi.getStack()], 24),
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
    for (const serviceAccount of args.serviceAccounts) {
      new managedidentity.FederatedIdentityCredential(
        `${name}-${serviceAccount}-federation`,
        {
          resourceGroupName,
          resourceName: this.identity.name,
          issuer: args.oidcIssuerUrl,
          subject: `system:serviceaccount:${args.namespace}:${serviceAccount}`,
          audiences: ["api://AzureADTokenExchange"],
        },
        { parent: this },
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
