/**
 * Each Azure component built on its own under Pulumi mocks, with known arguments: every property
 * that Azure acts on is written out here as Azure documents it, so a change to any of them is a
 * reviewed change of this file. (program.test.ts and azure.test.ts check how the program wires
 * the components together; this file checks what each one creates.)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Provider as AzureProvider } from "@pulumi/azure-native/provider";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import {
  Cluster,
  ClusterArgs,
  managedPrometheusProfile,
  RBAC_PROPAGATION_MS,
  rbacPropagationWaitMs,
  systemPoolProfile,
  trainingPoolArgs,
  withKubeloginMode,
} from "../../../../infra/azure/cluster";
import {
  controllerValues,
  ENVOY_GATEWAY_CHART,
  ENVOY_GATEWAY_CRDS_CHART,
  ENVOY_GATEWAY_VERSION,
  EnvoyGateway,
  gatewayImageProblem,
} from "../../../../infra/azure/gateway";
import { ListenerCertificate } from "../../../../infra/azure/certificate";
import { MlWorkspace, MlWorkspaceArgs } from "../../../../infra/azure/ml-workspace";
import { ModelStore, ModelStoreArgs } from "../../../../infra/azure/model-store";
import {
  ManagedPrometheus,
  ManagedPrometheusArgs,
  prometheusCollectionRule,
} from "../../../../infra/azure/monitoring";
import {
  checkName,
  CONTAINER_REGISTRY,
  GRAFANA_WORKSPACE,
  stableSuffix,
  STORAGE_ACCOUNT,
  uniqueName,
} from "../../../../infra/azure/names";
import { pullProblem, Registry, RegistryArgs } from "../../../../infra/azure/registry";
import { SERVICE_IMAGE_FORMER_TYPE, ServiceImage } from "../../../../infra/image";
import { RuleGroup } from "../../../../infra/monitoring/rules";
import {
  AKS_EXEC_KUBECONFIG,
  findResource,
  MOCK_SUBSCRIPTION_ID,
  mockRoleDefinitionId,
  outputValue,
  Recording,
  RecordedResource,
  recordResources,
  RecordOptions,
} from "../../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** Built-in Azure role ids, from Azure's "built-in roles" reference (the same in every tenant). */
const ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d";
const STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
const AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b";
const MONITORING_DATA_READER = "b0d8363b-8ddd-447d-831f-62ca05bff136";

const TAGS = { project: "mlops-platform", stack: "test" };

/** The arguments each component is built with below. */
const CLUSTER_ARGS: ClusterArgs = {
  location: "westeurope",
  kubernetesVersion: "1.33",
  systemPool: { vmSize: "Standard_D4s_v5", minCount: 2, maxCount: 5, osDiskSizeGb: 128 },
  trainingPool: { vmSize: "Standard_D8s_v5", minCount: 0, maxCount: 3, osDiskSizeGb: 256 },
  scaleDownUnneededMinutes: 7,
  tier: "Standard",
  availabilityZones: ["1", "2"],
  kubeloginMode: "workloadidentity",
  deployerPrincipalType: "ServicePrincipal",
  tags: TAGS,
};
const REGISTRY_ARGS: RegistryArgs = {
  resourceGroupName: "shared-rg",
  pullPrincipalId: "kubelet-id",
};
const MODEL_STORE_ARGS: ModelStoreArgs = {
  resourceGroupName: "rg",
  nameSuffix: "0a1b2c3d",
  location: "westeurope",
  oidcIssuerUrl: "https://issuer.example/",
  namespace: "ml",
  serviceAccounts: ["inference", "training"],
  tags: TAGS,
};
const ML_WORKSPACE_ARGS: MlWorkspaceArgs = {
  resourceGroupName: "rg",
  location: "westeurope",
  storageAccountId: "account-id",
  vmSize: "Standard_D8s_v5",
  maxNodes: 4,
  tags: TAGS,
};
const RULE_GROUPS: RuleGroup[] = [
  { name: "mlops-recording", rules: [{ record: "job:x:rate5m", expr: "rate(x[5m])" }] },
  {
    name: "mlops-alerts",
    rules: [
      {
        alert: "Down",
        expr: "up == 0",
        forMinutes: 5,
        severity: "critical",
        summary: "s",
        description: "d",
        runbook: "r",
      },
    ],
  },
];
const PROMETHEUS_ARGS: ManagedPrometheusArgs = {
  resourceGroupName: "rg",
  location: "westeurope",
  clusterId: "cluster-id",
  clusterName: "cluster",
  ruleGroups: RULE_GROUPS,
  actionGroupId: "action-group-id",
  grafana: false,
  tags: TAGS,
};

/** The error an output rejects with (every one of its promises is awaited, so none goes unhandled). */
async function errorOf(output: pulumi.Output<unknown>): Promise<unknown> {
  const o = output as unknown as {
    promise(): Promise<unknown>;
    isKnown: Promise<boolean>;
    isSecret: Promise<boolean>;
  };
  const [value] = await Promise.allSettled([o.promise(), o.isKnown, o.isSecret]);
  return value.status === "rejected" ? value.reason : undefined;
}

/** Everything but the component itself has the component as its parent. */
function expectAllParented(resources: RecordedResource[], component: string): void {
  const children = resources.filter((r) => r.name !== component);
  expect(children.length).toBeGreaterThan(0);
  for (const r of children)
    expect({ name: r.name, parent: r.parent }).toEqual({ name: r.name, parent: component });
}

// ---------------------------------------------------------------------------------------------
describe("Cluster", () => {
  const build = (over: Partial<ClusterArgs> = {}, options?: RecordOptions) =>
    recordResources(() => new Cluster("c", { ...CLUSTER_ARGS, ...over }), options);

  test("the managed cluster: Entra ID with Azure RBAC only, workload identity, blob CSI, Cilium overlay", async () => {
    const { resources } = await build();
    const aks = findResource(resources, "azure-native:containerservice:ManagedCluster");
    expect(aks.name).toBe("c-aks");
    expect(aks.inputs).toEqual({
      resourceGroupName: "c-rg",
      location: "westeurope",
      tags: TAGS,
      dnsPrefix: "c",
      kubernetesVersion: "1.33",
      sku: { name: "Base", tier: "Standard" },
      // A system-assigned control-plane identity (no service principal secret to rotate).
      identity: { type: "SystemAssigned" },
      // No static admin or user certificate: every login goes through Entra ID.
      disableLocalAccounts: true,
      enableRBAC: true,
      aadProfile: { managed: true, enableAzureRBAC: true },
      // The issuer and webhook that workload identity federation needs.
      oidcIssuerProfile: { enabled: true },
      securityProfile: { workloadIdentity: { enabled: true } },
      storageProfile: { blobCSIDriver: { enabled: true } },
      // Azure CNI overlay with Cilium, which also enforces NetworkPolicy (the SDK adds its
      // defaults for the address ranges and outbound type).
      networkProfile: expect.objectContaining({
        networkPlugin: "azure",
        networkPluginMode: "overlay",
        networkDataplane: "cilium",
        networkPolicy: "cilium",
      }),
      agentPoolProfiles: [
        {
          name: "system",
          mode: "System",
          vmSize: "Standard_D4s_v5",
          osType: "Linux",
          osDiskSizeGB: 128,
          type: "VirtualMachineScaleSets",
          enableAutoScaling: true,
          count: 2,
          minCount: 2,
          maxCount: 5,
          availabilityZones: ["1", "2"],
        },
      ],
      autoScalerProfile: {
        scaleDownUnneededTime: "7m",
        scaleDownDelayAfterAdd: "7m",
        scaleDownUnreadyTime: "7m",
        expander: "least-waste",
        skipNodesWithLocalStorage: "false",
        balanceSimilarNodeGroups: "true",
      },
    });
    expect(aks.ignoreChanges).toEqual(["agentPoolProfiles[0].count"]);
    expect(findResource(resources, "azure-native:resources:ResourceGroup").inputs).toEqual({
      location: "westeurope",
      tags: TAGS,
    });
  });

  test("the training pool: a tainted, labelled User pool the autoscaler moves from 0", async () => {
    const { resources } = await build();
    const pool = findResource(resources, "azure-native:containerservice:AgentPool");
    expect(pool.inputs).toEqual({
      resourceGroupName: "c-rg",
      resourceName: "c-aks",
      tags: TAGS,
      agentPoolName: "training",
      mode: "User",
      vmSize: "Standard_D8s_v5",
      osType: "Linux",
      osDiskSizeGB: 256,
      type: "VirtualMachineScaleSets",
      enableAutoScaling: true,
      count: 0,
      minCount: 0,
      maxCount: 3,
      nodeLabels: { "mlops-platform/pool": "training" },
      nodeTaints: ["mlops-platform/pool=training:NoSchedule"],
      availabilityZones: ["1", "2"],
    });
    expect(pool.ignoreChanges).toEqual(["count"]);
    expect(pool.dependsOn).toContain("c-aks");
  });

  test("the managed Prometheus add-on only when asked, with no extra labels or annotations exported", async () => {
    const without = findResource(
      (await build()).resources,
      "azure-native:containerservice:ManagedCluster",
    );
    expect(without.inputs).not.toHaveProperty("azureMonitorProfile");
    const withIt = findResource(
      (await build({ managedPrometheus: true })).resources,
      "azure-native:containerservice:ManagedCluster",
    );
    expect(withIt.inputs.azureMonitorProfile).toEqual({
      metrics: {
        enabled: true,
        kubeStateMetrics: { metricLabelsAllowlist: "", metricAnnotationsAllowList: "" },
      },
    });
    expect(managedPrometheusProfile()).toEqual(withIt.inputs.azureMonitorProfile);
  });

  test("the deployer gets AKS RBAC Cluster Admin on this cluster; a later caller does not replace it", async () => {
    const { resources } = await build({ deployerPrincipalType: "User" });
    const grant = findResource(resources, "azure-native:authorization:RoleAssignment");
    expect(grant.name).toBe("c-deployer-admin");
    expect(grant.inputs).toEqual({
      principalId: "object-id",
      principalType: "User",
      roleDefinitionId: mockRoleDefinitionId(AKS_RBAC_CLUSTER_ADMIN),
      scope: "c-aks-id",
    });
    expect(grant.ignoreChanges).toEqual(["principalId", "principalType"]);
  });

  test("the Kubernetes provider: the exec kubeconfig in the configured login mode, after the grant", async () => {
    const { resources, value: cluster } = await build();
    const provider = findResource(resources, "pulumi:providers:kubernetes");
    expect(provider.name).toBe("c-k8s");
    expect(provider.dependsOn).toContain("c-deployer-admin");
    expect(String(provider.inputs.enableServerSideApply)).toBe("true");
    const kubeconfig = parse(await outputValue(cluster.kubeconfig));
    expect(kubeconfig.users[0].user.exec.args.slice(-2)).toEqual(["--login", "workloadidentity"]);
    // A secret input reaches the engine as {<secret signature>: …, value}.
    expect(parse(provider.inputs.kubeconfig.value)).toEqual(kubeconfig);
    expect(await (cluster.kubeconfig as unknown as { isSecret: Promise<boolean> }).isSecret).toBe(
      true,
    );
  });

  test("the outputs: kubelet identity, OIDC issuer, and the component's registered outputs", async () => {
    const { resources, value: cluster } = await build();
    expect(await outputValue(cluster.kubeletObjectId)).toBe("kubelet-object-id");
    expect(await outputValue(cluster.oidcIssuerUrl)).toBe("https://oidc.example/issuer/");
    expect(findResource(resources, "mlops:azure:Cluster").registeredOutputs).toEqual([
      "kubeconfig",
      "oidcIssuerUrl",
      "trainingPoolName",
    ]);
    expectAllParented(
      resources.filter((r) => r.type !== "pulumi:providers:kubernetes" || r.name === "c-k8s"),
      "c",
    );
  });

  test.each([
    ["no identity profile", undefined],
    ["an identity profile without the kubelet identity", {}],
  ])(
    "a cluster that reports %s fails with its name; no OIDC issuer gives ''",
    async (_what, identityProfile) => {
      const { value } = await recordResources(
        () => {
          const cluster = new Cluster("c", CLUSTER_ARGS);
          // Handled from the start: the engine would otherwise see an unhandled rejection.
          return { cluster, kubeletError: errorOf(cluster.kubeletObjectId) };
        },
        {
          state: (type, name, inputs) =>
            type === "azure-native:containerservice:ManagedCluster"
              ? { ...inputs, name, identityProfile, oidcIssuerProfile: undefined }
              : undefined,
        },
      );
      expect(await value.kubeletError).toEqual(
        new Error("AKS cluster c reports no kubelet identity"),
      );
      expect(await outputValue(value.cluster.oidcIssuerUrl)).toBe("");
    },
  );

  test("the kubeconfig is the user credentials of this cluster, in exec format", async () => {
    const { calls } = await build();
    expect(
      calls.filter(
        (c) => c.token === "azure-native:containerservice:listManagedClusterUserCredentials",
      ),
    ).toEqual([
      {
        token: "azure-native:containerservice:listManagedClusterUserCredentials",
        inputs: { resourceGroupName: "c-rg", resourceName: "c-aks", format: "exec" },
      },
    ]);
  });

  test("a role assignment made moments ago is waited for before the kubeconfig is handed out", async () => {
    const logged = jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());
    // A minute of propagation left: far more than building the component takes on a loaded
    // machine (400 ms was not). The wait itself is not sat out: the long timer fires at once.
    const realSetTimeout = global.setTimeout;
    const timers = jest
      .spyOn(global, "setTimeout")
      .mockImplementation(((fn: () => void, ms?: number) =>
        realSetTimeout(fn, (ms ?? 0) > 100 ? 0 : ms)) as unknown as typeof setTimeout);
    try {
      const createdOn = new Date(Date.now() - RBAC_PROPAGATION_MS + 60000).toISOString();
      const { value: cluster } = await build(
        {},
        {
          state: (type, name, inputs) =>
            type === "azure-native:authorization:RoleAssignment"
              ? { ...inputs, name, createdOn }
              : undefined,
        },
      );
      await outputValue(cluster.kubeconfig);
      const waits = timers.mock.calls.map((c) => c[1] as number).filter((ms) => ms > 100);
      expect(waits).toHaveLength(1);
      // At most the minute left, and not much less: only the build's own time has passed.
      expect(waits[0]).toBeLessThanOrEqual(60000);
      expect(waits[0]).toBeGreaterThan(30000);
      expect(logged).toHaveBeenCalledWith(
        `waiting ${Math.ceil(waits[0] / 1000)} s for AKS RBAC to propagate`,
        cluster,
      );
    } finally {
      logged.mockRestore();
      timers.mockRestore();
    }
  });

  test("an old role assignment, or a preview, waits for nothing", async () => {
    const logged = jest.spyOn(pulumi.log, "info").mockImplementation(() => Promise.resolve());
    try {
      const old = await build();
      await outputValue(old.value.kubeconfig);
      const preview = await build(
        {},
        {
          preview: true,
          state: (type, name, inputs) =>
            type === "azure-native:authorization:RoleAssignment"
              ? { ...inputs, name, createdOn: new Date().toISOString() }
              : undefined,
        },
      );
      await outputValue(preview.value.kubeconfig);
      expect(logged).not.toHaveBeenCalled();
    } finally {
      logged.mockRestore();
    }
  });

  test("pool argument checks: the system pool keeps a node, the training pool starts from 0", () => {
    const pool = { vmSize: "Standard_D4s_v5", minCount: 1, maxCount: 3, osDiskSizeGb: 64 };
    expect(systemPoolProfile(pool)).not.toHaveProperty("availabilityZones");
    expect(systemPoolProfile(pool).minCount).toBe(1);
    expect(() => systemPoolProfile({ ...pool, minCount: 0 })).toThrow(
      "system pool minCount is 0: the system pool runs the cluster's add-ons and must keep at least 1 node",
    );
    expect(trainingPoolArgs({ ...pool, minCount: 0 })).not.toHaveProperty("availabilityZones");
    expect(() => trainingPoolArgs(pool)).toThrow(
      "training pool minCount is 1: it must be 0 so the pool scales to zero when idle",
    );
  });
});

describe("withKubeloginMode on kubeconfigs AKS does not usually return", () => {
  const kubeconfig = (users: unknown[]) =>
    JSON.stringify({ apiVersion: "v1", kind: "Config", users });
  const kubelogin = (command: string, args?: unknown) => ({
    name: command,
    user: { exec: { command, ...(args === undefined ? {} : { args }) } },
  });

  test("only kubelogin exec users change; token users, other commands and empty entries stay", () => {
    const out = parse(
      withKubeloginMode(
        kubeconfig([
          null,
          { name: "no-user" },
          { name: "token", user: { token: "t" } },
          kubelogin("az", ["account", "get-access-token", "--login", "x"]),
          kubelogin("/usr/local/bin/kubelogin", ["get-token", "-l", "devicecode"]),
          kubelogin("kubelogin-legacy", ["get-token"]),
          kubelogin("C:/tools/kubelogin.exe", ["get-token", "--login=interactive"]),
        ]),
        "azurecli",
      ),
    );
    expect(out.users).toEqual([
      null,
      { name: "no-user" },
      { name: "token", user: { token: "t" } },
      kubelogin("az", ["account", "get-access-token", "--login", "x"]),
      kubelogin("/usr/local/bin/kubelogin", ["get-token", "--login", "azurecli"]),
      kubelogin("kubelogin-legacy", ["get-token"]),
      kubelogin("C:/tools/kubelogin.exe", ["get-token", "--login", "azurecli"]),
    ]);
  });

  test("a kubelogin user without arguments gets just the login flag", () => {
    const out = parse(withKubeloginMode(kubeconfig([kubelogin("kubelogin")]), "msi"));
    expect(out.users[0].user.exec.args).toEqual(["--login", "msi"]);
  });

  test.each([
    ["an empty document", ""],
    ["no users", kubeconfig([])],
    ["users that is not a list", JSON.stringify({ users: { a: 1 } })],
    ["an exec user without a command", kubeconfig([{ name: "x", user: { exec: {} } }])],
  ])("%s is refused with what was expected", (_what, text) => {
    expect(() => withKubeloginMode(text, "azurecli")).toThrow(
      "the cluster's kubeconfig has no kubelogin exec user",
    );
  });

  test("AKS's own kubeconfig keeps everything but its login method", () => {
    const before = parse(AKS_EXEC_KUBECONFIG);
    const after = parse(withKubeloginMode(AKS_EXEC_KUBECONFIG, "spn"));
    before.users[0].user.exec.args.splice(-2, 2, "--login", "spn");
    expect(after).toEqual(before);
  });
});

describe("rbacPropagationWaitMs", () => {
  const now = Date.parse("2026-06-01T12:00:00Z");
  test.each([
    ["created now", "2026-06-01T12:00:00Z", RBAC_PROPAGATION_MS],
    ["created a minute ago", "2026-06-01T11:59:00Z", RBAC_PROPAGATION_MS - 60_000],
    ["created exactly five minutes ago", "2026-06-01T11:55:00Z", 0],
    ["created an hour ago", "2026-06-01T11:00:00Z", 0],
    ["dated in the future (clock skew)", "2026-06-01T12:10:00Z", RBAC_PROPAGATION_MS],
    ["unreadable", "yesterday-ish", RBAC_PROPAGATION_MS],
    ["not reported", undefined, RBAC_PROPAGATION_MS],
  ])("%s", (_what, createdOn, expected) => {
    expect(rbacPropagationWaitMs(createdOn, now)).toBe(expected);
  });
  test("the window is Azure's documented five minutes", () => {
    expect(RBAC_PROPAGATION_MS).toBe(300_000);
  });
});

// ---------------------------------------------------------------------------------------------
describe("Registry", () => {
  test("looks up the shared registry and grants the kubelet identity AcrPull on it alone", async () => {
    const { resources, value: registry } = await recordResources(
      () => new Registry("r", REGISTRY_ARGS),
    );
    const grant = findResource(resources, "azure-native:authorization:RoleAssignment");
    expect(grant.name).toBe("r-acr-pull");
    const name = grant.inputs.scope.split("/").pop();
    expect(grant.inputs).toEqual({
      principalId: "kubelet-id",
      // A kubelet identity is a managed identity: Azure wants ServicePrincipal for it.
      principalType: "ServicePrincipal",
      roleDefinitionId: mockRoleDefinitionId(ACR_PULL),
      scope: `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/shared-rg/providers/Microsoft.ContainerRegistry/registries/${name}`,
    });
    expect(name).toMatch(/^mlopsacr[0-9a-f]{8}$/);
    expect(await outputValue(registry.loginServer)).toBe(`${name}.azurecr.io`);
    expect(findResource(resources, "mlops:azure:Registry").registeredOutputs).toEqual([
      "loginServer",
    ]);
    expectAllParented(resources, "r");
  });

  test("a configured name wins over the derived one", async () => {
    const { value: registry } = await recordResources(
      () => new Registry("r", { ...REGISTRY_ARGS, name: "teamregistry" }),
    );
    expect(await outputValue(registry.loginServer)).toBe("teamregistry.azurecr.io");
  });
});

describe("pullProblem", () => {
  const server = "mlopsacr12345678.azurecr.io";
  test("a digest that only starts with the placeholder's zeros is not the placeholder", () => {
    const zeros = "0".repeat(64);
    expect(pullProblem(`${server}/app@sha256:${zeros}`, server)).toMatch(/is the placeholder/);
    expect(pullProblem(`${server}/app@sha256:${zeros}1`, server)).toBeUndefined();
    expect(pullProblem(`${server}/app@sha256:1${zeros.slice(1)}`, server)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
describe("ModelStore", () => {
  const build = () => recordResources(() => new ModelStore("m", MODEL_STORE_ARGS));

  test("a private, HTTPS-only, zone-redundant account with a private container", async () => {
    const { resources } = await build();
    expect(findResource(resources, "azure-native:storage:StorageAccount").inputs).toEqual({
      accountName: "mlopsmodels0a1b2c3d",
      resourceGroupName: "rg",
      location: "westeurope",
      kind: "StorageV2",
      sku: { name: "Standard_ZRS" },
      allowBlobPublicAccess: false,
      minimumTlsVersion: "TLS1_2",
      enableHttpsTrafficOnly: true,
      tags: TAGS,
    });
    expect(findResource(resources, "azure-native:storage:BlobContainer").inputs).toEqual({
      accountName: "mlopsmodels0a1b2c3d",
      resourceGroupName: "rg",
      containerName: "models",
      publicAccess: "None",
    });
  });

  test("one federated credential per service account, with the token exchange audience", async () => {
    const { resources } = await build();
    const identity = findResource(resources, "azure-native:managedidentity:UserAssignedIdentity");
    expect(identity.inputs).toEqual({
      resourceGroupName: "rg",
      location: "westeurope",
      tags: TAGS,
    });
    const credentials = resources.filter(
      (r) => r.type === "azure-native:managedidentity:FederatedIdentityCredential",
    );
    expect(credentials.map((c) => [c.name, c.inputs])).toEqual(
      ["inference", "training"].map((sa) => [
        `m-${sa}-federation`,
        {
          resourceGroupName: "rg",
          resourceName: "m-identity",
          issuer: "https://issuer.example/",
          subject: `system:serviceaccount:ml:${sa}`,
          audiences: ["api://AzureADTokenExchange"],
        },
      ]),
    );
  });

  test("Storage Blob Data Contributor on the account, and nothing more", async () => {
    const { resources } = await build();
    expect(findResource(resources, "azure-native:authorization:RoleAssignment").inputs).toEqual({
      principalId: "model-store-principal-id",
      principalType: "ServicePrincipal",
      roleDefinitionId: mockRoleDefinitionId(STORAGE_BLOB_DATA_CONTRIBUTOR),
      scope: "m-sa-id",
    });
  });

  test("the container URL and the component's outputs", async () => {
    const { resources, value: store } = await build();
    expect(await outputValue(store.url)).toBe(
      "https://mlopsmodels0a1b2c3d.blob.core.windows.net/models",
    );
    expect(findResource(resources, "mlops:azure:ModelStore").registeredOutputs).toEqual([
      "clientId",
      "url",
    ]);
    expectAllParented(resources, "m");
  });
});

// ---------------------------------------------------------------------------------------------
describe("MlWorkspace", () => {
  const build = () => recordResources(() => new MlWorkspace("w", ML_WORKSPACE_ARGS));

  test("a Basic workspace with a system identity, over its vault, insights and the model store", async () => {
    const { resources } = await build();
    expect(
      findResource(resources, "azure-native:machinelearningservices:Workspace").inputs,
    ).toEqual({
      resourceGroupName: "rg",
      location: "westeurope",
      tags: TAGS,
      identity: { type: "SystemAssigned" },
      sku: { name: "Basic", tier: "Basic" },
      keyVault: "w-kv-id",
      storageAccount: "account-id",
      applicationInsights: "w-insights-id",
    });
  });

  test("the key vault: RBAC authorization and purge protection, standard SKU, this tenant", async () => {
    const { resources } = await build();
    // toMatchObject: the SDK adds its defaults (soft delete for 90 days, public access).
    expect(findResource(resources, "azure-native:keyvault:Vault").inputs).toMatchObject({
      resourceGroupName: "rg",
      location: "westeurope",
      tags: TAGS,
      properties: {
        tenantId: "tenant-id",
        sku: { family: "A", name: "standard" },
        enableRbacAuthorization: true,
        enablePurgeProtection: true,
      },
    });
  });

  test("workspace-based Application Insights on a pay-per-GB Log Analytics workspace", async () => {
    const { resources } = await build();
    expect(findResource(resources, "azure-native:operationalinsights:Workspace").inputs).toEqual({
      resourceGroupName: "rg",
      location: "westeurope",
      sku: { name: "PerGB2018" },
      retentionInDays: 30,
      tags: TAGS,
    });
    expect(
      findResource(resources, "azure-native:applicationinsights:Component").inputs,
    ).toMatchObject({
      resourceGroupName: "rg",
      location: "westeurope",
      kind: "web",
      applicationType: "web",
      workspaceResourceId: "w-logs-id",
      ingestionMode: "LogAnalytics",
      tags: TAGS,
    });
  });

  test("the AmlCompute training cluster scales from 0 and back after five idle minutes", async () => {
    const { resources } = await build();
    expect(findResource(resources, "azure-native:machinelearningservices:Compute").inputs).toEqual({
      resourceGroupName: "rg",
      location: "westeurope",
      workspaceName: "w-ws",
      computeName: "training",
      tags: TAGS,
      properties: {
        computeType: "AmlCompute",
        properties: {
          vmSize: "Standard_D8s_v5",
          scaleSettings: { minNodeCount: 0, maxNodeCount: 4, nodeIdleTimeBeforeScaleDown: "PT5M" },
        },
      },
    });
    expect(findResource(resources, "mlops:azure:MlWorkspace").registeredOutputs).toEqual([
      "workspaceName",
    ]);
    expectAllParented(resources, "w");
  });
});

// ---------------------------------------------------------------------------------------------
describe("ManagedPrometheus", () => {
  const build = (grafana: boolean) =>
    recordResources(() => new ManagedPrometheus("p", { ...PROMETHEUS_ARGS, grafana }), {
      stack: "dev",
    });

  test("the workspace, a Linux endpoint, the Prometheus collection rule and its association to the cluster", async () => {
    const { resources } = await build(false);
    expect(findResource(resources, "azure-native:monitor:AzureMonitorWorkspace").inputs).toEqual({
      resourceGroupName: "rg",
      location: "westeurope",
      tags: TAGS,
    });
    expect(findResource(resources, "azure-native:monitor:DataCollectionEndpoint").inputs).toEqual({
      resourceGroupName: "rg",
      location: "westeurope",
      kind: "Linux",
      tags: TAGS,
    });
    const rule = findResource(resources, "azure-native:monitor:DataCollectionRule").inputs;
    expect(rule).toEqual({
      resourceGroupName: "rg",
      location: "westeurope",
      tags: TAGS,
      kind: "Linux",
      description: expect.stringMatching(/\S/),
      dataCollectionEndpointId: "p-dce-id",
      dataSources: {
        prometheusForwarder: [
          {
            name: "PrometheusDataSource",
            streams: ["Microsoft-PrometheusMetrics"],
            labelIncludeFilter: {},
          },
        ],
      },
      destinations: {
        monitoringAccounts: [{ name: "MonitoringAccount1", accountResourceId: "p-workspace-id" }],
      },
      dataFlows: [
        { streams: ["Microsoft-PrometheusMetrics"], destinations: ["MonitoringAccount1"] },
      ],
    });
    expect(prometheusCollectionRule("e", "w").description).toBe(rule.description);
    expect(
      findResource(resources, "azure-native:monitor:DataCollectionRuleAssociation").inputs,
    ).toEqual({
      resourceUri: "cluster-id",
      dataCollectionRuleId: "p-dcr-id",
      description: expect.stringMatching(/deleting it stops the collection/),
    });
  });

  test("one enabled rule group per group, every minute, scoped to the workspace and the cluster", async () => {
    const { resources } = await build(false);
    const ruleGroups = resources.filter(
      (r) => r.type === "azure-native:alertsmanagement:PrometheusRuleGroup",
    );
    expect(ruleGroups.map((g) => g.name)).toEqual(["p-mlops-recording", "p-mlops-alerts"]);
    for (const [i, g] of ruleGroups.entries()) {
      expect(g.dependsOn).toContain("p-dcra");
      expect(g.inputs).toMatchObject({
        resourceGroupName: "rg",
        location: "westeurope",
        tags: TAGS,
        ruleGroupName: RULE_GROUPS[i].name,
        description: `mlops-platform rules (${RULE_GROUPS[i].name}); source: infra/monitoring/rules.ts`,
        scopes: ["p-workspace-id", "cluster-id"],
        clusterName: "cluster",
        enabled: true,
        interval: "PT1M",
      });
    }
    expect(ruleGroups[0].inputs.rules).toEqual([
      { record: "job:x:rate5m", expression: "rate(x[5m])", enabled: true },
    ]);
    expect(ruleGroups[1].inputs.rules[0]).toMatchObject({
      alert: "Down",
      for: "PT5M",
      actions: [{ actionGroupId: "action-group-id" }],
    });
  });

  test("without Grafana: no Grafana, no reader grant, an empty Grafana endpoint", async () => {
    const { resources, value: prometheus } = await build(false);
    expect(resources.filter((r) => r.type === "azure-native:dashboard:Grafana")).toEqual([]);
    expect(resources.filter((r) => r.type === "azure-native:authorization:RoleAssignment")).toEqual(
      [],
    );
    expect(await outputValue(prometheus.grafanaEndpoint)).toBe("");
    // The mocks' workspace reports no metrics endpoint (as during a preview).
    expect(await outputValue(prometheus.prometheusQueryEndpoint)).toBe("");
    expect(findResource(resources, "mlops:azure:ManagedPrometheus").registeredOutputs).toEqual([
      "grafanaEndpoint",
      "prometheusQueryEndpoint",
    ]);
    expectAllParented(resources, "p");
  });

  test("with Grafana: Entra-only Standard Grafana on the workspace, granted Monitoring Data Reader", async () => {
    const { resources, value: prometheus } = await build(true);
    const grafana = findResource(resources, "azure-native:dashboard:Grafana");
    expect(grafana.name).toBe("p-grafana");
    expect(grafana.inputs).toEqual({
      resourceGroupName: "rg",
      location: "westeurope",
      tags: TAGS,
      workspaceName: uniqueName(GRAFANA_WORKSPACE, "p", stableSuffix(["mlops-platform", "dev"])),
      sku: { name: "Standard" },
      identity: { type: "SystemAssigned" },
      properties: {
        apiKey: "Disabled",
        publicNetworkAccess: "Enabled",
        grafanaIntegrations: {
          azureMonitorWorkspaceIntegrations: [
            { azureMonitorWorkspaceResourceId: "p-workspace-id" },
          ],
        },
      },
    });
    expect(grafana.inputs.workspaceName).toMatch(/^p[0-9a-f]{8}$/);
    const grant = findResource(resources, "azure-native:authorization:RoleAssignment");
    expect(grant.name).toBe("p-grafana-reader");
    expect(grant.inputs).toEqual({
      principalId: "",
      principalType: "ServicePrincipal",
      roleDefinitionId: mockRoleDefinitionId(MONITORING_DATA_READER),
      scope: "p-workspace-id",
    });
    expect(await outputValue(prometheus.grafanaEndpoint)).toBe("");
    expectAllParented(resources, "p");
  });

  test("the endpoints come from what Azure reports", async () => {
    const { value: prometheus } = await recordResources(
      () => new ManagedPrometheus("p", { ...PROMETHEUS_ARGS, ruleGroups: [], grafana: true }),
      {
        state: (type, name, inputs) => {
          if (type === "azure-native:monitor:AzureMonitorWorkspace") {
            return {
              ...inputs,
              name,
              metrics: { prometheusQueryEndpoint: "https://query.example" },
            };
          }
          if (type === "azure-native:dashboard:Grafana") {
            return {
              ...inputs,
              name,
              identity: { type: "SystemAssigned", principalId: "grafana-principal" },
              properties: { ...(inputs.properties as Obj), endpoint: "https://grafana.example" },
            };
          }
          return undefined;
        },
      },
    );
    expect(await outputValue(prometheus.prometheusQueryEndpoint)).toBe("https://query.example");
    expect(await outputValue(prometheus.grafanaEndpoint)).toBe("https://grafana.example");
  });
});

// ---------------------------------------------------------------------------------------------
describe("EnvoyGateway", () => {
  const build = (controllerImage?: string) =>
    recordResources(() => {
      const provider = new k8s.Provider("aks", { kubeconfig: "{}" });
      return new EnvoyGateway("g", {
        gatewayClassName: "mlops",
        controllerReplicas: 2,
        controllerImage,
        provider,
      });
    });
  const CHART = "kubernetes:helm.sh/v4:Chart";

  test("the pinned OCI charts of one release", () => {
    expect(ENVOY_GATEWAY_CHART).toBe("oci://docker.io/envoyproxy/gateway-helm");
    expect(ENVOY_GATEWAY_CRDS_CHART).toBe("oci://docker.io/envoyproxy/gateway-crds-helm");
    expect(ENVOY_GATEWAY_VERSION).toMatch(/^v\d+\.\d+\.\d+$/);
  });

  test("the CRD chart: the Gateway API's standard channel and Envoy Gateway's own CRDs", async () => {
    const { resources } = await build();
    const crds = findResource(resources, CHART, "g-crds");
    expect(crds.inputs).toMatchObject({
      chart: ENVOY_GATEWAY_CRDS_CHART,
      version: ENVOY_GATEWAY_VERSION,
      values: {
        crds: {
          gatewayAPI: { enabled: true, channel: "standard" },
          envoyGateway: { enabled: true },
        },
      },
    });
  });

  test("the controller chart: in its labelled namespace, after the CRDs, with the given image", async () => {
    const { resources } = await build(
      "registry.example/envoyproxy/gateway@sha256:" + "e".repeat(64),
    );
    expect(findResource(resources, "kubernetes:core/v1:Namespace").inputs.metadata).toEqual({
      name: "envoy-gateway-system",
      labels: { "app.kubernetes.io/part-of": "mlops-platform" },
    });
    const chart = findResource(resources, CHART, "g-chart");
    expect(chart.inputs).toMatchObject({
      chart: ENVOY_GATEWAY_CHART,
      version: ENVOY_GATEWAY_VERSION,
      namespace: "envoy-gateway-system",
      values: controllerValues(2, "registry.example/envoyproxy/gateway@sha256:" + "e".repeat(64)),
    });
    expect(chart.inputs.values.global.images.envoyGateway.image).toMatch(/^registry\.example\//);
    expect(chart.dependsOn).toContain("g-crds");
  });

  test("the GatewayClass: Envoy Gateway's controller, waited for until Accepted", async () => {
    const { resources } = await build();
    const gatewayClass = findResource(
      resources,
      "kubernetes:gateway.networking.k8s.io/v1:GatewayClass",
    );
    expect(gatewayClass.inputs).toEqual({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "GatewayClass",
      metadata: {
        name: "mlops",
        labels: { "app.kubernetes.io/part-of": "mlops-platform" },
        annotations: {
          "pulumi.com/waitFor": "condition=Accepted",
          "pulumi.com/timeoutSeconds": "300",
        },
      },
      spec: { controllerName: "gateway.envoyproxy.io/gatewayclass-controller" },
    });
    expect(gatewayClass.dependsOn).toContain("g-chart");
  });

  test("every object goes to the given cluster, under the component", async () => {
    const { resources } = await build();
    const objects = resources.filter((r) => r.type.startsWith("kubernetes:"));
    expect(objects.map((o) => o.name).sort()).toEqual([
      "g-certgen",
      "g-certgen-account",
      "g-certgen-binding",
      "g-certgen-role",
      "g-chart",
      "g-class",
      "g-crds",
      "g-namespace",
    ]);
    for (const o of objects) {
      expect({ name: o.name, provider: o.provider?.split("::")[3] }).toEqual({
        name: o.name,
        provider: "aks",
      });
    }
    expectAllParented(
      resources.filter((r) => r.name !== "aks"),
      "g",
    );
  });
});

describe("ListenerCertificate", () => {
  const build = () =>
    recordResources(() => {
      const provider = new k8s.Provider("aks", { kubeconfig: "{}" });
      const namespace = new k8s.core.v1.Namespace("eg", {}, { provider });
      return new ListenerCertificate("t", {
        host: "mlops.example.com",
        secretName: "mlops-tls",
        gatewayNamespace: "ml",
        namespace,
        provider,
      });
    });

  test("a P-256 key and a year's server certificate for the host, renewed by the first up of its last 30 days", async () => {
    const { resources } = await build();
    expect(findResource(resources, "tls:index/privateKey:PrivateKey").inputs).toEqual({
      algorithm: "ECDSA",
      ecdsaCurve: "P256",
    });
    expect(findResource(resources, "tls:index/selfSignedCert:SelfSignedCert").inputs).toMatchObject(
      {
        dnsNames: ["mlops.example.com"],
        subject: { commonName: "mlops.example.com" },
        validityPeriodHours: 8760,
        earlyRenewalHours: 720,
        allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      },
    );
  });

  test("the TLS Secret in Envoy Gateway's namespace after it exists, and a grant to the app's Gateways for that Secret alone", async () => {
    const { resources } = await build();
    const secret = findResource(resources, "kubernetes:core/v1:Secret");
    expect(secret.inputs).toMatchObject({
      type: "kubernetes.io/tls",
      metadata: { name: "mlops-tls", namespace: "envoy-gateway-system" },
    });
    // The key and the certificate reach the engine as a secret (encrypted in the state).
    const data = secret.inputs.stringData;
    expect(data[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(data.value).toEqual({ "tls.crt": "mock certificate", "tls.key": "mock private key" });
    expect(secret.dependsOn).toContain("eg");
    const grant = findResource(
      resources,
      "kubernetes:gateway.networking.k8s.io/v1beta1:ReferenceGrant",
    );
    expect(grant.inputs.metadata.namespace).toBe("envoy-gateway-system");
    expect(grant.inputs.spec).toEqual({
      from: [{ group: "gateway.networking.k8s.io", kind: "Gateway", namespace: "ml" }],
      to: [{ group: "", kind: "Secret", name: "mlops-tls" }],
    });
    expect(grant.dependsOn).toContain("eg");
  });
});

describe("controllerValues", () => {
  const spread = (topologyKey: string) => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable: "ScheduleAnyway",
    labelSelector: { matchLabels: { "control-plane": "envoy-gateway" } },
  });
  const base = {
    // The CRDs come from their own chart, standard channel only.
    crds: { enabled: false },
    commonLabels: {
      "app.kubernetes.io/part-of": "mlops-platform",
      "app.kubernetes.io/component": "gateway-controller",
    },
    // helm.v4.Chart runs no hooks: the injector's webhook (a hook) never exists.
    topologyInjector: { enabled: false },
  };
  const controller = {
    requests: { cpu: "100m", memory: "256Mi" },
    limits: { cpu: "1", memory: "1024Mi" },
  };

  test("one replica, the chart's image: no spread, no disruption budget", () => {
    expect(controllerValues(1)).toEqual({
      ...base,
      deployment: { replicas: 1, envoyGateway: { resources: controller } },
    });
  });

  test("the proxies' image goes into the controller's EnvoyProxy defaults; the controller keeps the chart's", () => {
    expect(controllerValues(1, undefined, "proxy@sha256:def")).toEqual({
      ...base,
      global: { images: { envoyProxy: { image: "proxy@sha256:def" } } },
      deployment: { replicas: 1, envoyGateway: { resources: controller } },
    });
  });

  test("two replicas and an image: spread over zones and hosts, one down at a time", () => {
    expect(controllerValues(2, "img@sha256:abc")).toEqual({
      ...base,
      global: { images: { envoyGateway: { image: "img@sha256:abc" } } },
      deployment: {
        replicas: 2,
        envoyGateway: { resources: controller },
        pod: {
          topologySpreadConstraints: [
            spread("topology.kubernetes.io/zone"),
            spread("kubernetes.io/hostname"),
          ],
        },
      },
      podDisruptionBudget: { minAvailable: 0, maxUnavailable: 1 },
    });
  });
});

describe("gatewayImageProblem outside the gateway API", () => {
  test("an Ingress stack ignores ingress.gatewayImage, even from another registry", () => {
    expect(
      gatewayImageProblem(
        {
          environment: "prod",
          ingress: {
            api: "ingress",
            gatewayImage: "elsewhere.example/gw@sha256:" + "1".repeat(64),
          },
        } as never,
        "mlopsacr12345678.azurecr.io",
      ),
    ).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------
describe("names", () => {
  test.each([
    [STORAGE_ACCOUNT, "abc", 3, 24],
    [CONTAINER_REGISTRY, "abcde", 5, 50],
    [GRAFANA_WORKSPACE, "ab", 2, 23],
  ])("%o: the whole name must match, at both length bounds", (rule, shortest, min, max) => {
    expect(rule.minLength).toBe(min);
    expect(rule.maxLength).toBe(max);
    expect(checkName(rule, shortest)).toBe(shortest);
    expect(checkName(rule, "a".repeat(max))).toBe("a".repeat(max));
    expect(() => checkName(rule, shortest.slice(1))).toThrow(
      `${rule.what} name ${JSON.stringify(shortest.slice(1))} has ${min - 1} characters; Azure allows ${min} to ${max}`,
    );
    expect(() => checkName(rule, "a".repeat(max + 1))).toThrow(/Azure allows/);
    // A character outside the rule at the end, at the start, inside; capitals.
    for (const invalid of [
      `${shortest}-`,
      `-${shortest}`,
      `${shortest}_x`,
      shortest.toUpperCase(),
    ]) {
      expect(() => checkName(rule, invalid)).toThrow(
        `${rule.what} name ${JSON.stringify(invalid)}: only lowercase letters and digits are allowed`,
      );
    }
  });

  test("the Grafana rule says what it names", () => {
    expect(GRAFANA_WORKSPACE.what).toBe("Grafana workspace");
  });

  test.each([[[]], [[""]], [["", "project"]], [["subscription", ""]]])(
    "no suffix from %j",
    (parts) => {
      expect(() => stableSuffix(parts)).toThrow("every part must be non-empty");
    },
  );
});

// ---------------------------------------------------------------------------------------------
describe("ServiceImage", () => {
  const image = { build: true, repository: "mlops-inference" } as never;
  const dockerImage = (resources: RecordedResource[]) =>
    findResource(resources, "docker:index/image:Image");

  test("built for linux/amd64 from the repository root with service/Dockerfile", async () => {
    const { resources } = await recordResources(
      () => new ServiceImage("i", { image, registryServer: "acr.example", tag: "abc123" }),
    );
    const { build } = dockerImage(resources).inputs;
    expect(build).toEqual({
      context: path.resolve(__dirname, "..", "..", "..", ".."),
      dockerfile: path.resolve(__dirname, "..", "..", "..", "..", "service", "Dockerfile"),
      platform: "linux/amd64",
    });
    expect(fs.existsSync(build.dockerfile)).toBe(true);
    expectAllParented(resources, "i");
  });

  test("with a registry: pushed as <registry>/<repository>:<tag>, deployed by digest", async () => {
    const { resources, value } = await recordResources(
      () => new ServiceImage("i", { image, registryServer: "acr.example", tag: "abc123" }),
    );
    expect(dockerImage(resources).inputs).toMatchObject({
      imageName: "acr.example/mlops-inference:abc123",
      skipPush: false,
    });
    expect(await outputValue(value.ref)).toBe(
      `acr.example/mlops-inference@sha256:${"ab".repeat(32)}`,
    );
    expect(findResource(resources, "mlops:image:ServiceImage").registeredOutputs).toEqual(["ref"]);
  });

  test("its token has a module segment; the former token is an alias, so no stack replaces it", async () => {
    const { resources } = await recordResources(
      () => new ServiceImage("i", { image, registryServer: "acr.example", tag: "abc123" }),
    );
    expect(SERVICE_IMAGE_FORMER_TYPE).toBe("mlops:ServiceImage");
    const component = findResource(resources, "mlops:image:ServiceImage", "i");
    expect(component.aliases).toEqual([{ type: "mlops:ServiceImage" }]);
    // The engine derives the children's former URNs from their parent's aliases.
    expect(dockerImage(resources).parent).toBe("i");
  });

  test("keeps the aliases its caller gives", async () => {
    const { resources } = await recordResources(
      () =>
        new ServiceImage(
          "i",
          { image: { build: false, ref: "r:1" } as never },
          {
            aliases: [{ name: "old-image" }],
          },
        ),
    );
    expect(findResource(resources, "mlops:image:ServiceImage").aliases).toEqual([
      { name: "old-image" },
      { type: "mlops:ServiceImage" },
    ]);
  });

  test("without one: a local image, deployed by name", async () => {
    const { resources, value } = await recordResources(
      () => new ServiceImage("i", { image, tag: "abc123" }),
    );
    expect(dockerImage(resources).inputs).toMatchObject({
      imageName: "mlops-inference:abc123",
      skipPush: true,
    });
    expect(await outputValue(value.ref)).toBe("mlops-inference:abc123");
  });

  test("the tag: the given one, else GIT_SHA, else dev", async () => {
    const saved = process.env.GIT_SHA;
    try {
      process.env.GIT_SHA = "f00d";
      const fromSha = await recordResources(() => new ServiceImage("i", { image }));
      expect(await outputValue(fromSha.value.ref)).toBe("mlops-inference:f00d");
      const given = await recordResources(() => new ServiceImage("i", { image, tag: "t1" }));
      expect(await outputValue(given.value.ref)).toBe("mlops-inference:t1");
      delete process.env.GIT_SHA;
      const fallback = await recordResources(() => new ServiceImage("i", { image }));
      expect(await outputValue(fallback.value.ref)).toBe("mlops-inference:dev");
    } finally {
      if (saved === undefined) delete process.env.GIT_SHA;
      else process.env.GIT_SHA = saved;
    }
  });

  test("a pinned reference builds nothing", async () => {
    const ref = `acr.example/mlops-inference@sha256:${"cd".repeat(32)}`;
    const { resources, value } = await recordResources(
      () => new ServiceImage("i", { image: { build: false, ref } as never }),
    );
    expect(resources.filter((r) => r.type === "docker:index/image:Image")).toEqual([]);
    expect(await outputValue(value.ref)).toBe(ref);
  });
});

// ---------------------------------------------------------------------------------------------
describe("an explicit Azure provider (another subscription, other credentials)", () => {
  /** Builds the component under a component-level azure-native provider named `other`. */
  async function underProvider<T>(
    build: (opts: pulumi.ComponentResourceOptions) => T,
  ): Promise<Recording<T>> {
    return recordResources(() => {
      const other = new AzureProvider("other", { subscriptionId: MOCK_SUBSCRIPTION_ID });
      return build({ providers: [other] });
    });
  }
  const providerName = (ref: string | undefined) => ref?.split("::")[3];
  type Opts = pulumi.ComponentResourceOptions;

  test.each([
    ["Cluster", (opts: Opts) => new Cluster("c", CLUSTER_ARGS, opts)],
    ["Registry", (opts: Opts) => new Registry("r", REGISTRY_ARGS, opts)],
    ["ModelStore", (opts: Opts) => new ModelStore("m", MODEL_STORE_ARGS, opts)],
    ["MlWorkspace", (opts: Opts) => new MlWorkspace("w", ML_WORKSPACE_ARGS, opts)],
    [
      "ManagedPrometheus",
      (opts: Opts) => new ManagedPrometheus("p", { ...PROMETHEUS_ARGS, grafana: true }, opts),
    ],
  ])("%s: every Azure resource and every lookup goes through it", async (_component, build) => {
    const { resources, calls } = await underProvider<pulumi.ComponentResource>(build);
    const azure = resources.filter((r) => r.type.startsWith("azure-native:"));
    const lookups = calls.filter((c) => c.token.startsWith("azure-native:"));
    expect(azure.length).toBeGreaterThan(0);
    expect(lookups.length).toBeGreaterThan(0);
    for (const r of azure) {
      expect({ resource: r.name, provider: providerName(r.provider) }).toEqual({
        resource: r.name,
        provider: "other",
      });
    }
    for (const c of lookups) {
      expect({ call: c.token, provider: providerName(c.provider) }).toEqual({
        call: c.token,
        provider: "other",
      });
    }
  });
});
