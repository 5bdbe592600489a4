import { policies } from "../../policy/policies";
import {
  cluster,
  deployment,
  edit,
  edits,
  publicIp,
  registry,
  storageAccount,
  systemProfile,
  trainingPool,
} from "./fixtures";
import { RunOptions, StubResource, validateResource } from "./harness";
import { resourcePolicy } from "./policies";

const check = (name: string, r: StubResource, options: RunOptions = { stack: "prod" }) =>
  validateResource(resourcePolicy(name), r, options);

const violations = async (name: string, r: StubResource) => (await check(name, r)).violations;

const compliant = [registry(), cluster(), trainingPool(), storageAccount(), publicIp()];

describe("compliant Azure resources", () => {
  const azurePolicies = policies.filter((p) => p.name.startsWith("azure-"));

  it.each(azurePolicies.map((p) => [p.name]))("%s reports nothing", async (name) => {
    for (const r of compliant) {
      expect({ r: r.type, v: await violations(name, r) }).toEqual({ r: r.type, v: [] });
    }
  });
});

describe("azure-acr-admin-user-disabled", () => {
  it("flags adminUserEnabled", async () => {
    expect(
      await violations("azure-acr-admin-user-disabled", edit(registry(), "adminUserEnabled", true)),
    ).toEqual(["adminUserEnabled is true: the shared admin credentials bypass Entra ID and RBAC"]);
  });
});

describe("AKS access", () => {
  it("azure-aks-local-accounts-disabled", async () => {
    const r = edit(cluster(), "disableLocalAccounts", undefined);
    expect(await violations("azure-aks-local-accounts-disabled", r)).toEqual([
      "disableLocalAccounts is not true: the local admin kubeconfig bypasses Entra ID",
    ]);
  });

  it("azure-aks-azure-rbac", async () => {
    const r = edit(cluster(), "aadProfile.enableAzureRBAC", false);
    expect(await violations("azure-aks-azure-rbac", r)).toEqual([
      "aadProfile.enableAzureRBAC is not true: Kubernetes access must go through Azure RBAC",
    ]);
  });
});

describe("azure-aks-system-pool-never-zero", () => {
  it("flags an autoscaling System pool of minCount 0", async () => {
    const r = edit(cluster(), "agentPoolProfiles.0.minCount", 0);
    expect(await violations("azure-aks-system-pool-never-zero", r)).toEqual([
      'System agentPoolProfiles[0] "system" has minCount 0: it runs the cluster add-ons, keep at least 1 node',
    ]);
  });

  it("checks count when the System pool does not autoscale", async () => {
    const r = edits(cluster(), {
      "agentPoolProfiles.0.enableAutoScaling": false,
      "agentPoolProfiles.0.count": 0,
    });
    expect(await violations("azure-aks-system-pool-never-zero", r)).toEqual([
      'System agentPoolProfiles[0] "system" has count 0: it runs the cluster add-ons, keep at least 1 node',
    ]);
  });

  it("requires a System pool among the inline profiles", async () => {
    const r = edit(cluster(), "agentPoolProfiles", [{ ...systemProfile(), mode: "User" }]);
    expect(await violations("azure-aks-system-pool-never-zero", r)).toEqual([
      'agentPoolProfiles has no pool of mode "System"',
    ]);
  });

  it("flags a System-mode AgentPool resource at 0 and skips User pools", async () => {
    const system = edits(trainingPool(), { mode: "System", agentPoolName: "system2" });
    expect(await violations("azure-aks-system-pool-never-zero", system)).toEqual([
      'System agent pool "system2" has minCount 0: it runs the cluster add-ons, keep at least 1 node',
    ]);
    expect(await check("azure-aks-system-pool-never-zero", trainingPool())).toEqual({
      violations: [],
      notApplicable: "not a System-mode pool",
    });
  });
});

describe("azure-aks-training-pool", () => {
  it("requires User mode, autoscaling from 0, the taint and the label", async () => {
    const r = edits(trainingPool(), {
      mode: undefined,
      enableAutoScaling: false,
      minCount: 1,
      nodeTaints: [],
      nodeLabels: undefined,
    });
    expect(await violations("azure-aks-training-pool", r)).toEqual([
      'agent pool "training": mode is not "User"',
      'agent pool "training": enableAutoScaling is not true, so it cannot scale to zero',
      'agent pool "training": minCount is 1; the training pool must scale to 0 when idle',
      'agent pool "training": nodeTaints lacks "mlops-platform/pool=training:NoSchedule", so any pod could keep a node up',
      'agent pool "training": nodeLabels lacks mlops-platform/pool: training, so training pods cannot select it',
    ]);
  });

  it("says when minCount is not set", async () => {
    const r = edit(trainingPool(), "minCount", undefined);
    expect(await violations("azure-aks-training-pool", r)).toEqual([
      'agent pool "training": minCount is not set; the training pool must scale to 0 when idle',
    ]);
  });

  it("applies to inline User pools of the cluster too", async () => {
    const r = edit(cluster(), "agentPoolProfiles.1", {
      ...(trainingPool().props as Record<string, unknown>),
      name: "training",
      minCount: 2,
    });
    expect(await violations("azure-aks-training-pool", r)).toEqual([
      'agentPoolProfiles[1] "training": minCount is 2; the training pool must scale to 0 when idle',
    ]);
  });

  it("follows the configured taint", async () => {
    const options: RunOptions = { stack: "dev", settings: { trainingTaintEffect: "NoExecute" } };
    expect((await check("azure-aks-training-pool", trainingPool(), options)).violations).toEqual([
      'agent pool "training": nodeTaints lacks "mlops-platform/pool=training:NoExecute", so any pod could keep a node up',
    ]);
  });
});

describe("storage accounts", () => {
  it("azure-storage-no-public-blob-access", async () => {
    const r = edit(storageAccount(), "allowBlobPublicAccess", undefined);
    expect(await violations("azure-storage-no-public-blob-access", r)).toEqual([
      "allowBlobPublicAccess is not false: containers could be made publicly readable",
    ]);
  });

  it("azure-storage-min-tls", async () => {
    expect(
      await violations(
        "azure-storage-min-tls",
        edit(storageAccount(), "minimumTlsVersion", "TLS1_0"),
      ),
    ).toEqual(['minimumTlsVersion is "TLS1_0": use "TLS1_2"']);
    expect(
      await violations(
        "azure-storage-min-tls",
        edit(storageAccount(), "minimumTlsVersion", undefined),
      ),
    ).toEqual(['minimumTlsVersion is not set: use "TLS1_2"']);
  });
});

describe("azure-aks-prod-zones-and-tier", () => {
  const name = "azure-aks-prod-zones-and-tier";

  it("flags a Free cluster and pools without zones, inline or separate", async () => {
    const free = edit(cluster(), "sku", undefined);
    expect(await violations(name, free)).toEqual([
      'sku.tier is "Free": prod needs an API server SLA (Standard or Premium)',
    ]);
    const noZones = edit(cluster(), "agentPoolProfiles", [
      { ...systemProfile(), availabilityZones: undefined },
    ]);
    expect(await violations(name, noZones)).toEqual([
      'agentPoolProfiles[0] "system" has no availability zones: a zone outage takes all its nodes',
    ]);
    const oneZone = edit(trainingPool(), "availabilityZones", ["2"]);
    expect(await violations(name, oneZone)).toEqual([
      'agent pool "training" has only zone "2": a zone outage takes all its nodes',
    ]);
  });

  it("applies in prod only", async () => {
    const free = edit(cluster(), "sku", { name: "Base", tier: "Free" });
    for (const stack of ["dev", "local"] as const) {
      expect(await check(name, free, { stack })).toEqual({
        violations: [],
        notApplicable: "zones and the SLA are required in prod only",
      });
    }
  });
});

describe("azure-required-tags", () => {
  it("names the missing or empty tags", async () => {
    const r = edit(registry(), "tags", { environment: "prod", owner: "" });
    expect(await violations("azure-required-tags", r)).toEqual(["tags lack owner"]);
    const none = edit(storageAccount(), "tags", undefined);
    expect(await violations("azure-required-tags", none)).toEqual([
      "tags lack environment and owner",
    ]);
  });

  it("checks every taggable type and nothing else", async () => {
    const rg: StubResource = {
      type: "azure-native:resources:ResourceGroup",
      name: "rg",
      props: {},
    };
    expect(await violations("azure-required-tags", rg)).toEqual([
      "tags lack environment and owner",
    ]);
    const role: StubResource = {
      type: "azure-native:authorization:RoleAssignment",
      name: "acr-pull",
      props: {},
    };
    expect(await violations("azure-required-tags", role)).toEqual([]);
    expect(await violations("azure-required-tags", deployment())).toEqual([]);
  });

  it("knows the types the program registers under their azure-native v3 names", async () => {
    // Application Insights is `applicationinsights:Component` (there is no `insights:Component`).
    for (const type of [
      "azure-native:applicationinsights:Component",
      "azure-native:operationalinsights:Workspace",
    ]) {
      const untagged: StubResource = { type, name: "x", props: {} };
      expect({ type, v: await violations("azure-required-tags", untagged) }).toEqual({
        type,
        v: ["tags lack environment and owner"],
      });
    }
  });

  it("skips tags that are not known yet", async () => {
    const r = edit(registry(), "tags", "computed");
    expect(await check("azure-required-tags", r)).toEqual({
      violations: [],
      notApplicable: "tags not known yet",
    });
  });
});

describe("azure-no-public-ip", () => {
  it("allows only the ingress's public IP", async () => {
    const r = edit(publicIp(), "tags.role", undefined);
    expect(await violations("azure-no-public-ip", r)).toEqual([
      "a public IP address is only allowed for the ingress (tag role: ingress)",
    ]);
  });
});
