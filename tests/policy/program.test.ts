/**
 * The program obeys its own policies: the real program, run under mocks for each stack, is
 * checked by every policy of the pack with that stack's `policy/config/<stack>.json`, as
 * `pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json` would.
 * Then config values the config layer accepts but a policy forbids are flipped one at a time.
 */
import type { Environment } from "../../policy/config";
import { policies } from "../../policy/policies";
import {
  expandConfigGroups,
  MOCK_REGISTRY_SERVER,
  RecordedResource,
  runProgram,
  stackConfig,
} from "../support/program";
import { Diagnostic, runPack, StubResource } from "./harness";

const STACKS: Environment[] = ["local", "dev", "prod"];

const asStub = (r: RecordedResource): StubResource => ({
  type: r.type,
  name: r.name,
  props: r.inputs,
});

/** Every diagnostic of the pack over the program of `stack` (with `overrides`). */
async function check(
  stack: Environment,
  overrides: Record<string, unknown> = {},
): Promise<{ types: string[]; diagnostics: Diagnostic[] }> {
  const resources = expandConfigGroups(await runProgram(stack, overrides)).map(asStub);
  return {
    types: resources.map((r) => r.type),
    diagnostics: await runPack(policies, resources, stack),
  };
}

const mandatory = (ds: Diagnostic[]) => ds.filter((d) => d.enforcementLevel === "mandatory");

/** A stack file's `mlops:<key>` object with some of its values replaced. */
function withValues(stack: Environment, key: string, values: Record<string, unknown>) {
  const current = stackConfig(stack)[key] as Record<string, unknown> | undefined;
  return { [key]: { ...current, ...values } };
}

describe.each(STACKS.map((s) => [s]))("the %s stack", (stack) => {
  it("has no mandatory violation, over every resource and the stack policies", async () => {
    const { types, diagnostics } = await check(stack);
    // The checks ran on the real objects: the inference Deployment, the training CronJob.
    expect(types).toEqual(
      expect.arrayContaining(["kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:CronJob"]),
    );
    if (stack !== "local") {
      expect(types).toEqual(
        expect.arrayContaining([
          "azure-native:containerservice:ManagedCluster",
          "azure-native:containerservice:AgentPool",
        ]),
      );
    }
    expect(mandatory(diagnostics)).toEqual([]);
  });
});

/** `policy | resource | message` of each mandatory diagnostic. */
const keys = (ds: Diagnostic[]) =>
  mandatory(ds).map((d) => `${d.policy} | ${d.resource ?? "stack"} | ${d.message}`);

/** The mandatory diagnostics `overrides` add to the stack's own (whatever those are). */
const baselines = new Map<Environment, ReturnType<typeof check>>();
async function added(stack: Environment, overrides: Record<string, unknown>): Promise<string[]> {
  if (!baselines.has(stack)) baselines.set(stack, check(stack));
  const before = new Set(keys((await baselines.get(stack)!).diagnostics));
  return keys((await check(stack, overrides)).diagnostics).filter((k) => !before.has(k));
}

const LOAD_BALANCER =
  "k8s-no-load-balancer-service | kubernetes:core/v1:Service::inference | Service is of type " +
  "LoadBalancer, which opens a public IP beside the Gateway: use ClusterIP (or set " +
  "allowLoadBalancer for this stack)";

describe("config values the config layer accepts but a policy forbids", () => {
  it("local: app.serviceType LoadBalancer adds exactly k8s-no-load-balancer-service", async () => {
    const overrides = withValues("local", "app", { serviceType: "LoadBalancer" });
    expect(await added("local", overrides)).toEqual([LOAD_BALANCER]);
  });

  it("prod: app.serviceType LoadBalancer adds exactly k8s-no-load-balancer-service", async () => {
    const overrides = withValues("prod", "app", { serviceType: "LoadBalancer" });
    expect(await added("prod", overrides)).toEqual([LOAD_BALANCER]);
  });

  it('dev: app.namespace "default" adds only k8s-no-default-namespace, on every app object', async () => {
    const found = await added("dev", withValues("dev", "app", { namespace: "default" }));
    const message = 'is in the reserved namespace "default": use the app\'s own namespace';
    expect(found).toEqual(
      expect.arrayContaining([
        `k8s-no-default-namespace | kubernetes:apps/v1:Deployment::inference | ${message}`,
        `k8s-no-default-namespace | kubernetes:core/v1:Service::inference | ${message}`,
        `k8s-no-default-namespace | kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::inference | ${message}`,
      ]),
    );
    for (const k of found) {
      expect(k).toMatch(
        /^k8s-no-default-namespace \| kubernetes:\S+ \| is in the reserved namespace "default"/,
      );
    }
  });

  it("prod without zones or on the Free tier adds exactly azure-aks-prod-zones-and-tier", async () => {
    const policy = "azure-aks-prod-zones-and-tier";
    const cluster = "azure-native:containerservice:ManagedCluster::mlops-cluster-aks";
    const pool = "azure-native:containerservice:AgentPool::mlops-cluster-training-pool";
    expect(await added("prod", withValues("prod", "azure", { availabilityZones: [] }))).toEqual([
      `${policy} | ${cluster} | agentPoolProfiles[0] "system" has no availability zones: a zone outage takes all its nodes`,
      `${policy} | ${pool} | agent pool "training" has no availability zones: a zone outage takes all its nodes`,
    ]);
    expect(await added("prod", withValues("prod", "azure", { tier: "Free" }))).toEqual([
      `${policy} | ${cluster} | sku.tier is "Free": prod needs an API server SLA (Standard or Premium)`,
    ]);
  });

  it("dev with azure.mlWorkspace (the optional Azure ML branch) adds no violation", async () => {
    const overrides = withValues("dev", "azure", { mlWorkspace: true });
    const { types } = await check("dev", overrides);
    expect(types).toContain("azure-native:machinelearningservices:Workspace");
    expect(await added("dev", overrides)).toEqual([]);
  });
});

describe("values the config layer rejects before any policy runs", () => {
  it("prod app.replicas 1", async () => {
    await expect(runProgram("prod", withValues("prod", "app", { replicas: 1 }))).rejects.toThrow(
      "mlops:app.replicas: got 1; prod needs at least 2 replicas",
    );
  });

  it("prod image by tag", async () => {
    await expect(
      runProgram("prod", { image: { build: false, ref: "mlops-inference:0.1.0" } }),
    ).rejects.toThrow(
      'mlops:image.ref: got "mlops-inference:0.1.0"; prod deploys by digest: use <repo>@sha256:<64 hex>',
    );
  });
});

describe("every release strategy obeys the pack in prod", () => {
  // Digests in the shared registry, as a promotion would write them.
  const digest = (c: string) => `${MOCK_REGISTRY_SERVER}/mlops-inference@sha256:${c.repeat(64)}`;
  it.each([
    ["canary", { strategy: "canary", canary: { image: digest("c"), weight: 10 } }],
    ["blueGreen", { strategy: "blueGreen", active: "green", green: { image: digest("d") } }],
  ])(
    "%s: no mandatory violation; a PDB and HPA floor cover every Deployment",
    async (_name, release) => {
      const { types, diagnostics } = await check("prod", { release });
      expect(types.filter((t) => t === "kubernetes:apps/v1:Deployment")).toHaveLength(2);
      expect(types.filter((t) => t === "kubernetes:policy/v1:PodDisruptionBudget")).toHaveLength(2);
      expect(mandatory(diagnostics)).toEqual([]);
    },
  );
});
