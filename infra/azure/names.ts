import { createHash } from "crypto";

/**
 * Names of Azure resources that must be unique across Azure (storage accounts, registries), built
 * as `<prefix><suffix>`: a readable prefix and a stable suffix derived from where the stack runs
 * (subscription, project, stack), so a second team deploying this project in another subscription
 * gets other names, and the same stack keeps its names from one `up` to the next.
 */

/** An Azure naming rule: length bounds and the characters allowed. */
export interface NamingRule {
  /** What the name is of, for error messages. */
  readonly what: string;
  readonly minLength: number;
  readonly maxLength: number;
  /** The whole name must match. */
  readonly pattern: RegExp;
  /** What `pattern` allows, in words. */
  readonly allowed: string;
}

/** Storage account: 3–24 lowercase letters and digits, unique across Azure. */
export const STORAGE_ACCOUNT: NamingRule = {
  what: "storage account",
  minLength: 3,
  maxLength: 24,
  pattern: /^[a-z0-9]+$/,
  allowed: "lowercase letters and digits",
};

/** Container registry: 5–50 letters and digits, unique across Azure (we use lowercase). */
export const CONTAINER_REGISTRY: NamingRule = {
  what: "container registry",
  minLength: 5,
  maxLength: 50,
  pattern: /^[a-z0-9]+$/,
  allowed: "lowercase letters and digits",
};

/** Azure Managed Grafana workspace: 2–23 characters (we use lowercase letters and digits, after
 * a prefix that starts with a letter, as Azure requires), unique in the subscription. */
export const GRAFANA_WORKSPACE: NamingRule = {
  what: "Grafana workspace",
  minLength: 2,
  maxLength: 23,
  pattern: /^[a-z0-9]+$/,
  allowed: "lowercase letters and digits",
};

/** The resource group the one-time bootstrap creates the shared registry in (docs/azure.md), and
 * the default `azure.registry.resourceGroup`. */
export const SHARED_RESOURCE_GROUP = "mlops-platform-shared";

/** Length of {@link stableSuffix}: 8 hex digits, 4 billion values. */
export const SUFFIX_LENGTH = 8;

/**
 * A suffix that is the same every time for the same parts and differs between subscriptions,
 * projects and stacks: the first 8 hex digits of SHA-256 over the parts joined by "/".
 */
export function stableSuffix(parts: readonly string[]): string {
  const empty = parts.findIndex((p) => p.length === 0);
  if (parts.length === 0 || empty >= 0) {
    throw new Error(
      `cannot derive a name suffix from ${JSON.stringify(parts)}: every part must be non-empty`,
    );
  }
  return createHash("sha256").update(parts.join("/")).digest("hex").slice(0, SUFFIX_LENGTH);
}

/**
 * `<prefix><suffix>` within `rule`: the prefix loses what the rule does not allow and is shortened
 * (never the suffix, which carries the uniqueness) to fit the maximum length.
 */
export function uniqueName(rule: NamingRule, prefix: string, suffix: string): string {
  if (!rule.pattern.test(suffix)) {
    throw new Error(
      `${rule.what} name suffix ${JSON.stringify(suffix)}: only ${rule.allowed} are allowed`,
    );
  }
  const cleaned = prefix.toLowerCase().replace(/[^a-z0-9]/g, "");
  const name = cleaned.slice(0, Math.max(0, rule.maxLength - suffix.length)) + suffix;
  return checkName(rule, name);
}

/** Returns `name` when it satisfies `rule`; otherwise throws, naming the rule it breaks. */
export function checkName(rule: NamingRule, name: string): string {
  if (name.length < rule.minLength || name.length > rule.maxLength) {
    throw new Error(
      `${rule.what} name ${JSON.stringify(name)} has ${name.length} characters; ` +
        `Azure allows ${rule.minLength} to ${rule.maxLength}`,
    );
  }
  if (!rule.pattern.test(name)) {
    throw new Error(`${rule.what} name ${JSON.stringify(name)}: only ${rule.allowed} are allowed`);
  }
  return name;
}

/** Built-in Azure role definition ids (the same in every subscription). */
export const ROLES = {
  acrPull: "7f951dda-4ed3-4680-a7ca-43fe172d538d",
  acrPush: "8311e382-0749-4cb8-b61a-304f252e45ec",
  storageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  storageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  /** Full access to the Kubernetes API of a cluster with Azure RBAC for Kubernetes. */
  aksRbacClusterAdmin: "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b",
  /** Read-only access to most Kubernetes objects (not Secrets). */
  aksRbacReader: "7f6c6a51-bcf8-42ba-9220-52d62157d7db",
  /** `listClusterUserCredential`: the kubeconfig of a cluster (no Kubernetes rights by itself). */
  aksClusterUser: "4abbcc35-e782-43d8-92c5-2d3f1bd2253f",
  /** Read the metrics of an Azure Monitor workspace (granted to Managed Grafana). */
  monitoringDataReader: "b0d8363b-8ddd-447d-831f-62ca05bff136",
} as const;

/**
 * Every role the program assigns, on any branch of the config: the one list the deploying
 * identity's conditioned *Role Based Access Control Administrator* role allows
 * ({@link deployerRoleCondition}; docs/azure.md, 1.3).
 */
export const DEPLOYER_ASSIGNED_ROLES = [
  ROLES.acrPull, // kubelet -> the shared registry
  ROLES.storageBlobDataContributor, // model store identity -> its account
  ROLES.aksRbacClusterAdmin, // the deployer -> its cluster
  ROLES.monitoringDataReader, // Managed Grafana -> the Azure Monitor workspace (monitoring.grafana)
] as const;

/**
 * The ABAC condition (version 2.0) of the deployer's RBAC Administrator assignment: it may write
 * and delete role assignments of exactly `roles`, and no other.
 */
export function deployerRoleCondition(roles: readonly string[] = DEPLOYER_ASSIGNED_ROLES): string {
  const allowed = roles.join(", ");
  const only = (action: "write" | "delete", attribute: "Request" | "Resource") =>
    `((!(ActionMatches{'Microsoft.Authorization/roleAssignments/${action}'})) OR ` +
    `(@${attribute}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ` +
    `ForAnyOfAnyValues:GuidEquals {${allowed}}))`;
  return `${only("write", "Request")} AND ${only("delete", "Resource")}`;
}

/** The full id of a built-in role definition in a subscription. */
export function roleDefinitionId(subscriptionId: string, roleId: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;
}
