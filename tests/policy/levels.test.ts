/**
 * Which policies block a deployment (`mandatory`) and which only warn (`advisory`), per stack.
 *
 * The table is the contract, written out by hand: a policy's own `enforcementLevel`
 * (policy/kubernetes.ts, policy/azure.ts), overridden by `policy/config/<stack>.json` (generated
 * from STACK_ENFORCEMENT in policy/config.ts), reconciled the way the engine does it
 * (`resolveConfig` of the harness). Downgrading a policy in any of those places fails here.
 */
import type { EnforcementLevel } from "@pulumi/policy";
import { ENVIRONMENTS, type Environment } from "../../policy/config";
import { policies } from "../../policy/policies";
import { registry, deployment, edit } from "./fixtures";
import { loadPackConfig, resolveConfig, runPack } from "./harness";

const M = "mandatory";
const A = "advisory";

/** policy -> [local, dev, prod] */
const LEVELS: Readonly<
  Record<string, readonly [EnforcementLevel, EnforcementLevel, EnforcementLevel]>
> = {
  "k8s-container-resources": [M, M, M],
  "k8s-container-probes": [M, M, M],
  "k8s-run-as-non-root": [M, M, M],
  "k8s-no-privilege-escalation": [M, M, M],
  "k8s-read-only-root-filesystem": [M, M, M],
  "k8s-drop-all-capabilities": [M, M, M],
  "k8s-no-privileged-containers": [M, M, M],
  "k8s-no-host-namespaces": [M, M, M],
  "k8s-no-host-path-volumes": [M, M, M],
  "k8s-image-pinned": [M, M, M],
  "k8s-image-digest": [M, M, M],
  "k8s-no-load-balancer-service": [M, M, M],
  "k8s-no-default-namespace": [M, M, M],
  "k8s-ingress-tls": [M, M, M],
  "k8s-no-retired-ingress-annotations": [M, M, M],
  "k8s-httproute-same-namespace": [M, M, M],
  "k8s-gateway-https": [M, M, M],
  "k8s-httproute-backends": [M, M, M],
  "k8s-recommended-labels": [A, A, M],
  "k8s-training-on-training-pool": [M, M, M],
  "k8s-training-taint-reserved": [M, M, M],
  "k8s-prod-topology-spread": [M, M, M],
  "k8s-prod-authenticated-inference": [M, M, M],
  "k8s-prod-min-replicas": [M, M, M],
  "k8s-prod-pdb-coverage": [M, M, M],
  "azure-acr-admin-user-disabled": [M, M, M],
  "azure-aks-local-accounts-disabled": [M, M, M],
  "azure-aks-azure-rbac": [M, M, M],
  "azure-aks-system-pool-never-zero": [M, M, M],
  "azure-aks-training-pool": [M, M, M],
  "azure-aks-prod-zones-and-tier": [M, M, M],
  "azure-storage-no-public-blob-access": [M, M, M],
  "azure-storage-min-tls": [M, M, M],
  "azure-required-tags": [M, M, M],
  "azure-no-public-ip": [M, M, M],
};

const levelIn = (env: Environment, name: string): EnforcementLevel => {
  const policy = policies.find((p) => p.name === name);
  if (policy === undefined) throw new Error(`no policy named ${name}`);
  return resolveConfig(policy, loadPackConfig(env)).enforcementLevel;
};

describe("enforcement levels per stack", () => {
  it("the table names exactly the pack's policies", () => {
    expect(policies.map((p) => p.name).sort()).toEqual(Object.keys(LEVELS).sort());
  });

  it.each(ENVIRONMENTS.map((env, column) => [env, column] as const))(
    "%s: every policy has exactly the level of the table",
    (env, column) => {
      const actual = Object.fromEntries(policies.map((p) => [p.name, levelIn(env, p.name)]));
      const expected = Object.fromEntries(
        Object.entries(LEVELS).map(([name, levels]) => [name, levels[column]]),
      );
      expect(actual).toEqual(expected);
    },
  );

  it("only k8s-recommended-labels is advisory anywhere, and only outside prod", () => {
    const advisory = ENVIRONMENTS.flatMap((env) =>
      policies.filter((p) => levelIn(env, p.name) === A).map((p) => `${env}:${p.name}`),
    );
    expect(advisory).toEqual(["local:k8s-recommended-labels", "dev:k8s-recommended-labels"]);
  });

  it("no stack file sets a level for all policies at once", () => {
    for (const env of ENVIRONMENTS) expect({ env, all: loadPackConfig(env).all }).toEqual({ env });
  });

  // End to end through the pack run (config file included): the two guard rails a mutation
  // spot-check once downgraded without any test noticing.
  it.each(ENVIRONMENTS.map((env) => [env]))(
    "%s: an ACR admin user and a writable root filesystem are mandatory violations",
    async (env) => {
      const writable = edit(
        deployment(),
        "spec.template.spec.containers.0.securityContext.readOnlyRootFilesystem",
        false,
      );
      const admin = edit(registry(), "adminUserEnabled", true);
      const diagnostics = await runPack(policies, [admin, writable], env);
      const of = (name: string) =>
        diagnostics
          .filter((d) => d.policy === name)
          .map(({ enforcementLevel, resource }) => ({ enforcementLevel, resource }));
      expect(of("azure-acr-admin-user-disabled")).toEqual([
        { enforcementLevel: M, resource: `${admin.type}::${admin.name}` },
      ]);
      expect(of("k8s-read-only-root-filesystem")).toEqual([
        { enforcementLevel: M, resource: `${writable.type}::${writable.name}` },
      ]);
    },
  );
});
