/**
 * What a first real `pulumi up` of dev and prod needs from Azure (docs/azure.md), checked on the
 * program under mocks and on the pure functions the components are made of.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import {
  autoscalerProfile,
  RBAC_PROPAGATION_MS,
  rbacPropagationWaitMs,
  SYSTEM_POOL_IGNORED,
  withKubeloginMode,
} from "../../../infra/azure/cluster";
import { modelStoreAccountName } from "../../../infra/azure/model-store";
import {
  checkName,
  CONTAINER_REGISTRY,
  DEPLOYER_ASSIGNED_ROLES,
  deployerRoleCondition,
  stableSuffix,
  STORAGE_ACCOUNT,
  uniqueName,
} from "../../../infra/azure/names";
import { gatewayImageProblem } from "../../../infra/azure/gateway";
import { pullProblem, sharedRegistryName } from "../../../infra/azure/registry";
import { isDigestRef, parseConfig } from "../../../infra/config";
import { azureNames } from "../../../tools/azure-names";
import {
  AKS_EXEC_KUBECONFIG,
  expandConfigGroups,
  findResource,
  IMPORTED_GATEWAY_IMAGE,
  IMPORTED_PROXY_IMAGE,
  MOCK_REGISTRY_SERVER,
  MOCK_SUBSCRIPTION_ID,
  mockRoleDefinitionId,
  PROMOTED_IMAGE,
  RecordedResource,
  runProgram,
  stackConfig,
} from "../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const runs = new Map<string, Promise<RecordedResource[]>>();
function run(stack: "dev" | "prod", overrides: Obj = {}): Promise<RecordedResource[]> {
  const key = `${stack}:${JSON.stringify(overrides)}`;
  if (!runs.has(key)) {
    runs.set(
      key,
      runProgram(stack, overrides).then((r) => expandConfigGroups(r)),
    );
  }
  return runs.get(key)!;
}

const ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment";

describe("federated credentials (Entra refuses concurrent writes under one identity)", () => {
  test.each(["dev", "prod"] as const)("%s: each waits for the one before it", async (stack) => {
    const resources = await run(stack);
    const credentials = resources.filter(
      (r) => r.type === "azure-native:managedidentity:FederatedIdentityCredential",
    );
    expect(credentials.map((c) => c.name)).toEqual([
      "mlops-models-inference-federation",
      "mlops-models-training-federation",
    ]);
    expect(credentials[0].dependsOn).not.toContain("mlops-models-training-federation");
    expect(credentials[1].dependsOn).toContain("mlops-models-inference-federation");
  });
});

describe("the blob CSI mount of the model store", () => {
  test.each(["dev", "prod"] as const)(
    "%s: token mode, so Blob Data Contributor is the identity's only role",
    async (stack) => {
      const resources = await run(stack);
      const pv = resources.find((r) => r.inputs.kind === "PersistentVolume")!.inputs;
      expect(pv.spec.csi.driver).toBe("blob.csi.azure.com");
      expect(pv.spec.csi.volumeAttributes).toMatchObject({
        mountWithWorkloadIdentityToken: "true",
        clientID: "model-store-client-id",
      });
      const identityRoles = resources
        .filter(
          (r) => r.type === ROLE_ASSIGNMENT && r.inputs.principalId === "model-store-principal-id",
        )
        .map((r) => r.inputs.roleDefinitionId);
      // Storage Blob Data Contributor, and not Storage Account Contributor (17d1049b-…).
      expect(identityRoles).toEqual([mockRoleDefinitionId("ba92f5b4-2d11-453d-a403-e96b0029c9fe")]);
      // The pod's service account is the one federated to the identity.
      const cronJob = resources.find((r) => r.inputs.kind === "CronJob")!.inputs;
      expect(cronJob.spec.jobTemplate.spec.template.spec.serviceAccountName).toBe("training");
    },
  );
});

describe("the deploying identity's access to the Kubernetes API (Azure RBAC for Kubernetes)", () => {
  test.each(["dev", "prod"] as const)(
    "%s: AKS RBAC Cluster Admin on the cluster, before the provider is used",
    async (stack) => {
      const resources = await run(stack);
      const admin = findResource(resources, ROLE_ASSIGNMENT, "mlops-cluster-deployer-admin");
      expect(admin.inputs).toEqual({
        principalId: "object-id", // the caller of `pulumi up` (getClientConfig)
        principalType: "ServicePrincipal",
        roleDefinitionId: mockRoleDefinitionId("b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"),
        scope: "mlops-cluster-aks-id",
      });
      // Kept for the identity that created it: a preview's reader or a person's `up` must not
      // replace it with themselves.
      expect(admin.ignoreChanges).toEqual(["principalId", "principalType"]);
      const provider = findResource(resources, "pulumi:providers:kubernetes", "mlops-cluster-k8s");
      expect(provider.dependsOn).toContain("mlops-cluster-deployer-admin");
    },
  );

  test("azure.deployerPrincipalType names a person who creates the cluster from a laptop", async () => {
    const azure = { ...(stackConfig("dev").azure as Obj), deployerPrincipalType: "User" };
    const resources = await run("dev", { azure });
    const admin = findResource(resources, ROLE_ASSIGNMENT, "mlops-cluster-deployer-admin");
    expect(admin.inputs.principalType).toBe("User");
  });

  test("a role assignment made just now is waited for, up to Azure's documented five minutes", () => {
    const created = Date.parse("2026-11-30T12:00:00Z");
    expect(RBAC_PROPAGATION_MS).toBe(300_000);
    expect(rbacPropagationWaitMs("2026-11-30T12:00:00Z", created)).toBe(300_000);
    expect(rbacPropagationWaitMs("2026-11-30T12:00:00Z", created + 60_000)).toBe(240_000);
    expect(rbacPropagationWaitMs("2026-11-30T12:00:00Z", created + 600_000)).toBe(0);
    // A clock behind Azure's never waits longer than the window.
    expect(rbacPropagationWaitMs("2026-11-30T12:00:00Z", created - 60_000)).toBe(300_000);
    expect(rbacPropagationWaitMs(undefined, created)).toBe(300_000);
    expect(rbacPropagationWaitMs("not a time", created)).toBe(300_000);
  });
});

describe("kubelogin: the provider's kubeconfig logs in without a person", () => {
  // A secret input reaches the mocks as { value }.
  const execOf = (text: string | { value: string }) =>
    parse(typeof text === "string" ? text : text.value).users[0].user.exec;

  test("AKS's devicecode login becomes the configured mode; nothing else changes", () => {
    const before = parse(AKS_EXEC_KUBECONFIG);
    const after = parse(withKubeloginMode(AKS_EXEC_KUBECONFIG, "azurecli"));
    expect(execOf(AKS_EXEC_KUBECONFIG).args).toContain("devicecode");
    expect(after.users[0].user.exec.args).toEqual([
      "get-token",
      "--environment",
      "AzurePublicCloud",
      "--server-id",
      "6dae42f8-4368-4678-94ff-3960e28e3630",
      "--client-id",
      "80faf920-1908-4b52-b5ef-a8e7bedfc67a",
      "--tenant-id",
      "tenant-id",
      "--login",
      "azurecli",
    ]);
    expect({ ...after, users: undefined }).toEqual({ ...before, users: undefined });
  });

  test("-l, --login=… and a missing login flag are all replaced by one --login", () => {
    const config = (args: string[]) =>
      `users:\n  - name: u\n    user:\n      exec:\n        command: /usr/local/bin/kubelogin\n        args: ${JSON.stringify(args)}\n`;
    expect(execOf(withKubeloginMode(config(["get-token", "-l", "spn"]), "msi")).args).toEqual([
      "get-token",
      "--login",
      "msi",
    ]);
    expect(
      execOf(withKubeloginMode(config(["get-token", "--login=devicecode"]), "workloadidentity"))
        .args,
    ).toEqual(["get-token", "--login", "workloadidentity"]);
    expect(execOf(withKubeloginMode(config(["get-token"]), "azurecli")).args).toEqual([
      "get-token",
      "--login",
      "azurecli",
    ]);
  });

  test("a kubeconfig without a kubelogin user is refused", () => {
    expect(() => withKubeloginMode("apiVersion: v1\nkind: Config\n", "azurecli")).toThrow(
      "the cluster's kubeconfig has no kubelogin exec user: expected the exec format of an AKS cluster with Entra ID and local accounts disabled",
    );
  });

  test.each(["dev", "prod"] as const)(
    "%s: the Kubernetes provider gets --login azurecli",
    async (stack) => {
      const resources = await run(stack);
      const provider = findResource(resources, "pulumi:providers:kubernetes", "mlops-cluster-k8s");
      const kubeconfig = provider.inputs.kubeconfig as string;
      expect(execOf(kubeconfig).args.slice(-2)).toEqual(["--login", "azurecli"]);
      expect(execOf(kubeconfig).args).not.toContain("devicecode");
    },
  );

  test("azure.kubeloginMode chooses another method", async () => {
    const azure = { ...(stackConfig("dev").azure as Obj), kubeloginMode: "workloadidentity" };
    const resources = await run("dev", { azure });
    const provider = findResource(resources, "pulumi:providers:kubernetes", "mlops-cluster-k8s");
    expect(execOf(provider.inputs.kubeconfig).args.slice(-2)).toEqual([
      "--login",
      "workloadidentity",
    ]);
  });
});

describe("the system pool after creation", () => {
  test.each(["dev", "prod"] as const)(
    "%s: only its node count (the autoscaler's) is ignored",
    async (stack) => {
      const resources = await run(stack);
      const aks = findResource(resources, "azure-native:containerservice:ManagedCluster");
      expect(aks.ignoreChanges).toEqual(["agentPoolProfiles[0].count"]);
      expect(SYSTEM_POOL_IGNORED).toEqual(["agentPoolProfiles[0].count"]);
      // …and index 0 is the system pool, the only inline one.
      expect(aks.inputs.agentPoolProfiles.map((p: Obj) => p.name)).toEqual(["system"]);
      const training = findResource(resources, "azure-native:containerservice:AgentPool");
      expect(training.ignoreChanges).toEqual(["count"]);
    },
  );
});

describe("zones and the API server SLA", () => {
  test("prod: Standard tier, both pools in zones 1, 2 and 3", async () => {
    const resources = await run("prod");
    const aks = findResource(resources, "azure-native:containerservice:ManagedCluster").inputs;
    expect(aks.sku).toEqual({ name: "Base", tier: "Standard" });
    expect(aks.agentPoolProfiles[0].availabilityZones).toEqual(["1", "2", "3"]);
    const pool = findResource(resources, "azure-native:containerservice:AgentPool").inputs;
    expect(pool.availabilityZones).toEqual(["1", "2", "3"]);
  });

  test("dev: Free tier, no zones", async () => {
    const resources = await run("dev");
    const aks = findResource(resources, "azure-native:containerservice:ManagedCluster").inputs;
    expect(aks.sku).toEqual({ name: "Base", tier: "Free" });
    expect(aks.agentPoolProfiles[0].availabilityZones).toBeUndefined();
    const pool = findResource(resources, "azure-native:containerservice:AgentPool").inputs;
    expect(pool.availabilityZones).toBeUndefined();
  });

  test("config defaults: prod gets zones and Standard without saying so; others get neither", () => {
    const prod = parseConfig({
      environment: "prod",
      target: "azure",
      image: { ref: PROMOTED_IMAGE },
    }).azure!;
    expect({ tier: prod.tier, zones: prod.availabilityZones }).toEqual({
      tier: "Standard",
      zones: ["1", "2", "3"],
    });
    const dev = parseConfig({ environment: "dev", target: "azure", image: { build: true } }).azure!;
    expect({ tier: dev.tier, zones: dev.availabilityZones }).toEqual({ tier: "Free", zones: [] });
  });
});

describe("the autoscaler profile", () => {
  test("only values in the forms the API documents: minutes as '<n>m', no scanInterval", () => {
    const profile: Record<string, string> = autoscalerProfile(5);
    expect(profile.scanInterval).toBeUndefined();
    for (const key of ["scaleDownUnneededTime", "scaleDownDelayAfterAdd", "scaleDownUnreadyTime"]) {
      expect(profile[key]).toMatch(/^\d+m$/);
    }
  });
});

describe("globally unique names", () => {
  test("a stable suffix: the same for the same stack, different across subscriptions and stacks", () => {
    const a = stableSuffix([MOCK_SUBSCRIPTION_ID, "mlops-platform", "dev"]);
    expect(a).toMatch(/^[0-9a-f]{8}$/);
    expect(stableSuffix([MOCK_SUBSCRIPTION_ID, "mlops-platform", "dev"])).toBe(a);
    expect(stableSuffix(["another-subscription", "mlops-platform", "dev"])).not.toBe(a);
    expect(stableSuffix([MOCK_SUBSCRIPTION_ID, "mlops-platform", "prod"])).not.toBe(a);
    expect(() => stableSuffix([MOCK_SUBSCRIPTION_ID, ""])).toThrow(
      `cannot derive a name suffix from ["${MOCK_SUBSCRIPTION_ID}",""]: every part must be non-empty`,
    );
  });

  test("storage account and registry names keep Azure's rules and their whole suffix", () => {
    const long = "a-Very_Long.prefix-that-does-not-fit-anywhere-at-all-in-twenty-four";
    const storage = uniqueName(STORAGE_ACCOUNT, long, "0123abcd");
    expect(storage).toBe("averylongprefixt0123abcd");
    expect(storage).toHaveLength(24);
    expect(modelStoreAccountName("0123abcd")).toBe("mlopsmodels0123abcd");
    expect(sharedRegistryName(MOCK_SUBSCRIPTION_ID, "mlops-platform")).toBe("mlopsacr0f901435");
    expect(uniqueName(CONTAINER_REGISTRY, long, "0123abcd")).toHaveLength(50);
  });

  test("a name outside the rule is refused, naming the rule", () => {
    expect(() => checkName(STORAGE_ACCOUNT, "ab")).toThrow(
      'storage account name "ab" has 2 characters; Azure allows 3 to 24',
    );
    expect(() => checkName(STORAGE_ACCOUNT, "Mlops-models")).toThrow(
      'storage account name "Mlops-models": only lowercase letters and digits are allowed',
    );
    expect(() => uniqueName(CONTAINER_REGISTRY, "mlops", "AB-12")).toThrow(
      'container registry name suffix "AB-12": only lowercase letters and digits are allowed',
    );
  });

  test("dev and prod get different storage accounts; azure.nameSuffix overrides the suffix", async () => {
    const account = async (stack: "dev" | "prod", overrides: Obj = {}) =>
      findResource(await run(stack, overrides), "azure-native:storage:StorageAccount").inputs
        .accountName as string;
    const dev = await account("dev");
    const prod = await account("prod");
    for (const name of [dev, prod]) expect(() => checkName(STORAGE_ACCOUNT, name)).not.toThrow();
    expect(dev).not.toBe(prod);
    expect(dev).toBe(
      modelStoreAccountName(stableSuffix([MOCK_SUBSCRIPTION_ID, "mlops-platform", "dev"])),
    );
    const azure = { ...(stackConfig("dev").azure as Obj), nameSuffix: "team2dev" };
    expect(await account("dev", { azure })).toBe("mlopsmodelsteam2dev");
  });

  test("the key vault has no fixed name (purge protection would block recreating it)", async () => {
    const azure = { ...(stackConfig("dev").azure as Obj), mlWorkspace: true };
    const vault = findResource(await run("dev", { azure }), "azure-native:keyvault:Vault").inputs;
    expect(vault.vaultName).toBeUndefined();
    expect(vault.properties.enablePurgeProtection).toBe(true);
  });
});

describe("Application Insights of the Azure ML workspace", () => {
  test("is workspace-based: a Log Analytics workspace behind it", async () => {
    const azure = { ...(stackConfig("dev").azure as Obj), mlWorkspace: true };
    const resources = await run("dev", { azure });
    const logs = findResource(resources, "azure-native:operationalinsights:Workspace");
    const insights = findResource(resources, "azure-native:applicationinsights:Component").inputs;
    expect(insights).toMatchObject({
      workspaceResourceId: `${logs.name}-id`,
      ingestionMode: "LogAnalytics",
    });
    expect(
      findResource(resources, "azure-native:machinelearningservices:Workspace").inputs
        .applicationInsights,
    ).toBe("mlops-aml-insights-id");
  });
});

describe("prod pulls the promoted digest from the shared registry", () => {
  const server = "mlopsacr0f901435.azurecr.io";

  test("prod and dev use the same registry, and prod builds nothing", async () => {
    const scopes = async (stack: "dev" | "prod") =>
      findResource(await run(stack), ROLE_ASSIGNMENT, "mlops-registry-acr-pull").inputs.scope;
    expect(await scopes("prod")).toBe(await scopes("dev"));
    const prod = await run("prod");
    const deployment = prod.find((r) => r.inputs.kind === "Deployment")!.inputs;
    expect(deployment.spec.template.spec.containers[0].image).toBe(PROMOTED_IMAGE);
    expect(PROMOTED_IMAGE.startsWith(`${server}/`)).toBe(true);
  });

  test("pullProblem: the placeholder and other registries are refused, with what to do", () => {
    const digest = "sha256:" + "ab".repeat(32);
    expect(pullProblem(`${server}/mlops-inference@${digest}`, server)).toBeUndefined();
    expect(pullProblem(`other.azurecr.io/mlops-inference@${digest}`, server)).toBe(
      `image other.azurecr.io/mlops-inference@${digest} is in registry other.azurecr.io, but the ` +
        `cluster pulls only from the shared registry ${server}: deploy a digest that dev built ` +
        "and pushed there (docs/azure.md)",
    );
    const placeholder = stackConfig("prod").image as Obj;
    expect(pullProblem(placeholder.ref, server)).toBe(
      `image ${placeholder.ref} is the placeholder of a stack that has had no promotion yet: ` +
        "run `npm run promote -- --from dev --to <stack>` first (docs/azure.md)",
    );
  });
});

describe("the shared registry's delete lock never blocks a destroy or a new kubelet identity", () => {
  test.each(["dev", "prod"] as const)(
    "%s: the program never deletes a role assignment under the registry (retainOnDelete)",
    async (stack) => {
      const registryGroup = (parseConfig(stackConfig(stack)).azure as Obj).registry.resourceGroup;
      const under = (await run(stack)).filter(
        (r) =>
          r.type === ROLE_ASSIGNMENT &&
          String(r.inputs.scope).startsWith(
            `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/${registryGroup}/`,
          ),
      );
      expect(under.map((r) => r.name)).toEqual(["mlops-registry-acr-pull"]);
      for (const r of under)
        expect({ name: r.name, retain: r.retainOnDelete }).toEqual({ name: r.name, retain: true });
    },
  );

  test("the bootstrap locks the registry itself, and the runbook cleans up what destroy leaves", () => {
    const doc = fs.readFileSync(path.join(__dirname, "..", "..", "..", "docs", "azure.md"), "utf8");
    const locks = [...doc.matchAll(/^.*\baz lock create\b.*$/gm)].map((m) => m[0]);
    // Every lock the runbook creates (the first one, and the re-lock) is on the registry.
    expect(locks.length).toBeGreaterThan(0);
    for (const lock of locks) {
      expect(lock).toBe(
        'az lock create -n keep-registry --lock-type CanNotDelete --resource "$REGISTRY" \\',
      );
    }
    expect(doc).toContain(
      '  --resource-type Microsoft.ContainerRegistry/registries -g "$REGISTRY_RG"',
    );
    // The orphaned assignments of destroyed stacks: listed, and removed with the lock lifted.
    expect(doc).toContain("az lock delete -n keep-registry");
    expect(doc).toContain("az role assignment delete --ids");
  });
});

describe("npm run azure:names (the bootstrap's and the workflows' names)", () => {
  test.each(["dev", "prod"] as const)(
    "%s: the same registry and storage account the program uses",
    async (stack) => {
      const names = azureNames(
        parseConfig(stackConfig(stack)),
        MOCK_SUBSCRIPTION_ID,
        "mlops-platform",
        stack,
      );
      const resources = await run(stack);
      expect(names.modelStoreAccount).toBe(
        findResource(resources, "azure-native:storage:StorageAccount").inputs.accountName,
      );
      expect(findResource(resources, ROLE_ASSIGNMENT, "mlops-registry-acr-pull").inputs.scope).toBe(
        `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/${names.registryResourceGroup}/providers/Microsoft.ContainerRegistry/registries/${names.registry}`,
      );
      expect(names.registryLoginServer).toBe(`${names.registry}.azurecr.io`);
    },
  );

  test("a configured registry wins over the derived name; a local stack has no Azure names", () => {
    const config = parseConfig({
      ...stackConfig("dev"),
      azure: {
        ...(stackConfig("dev").azure as Obj),
        registry: { name: "teamregistry", resourceGroup: "team-rg" },
      },
    });
    expect(azureNames(config, MOCK_SUBSCRIPTION_ID, "mlops-platform", "dev")).toMatchObject({
      registry: "teamregistry",
      registryResourceGroup: "team-rg",
      registryLoginServer: "teamregistry.azurecr.io",
    });
    expect(() =>
      azureNames(
        parseConfig(stackConfig("local")),
        MOCK_SUBSCRIPTION_ID,
        "mlops-platform",
        "local",
      ),
    ).toThrow("stack local does not target Azure (mlops:target is local)");
  });
});

describe("the deployer's role-assignment condition (docs/azure.md) fits what the program assigns", () => {
  test("every role the program assigns, on every branch (ML workspace, Grafana), is in the one allowed list, and no more", async () => {
    const mlWorkspace = { azure: { ...(stackConfig("dev").azure as Obj), mlWorkspace: true } };
    const grafana = { monitoring: { grafana: true } };
    const assigned = new Set<string>();
    for (const resources of [
      await run("dev"),
      await run("prod"),
      await run("dev", mlWorkspace),
      await run("dev", grafana),
    ]) {
      for (const r of resources.filter((x) => x.type === ROLE_ASSIGNMENT)) {
        assigned.add(String(r.inputs.roleDefinitionId).split("/").pop()!);
      }
    }
    expect([...assigned].sort()).toEqual([...DEPLOYER_ASSIGNED_ROLES].sort());
  });

  test("the condition allows writing and deleting exactly those roles, and the runbook uses it", () => {
    const condition = deployerRoleCondition();
    const lists = [...condition.matchAll(/GuidEquals \{([^}]*)\}/g)].map((m) =>
      m[1].split(", ").sort(),
    );
    expect(lists).toEqual([
      [...DEPLOYER_ASSIGNED_ROLES].sort(),
      [...DEPLOYER_ASSIGNED_ROLES].sort(),
    ]);
    expect(condition).toContain("roleAssignments/write'})) OR (@Request[");
    expect(condition).toContain("roleAssignments/delete'})) OR (@Resource[");
    const names = azureNames(
      parseConfig(stackConfig("dev")),
      MOCK_SUBSCRIPTION_ID,
      "mlops-platform",
      "dev",
    );
    expect(names.deployerRoleCondition).toBe(condition);
    const doc = fs.readFileSync(path.join(__dirname, "..", "..", "..", "docs", "azure.md"), "utf8");
    expect(doc).toContain(
      'CONDITION=$(npm run --silent azure:names -- --subscription "$SUB" --field deployerRoleCondition)',
    );
    // No second, hand-written list of role ids in the runbook.
    expect(doc).not.toMatch(/GuidEquals/);
  });
});

describe("the Envoy Gateway controller image (mlops:ingress.gatewayImage)", () => {
  const server = "mlopsacr0f901435.azurecr.io";
  const ingress = (stack: "dev" | "prod", extra: Obj = {}) =>
    parseConfig({
      ...stackConfig(stack),
      ingress: { ...(stackConfig(stack).ingress as Obj), ...extra },
    });

  test("prod refuses the stack file's placeholder, a missing image and another registry, saying what to do", () => {
    const placeholder = (stackConfig("prod").ingress as Obj).gatewayImage as string;
    expect(gatewayImageProblem(ingress("prod"), server)).toBe(
      `image ${placeholder} is the placeholder of mlops:ingress.gatewayImage: import ` +
        "envoyproxy/gateway into the shared registry and write its digest (docs/traffic.md)",
    );
    const withoutImage = { ...(stackConfig("prod").ingress as Obj), gatewayImage: undefined };
    expect(
      gatewayImageProblem(parseConfig({ ...stackConfig("prod"), ingress: withoutImage }), server),
    ).toBe(
      "mlops:ingress.gatewayImage is not set: prod deploys the Envoy Gateway controller by " +
        "digest from the shared registry (import envoyproxy/gateway, docs/traffic.md)",
    );
    const elsewhere = `other.azurecr.io/envoyproxy/gateway@sha256:${"ab".repeat(32)}`;
    expect(gatewayImageProblem(ingress("prod", { gatewayImage: elsewhere }), server)).toMatch(
      /is in registry other\.azurecr\.io, but the cluster pulls only from the shared registry/,
    );
    const imported = `${server}/envoyproxy/gateway@sha256:${"ab".repeat(32)}`;
    expect(
      gatewayImageProblem(ingress("prod", { gatewayImage: imported }), server),
    ).toBeUndefined();
  });

  test("dev may use the chart's own image; prod config refuses a tag", () => {
    expect(gatewayImageProblem(ingress("dev"), server)).toBeUndefined();
    expect(() => ingress("prod", { gatewayImage: "envoyproxy/gateway:v1.9.0" })).toThrow(
      'mlops:ingress.gatewayImage: got "envoyproxy/gateway:v1.9.0"; prod deploys by digest: use <repo>@sha256:<64 hex>',
    );
  });
});

/**
 * Facts of Envoy Gateway v1.9.0, read in its source (nothing renders the chart here):
 * `templates/envoy-gateway-deployment.yaml` mounts the Secret `envoy-gateway` (volume `certs`),
 * which only the certgen Job of `templates/certgen.yaml`, a `pre-install` hook, creates; and
 * `envoy-gateway certgen` writes these Secrets (`internal/provider/kubernetes/secrets.go`).
 * `helm.v4.Chart` renders no hook.
 */
const CHART_DEPLOYMENT_SECRETS = ["envoy-gateway"];
const CERTGEN_WRITES = ["envoy-gateway", "envoy", "envoy-rate-limit", "envoy-oidc-hmac"];
const CHART = "kubernetes:helm.sh/v4:Chart";

describe("Envoy Gateway's controller starts: the Secrets it mounts exist before it", () => {
  test.each(["dev", "prod"] as const)(
    "%s: every Secret a Deployment mounts is created by something the program registers first",
    async (stack) => {
      const resources = await run(stack);
      const chart = findResource(resources, CHART, "mlops-gateway-chart");
      const creators = new Map<string, RecordedResource>();
      for (const r of resources) {
        const meta = r.inputs.metadata ?? {};
        if (r.type === "kubernetes:core/v1:Secret")
          creators.set(`${meta.namespace}/${meta.name}`, r);
        const container = r.inputs.spec?.template?.spec?.containers?.[0];
        if (
          r.type === "kubernetes:batch/v1:Job" &&
          container?.command?.join(" ") === "envoy-gateway certgen"
        ) {
          for (const name of CERTGEN_WRITES) creators.set(`${meta.namespace}/${name}`, r);
        }
      }
      const mounts: Array<{ by: RecordedResource; secret: string }> = [];
      for (const d of resources.filter((r) => r.inputs.kind === "Deployment")) {
        for (const v of d.inputs.spec.template.spec.volumes ?? []) {
          if (v.secret)
            mounts.push({ by: d, secret: `${d.inputs.metadata.namespace}/${v.secret.secretName}` });
        }
      }
      for (const name of CHART_DEPLOYMENT_SECRETS) {
        mounts.push({ by: chart, secret: `${chart.inputs.namespace}/${name}` });
      }
      expect(mounts.length).toBeGreaterThan(0);
      for (const { by, secret } of mounts) {
        const creator = creators.get(secret);
        expect({ secret, createdBy: creator?.name ?? "nothing" }).toEqual({
          secret,
          createdBy: expect.not.stringMatching(/^nothing$/),
        });
        // The chart's Deployment may only start once its certificates are written.
        if (by === chart) expect(chart.dependsOn).toContain(creator!.name);
      }
    },
  );

  test("the certgen Job may write the namespace's Secrets, and patches no webhook that is not there", async () => {
    const resources = await run("dev");
    const job = findResource(resources, "kubernetes:batch/v1:Job", "mlops-gateway-certgen").inputs;
    const pod = job.spec.template.spec;
    const binding = resources.find(
      (r) =>
        r.type === "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding" &&
        r.inputs.subjects.some(
          (s: Obj) => s.kind === "ServiceAccount" && s.name === pod.serviceAccountName,
        ),
    )!.inputs;
    expect(binding.metadata.namespace).toBe(job.metadata.namespace);
    const role = resources.find(
      (r) =>
        r.type === "kubernetes:rbac.authorization.k8s.io/v1:Role" &&
        r.inputs.metadata.name === binding.roleRef.name,
    )!.inputs;
    expect(role.rules).toContainEqual(
      expect.objectContaining({
        resources: ["secrets"],
        verbs: expect.arrayContaining(["create"]),
      }),
    );
    // The topology injector's webhook is a hook too, so it never exists: certgen must not wait
    // to patch it, and the chart must not run the injector.
    expect(pod.containers[0].args).toContain("--disable-topology-injector");
    expect(
      findResource(resources, CHART, "mlops-gateway-chart").inputs.values.topologyInjector,
    ).toEqual({
      enabled: false,
    });
    // up waits for the certificates to be written.
    expect(job.metadata.annotations["pulumi.com/waitFor"]).toBe("condition=Complete");
  });
});

describe("prod's Envoy Gateway runs only images pinned by digest in the shared registry", () => {
  test("the controller, its certgen Job and the Envoy proxies it creates", async () => {
    const resources = await run("prod");
    const values = findResource(resources, CHART, "mlops-gateway-chart").inputs.values;
    const job = findResource(resources, "kubernetes:batch/v1:Job", "mlops-gateway-certgen").inputs;
    const images = {
      controller: values.global?.images?.envoyGateway?.image,
      certgen: job.spec.template.spec.containers[0].image,
      proxies: values.global?.images?.envoyProxy?.image,
    };
    expect(images).toEqual({
      controller: IMPORTED_GATEWAY_IMAGE,
      certgen: IMPORTED_GATEWAY_IMAGE,
      proxies: IMPORTED_PROXY_IMAGE,
    });
    for (const image of Object.values(images)) {
      expect(image.startsWith(`${MOCK_REGISTRY_SERVER}/`)).toBe(true);
      expect(isDigestRef(image)).toBe(true);
    }
  });

  test("prod refuses the proxy image's placeholder, a missing one, and a tag, saying what to do", () => {
    const prodIngress = stackConfig("prod").ingress as Obj;
    const placeholder = prodIngress.envoyProxyImage as string;
    const config = (extra: Obj) =>
      parseConfig({ ...stackConfig("prod"), ingress: { ...prodIngress, ...extra } });
    expect(gatewayImageProblem(config({}), MOCK_REGISTRY_SERVER, "envoyProxyImage")).toBe(
      `image ${placeholder} is the placeholder of mlops:ingress.envoyProxyImage: import ` +
        "envoyproxy/envoy into the shared registry and write its digest (docs/traffic.md)",
    );
    expect(
      gatewayImageProblem(
        config({ envoyProxyImage: undefined }),
        MOCK_REGISTRY_SERVER,
        "envoyProxyImage",
      ),
    ).toBe(
      "mlops:ingress.envoyProxyImage is not set: prod deploys the Envoy proxies by digest from " +
        "the shared registry (import envoyproxy/envoy, docs/traffic.md)",
    );
    expect(() => config({ envoyProxyImage: "envoyproxy/envoy:distroless-v1.39.0" })).toThrow(
      'mlops:ingress.envoyProxyImage: got "envoyproxy/envoy:distroless-v1.39.0"; prod deploys by digest: use <repo>@sha256:<64 hex>',
    );
  });
});

/** Whether `from` waits for `target` on an `up`: through `dependsOn` (a component stands for all
 * its descendants) and through the `dependsOn` of its ancestors, as the engine is told. */
function waitsFor(resources: RecordedResource[], from: RecordedResource, target: string): boolean {
  // Registered resources only (the objects inside ConfigGroups have no options of their own).
  const registered = resources.filter((r) => r.dependsOn !== undefined);
  const byName = new Map(registered.map((r) => [r.name, r]));
  const descendants = (name: string): string[] => [
    name,
    ...registered.filter((r) => r.parent === name).flatMap((r) => descendants(r.name)),
  ];
  const seen = new Set<string>();
  const queue = [from.name];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const r = byName.get(name);
    if (!r) continue;
    for (const dep of r.dependsOn ?? []) {
      if (descendants(dep).includes(target)) return true;
      queue.push(dep);
    }
    if (r.parent) queue.push(r.parent);
  }
  return false;
}

describe("the HTTPS listener's certificate exists before the Gateway on a first up", () => {
  test.each(["dev", "prod"] as const)(
    "%s: every listener's Secret is registered by the program before the Gateway, and may be used from there",
    async (stack) => {
      const resources = await run(stack);
      const manifests = findResource(
        resources,
        "kubernetes:yaml/v2:ConfigGroup",
        "mlops-manifests",
      );
      const gateway = resources.find((r) => r.inputs.kind === "Gateway")!.inputs;
      const own = gateway.metadata.namespace;
      const refs = (gateway.spec.listeners as Obj[]).flatMap((l) => l.tls?.certificateRefs ?? []);
      expect(refs.length).toBeGreaterThan(0);
      for (const ref of refs as Obj[]) {
        const namespace = ref.namespace ?? own;
        // A typed resource of its own: the app's namespace (and so anything inside the app's
        // ConfigGroup) does not exist before the app.
        const secret = resources.find(
          (r) =>
            r.type === "kubernetes:core/v1:Secret" &&
            r.inputs.metadata?.name === ref.name &&
            r.inputs.metadata?.namespace === namespace,
        );
        expect({ ref: `${namespace}/${ref.name}`, registered: secret !== undefined }).toEqual({
          ref: `${namespace}/${ref.name}`,
          registered: true,
        });
        expect(secret!.inputs.type).toBe("kubernetes.io/tls");
        expect(waitsFor(resources, manifests, secret!.name)).toBe(true);
        if (namespace !== own) {
          const grants = resources.filter(
            (r) =>
              r.inputs.kind === "ReferenceGrant" &&
              r.inputs.metadata.namespace === namespace &&
              (r.inputs.spec.from as Obj[]).some(
                (f) => f.kind === "Gateway" && f.namespace === own,
              ) &&
              (r.inputs.spec.to as Obj[]).some((t) => t.kind === "Secret" && t.name === ref.name),
          );
          expect(grants).toHaveLength(1);
        }
      }
      // Issued for the listener's host.
      const cert = findResource(resources, "tls:index/selfSignedCert:SelfSignedCert");
      expect(cert.inputs.dnsNames).toEqual(
        (gateway.spec.listeners as Obj[]).map((l) => l.hostname),
      );
    },
  );

  test("ingress.certificate external: the program issues nothing and the Gateway names the Secret in its own namespace", async () => {
    const resources = await run("dev", {
      ingress: { ...(stackConfig("dev").ingress as Obj), certificate: "external" },
    });
    expect(resources.filter((r) => r.type.startsWith("tls:"))).toEqual([]);
    const gateway = resources.find((r) => r.inputs.kind === "Gateway")!.inputs;
    expect(gateway.spec.listeners[0].tls.certificateRefs).toEqual([
      { group: "", kind: "Secret", name: "mlops-tls" },
    ]);
  });
});

describe("the runbook checks the blob CSI driver before the first training run", () => {
  const doc = fs.readFileSync(path.join(__dirname, "..", "..", "..", "docs", "azure.md"), "utf8");
  const start = doc.indexOf("# Token mode needs blob CSI driver v1.27.0");
  const check = doc.slice(start, doc.indexOf("kubectl create job", start));
  /** Runs the runbook's check with a stand-in kubectl that reports `image` for the driver. */
  const runCheck = (image: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "csi-"));
    fs.writeFileSync(path.join(dir, "kubectl"), `#!/bin/sh\nprintf '%s' '${image}'\n`, {
      mode: 0o755,
    });
    const r = spawnSync("bash", ["-c", check], {
      env: { PATH: `${dir}:${process.env.PATH}` },
      encoding: "utf8",
    });
    fs.rmSync(dir, { recursive: true, force: true });
    return r.stdout.trim();
  };

  test("token mode needs v1.27.0: an older driver is named, a newer one passes", () => {
    expect(start).toBeGreaterThan(-1);
    const repo = "registry.example/kubernetes-csi/blob-csi";
    expect(runCheck(`${repo}:v1.26.9`)).toBe(
      "blob CSI driver v1.26.9 is older than v1.27.0: see decision 2 before training",
    );
    expect(runCheck(`${repo}:v1.27.0`)).toBe("blob CSI driver v1.27.0: token mode supported");
    expect(runCheck(`${repo}:v1.30.2`)).toBe("blob CSI driver v1.30.2: token mode supported");
  });
});
