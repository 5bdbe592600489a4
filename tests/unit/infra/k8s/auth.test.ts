/**
 * `mlops:auth`: who may score the models. What the chart renders for each mode (the
 * service's AUTH_* environment, the key volume, Envoy Gateway's SecurityPolicy and rate limit on
 * the route where the program installs it), and the key Secrets the program keeps in its state.
 * The config's rules for the section are tested with the config (tests/unit/infra/config-auth.test.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseConfig } from "../../../../infra/config";
import { KEY_NAMES } from "../../../../infra/k8s/app";
import { KEY_SECRETS, securityPolicySpec } from "../../../../infra/k8s/inference-chart";
import { synthManifests } from "../../../../infra/manifests";
import {
  expandConfigGroups,
  findResource,
  REPO_ROOT,
  runProgramWithOutputs,
  stackConfig,
  type StackName,
} from "../../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** How the engine's wire format marks a secret value (`{ [SIG_KEY]: SECRET_SIG, value }`). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const TENANT = "0d9c1e52-7a4b-4c39-9f0e-2b8a6d5e4f31";
const ENTRA = { mode: "entra", tenantId: TENANT, audience: "api://mlops-inference" };

function config(stack: StackName, overrides: Obj = {}) {
  return parseConfig({ ...stackConfig(stack), ...overrides });
}
function objects(stack: StackName, overrides: Obj = {}): Obj[] {
  return synthManifests({
    config: config(stack, overrides),
    instance: stack,
    image: "registry.example/mlops-inference@sha256:" + "a".repeat(64),
  }) as Obj[];
}
const of = (objs: Obj[], kind: string, name = "inference") =>
  objs.filter((o) => o.kind === kind && o.metadata.name === name);
const env = (objs: Obj[]) =>
  Object.fromEntries(
    (of(objs, "Deployment")[0].spec.template.spec.containers[0].env as Obj[]).map((e) => [
      e.name,
      e.value,
    ]),
  );

/** Both routes of the app: the Gateway checks HTTP and gRPC alike. */
const ROUTES = ["HTTPRoute", "GRPCRoute"].map((kind) => ({
  group: "gateway.networking.k8s.io",
  kind,
  name: "inference",
}));

describe("the chart: what the service and the Gateway check", () => {
  test("key: the service reads both key Secrets from a read-only volume", () => {
    const objs = objects("dev");
    expect(env(objs)).toMatchObject({ AUTH_MODE: "key", AUTH_KEYS_DIR: "/var/run/mlops/keys" });
    const spec = of(objs, "Deployment")[0].spec.template.spec;
    const keys = spec.volumes.find((v: Obj) => v.name === "inference-keys");
    expect(keys.projected.sources.map((s: Obj) => s.secret)).toEqual([
      { name: KEY_SECRETS.primary, optional: true },
      { name: KEY_SECRETS.secondary, optional: true },
    ]);
  });

  test.each(["dev", "prod"] as const)(
    "%s: a SecurityPolicy on the HTTPRoute and the GRPCRoute takes the same two keys from the Authorization header",
    (stack) => {
      const [policy] = of(objects(stack), "SecurityPolicy");
      expect(policy.apiVersion).toBe("gateway.envoyproxy.io/v1alpha1");
      expect(policy.spec).toEqual({
        targetRefs: ROUTES,
        apiKeyAuth: {
          credentialRefs: [
            { group: "", kind: "Secret", name: "inference-key-primary" },
            { group: "", kind: "Secret", name: "inference-key-secondary" },
          ],
          extractFrom: [{ headers: ["authorization"] }],
        },
      });
      // The route it targets is the one the chart renders.
      expect(of(objects(stack), "HTTPRoute")).toHaveLength(1);
    },
  );

  test.each([
    ["dev", {}, 100],
    ["prod", { rateLimitPerClient: 25 }, 25],
  ] as const)("%s: a per-client rate limit at the Gateway (%j)", (stack, ingress, requests) => {
    const base = stackConfig(stack).ingress as Obj;
    const [limit] = of(
      objects(stack, { ingress: { ...base, ...ingress } }),
      "BackendTrafficPolicy",
    );
    expect(limit.spec).toEqual({
      targetRefs: ROUTES,
      rateLimit: {
        type: "Local",
        local: {
          rules: [
            {
              clientSelectors: [{ sourceCIDR: { type: "Distinct", value: "0.0.0.0/0" } }],
              limit: { requests, unit: "Second" },
            },
          ],
        },
      },
    });
  });

  test("local: no Envoy Gateway policy (the cluster has no such CRDs); the service still checks keys", () => {
    const objs = objects("local");
    expect(objs.filter((o) => o.apiVersion === "gateway.envoyproxy.io/v1alpha1")).toEqual([]);
    expect(env(objs).AUTH_MODE).toBe("key");
  });

  test("entra: the service verifies tokens, the Gateway too, and requires the role", () => {
    const objs = objects("prod", { auth: { ...ENTRA, role: "Scorer" } });
    expect(env(objs)).toMatchObject({
      AUTH_MODE: "entra",
      AUTH_JWKS_URL: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      AUTH_ISSUER: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      AUTH_AUDIENCE: "api://mlops-inference",
      AUTH_ROLE: "Scorer",
    });
    expect(env(objs).AUTH_KEYS_DIR).toBeUndefined();
    const spec = of(objs, "Deployment")[0].spec.template.spec;
    expect(spec.volumes.map((v: Obj) => v.name)).not.toContain("inference-keys");
    const [policy] = of(objs, "SecurityPolicy");
    expect(policy.spec.jwt.providers).toEqual([
      {
        name: "entra",
        issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
        audiences: ["api://mlops-inference"],
        remoteJWKS: { uri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys` },
      },
    ]);
    expect(policy.spec.authorization).toEqual({
      defaultAction: "Deny",
      rules: [
        {
          name: "scoring-role",
          action: "Allow",
          principal: {
            jwt: {
              provider: "entra",
              claims: [{ name: "roles", valueType: "StringArray", values: ["Scorer"] }],
            },
          },
        },
      ],
    });
  });

  test("none (local only): the service is told so, and no SecurityPolicy exists", () => {
    expect(env(objects("local", { auth: { mode: "none" } })).AUTH_MODE).toBe("none");
    expect(securityPolicySpec({ mode: "none", role: "Score" })).toBeUndefined();
  });
});

describe("the program: the two keys live in the stack's state, never in a file", () => {
  test.each(["local", "prod"] as const)(
    "%s: one Secret per key, generated once (changes ignored), after the manifests, secret in the outputs",
    async (stack) => {
      const { resources, outputs } = await runProgramWithOutputs(stack);
      const keys: string[] = [];
      for (const keyName of KEY_NAMES) {
        const secret = findResource(resources, "kubernetes:core/v1:Secret", `mlops-key-${keyName}`);
        expect(secret.inputs.metadata).toMatchObject({
          name: `inference-key-${keyName}`,
          namespace: "mlops",
        });
        // The engine receives the data as a secret (the SDK marks a Secret's data so): encrypted
        // in the state, "[secret]" in every preview and log.
        expect(secret.inputs.data[SIG_KEY]).toBe(SECRET_SIG);
        const data = secret.inputs.data.value;
        expect(Object.keys(data)).toEqual([keyName]);
        const key = Buffer.from(data[keyName], "base64").toString("utf8");
        expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
        keys.push(key);
        expect(secret.ignoreChanges).toEqual(["data", "stringData"]);
        expect(secret.dependsOn).toContain("mlops-manifests");
        expect(secret.parent).toBe("mlops");
      }
      expect(keys[0]).not.toBe(keys[1]);
      expect(outputs.inferenceKeys).toEqual({ primary: keys[0], secondary: keys[1] });
      expect(outputs.authMode).toBe("key");
      // Not in the manifests the ConfigGroup holds (its inputs are not secret).
      const manifests = JSON.stringify(
        findResource(resources, "kubernetes:yaml/v2:ConfigGroup").inputs,
      );
      for (const key of keys) expect(manifests).not.toContain(key);
      // The app's only Secrets are the two keys (the Azure listener's certificate is another
      // component's).
      expect(
        expandConfigGroups(resources)
          .filter((r) => r.inputs.kind === "Secret" && r.parent === "mlops")
          .map((r) => r.name)
          .sort(),
      ).toEqual(["mlops-key-primary", "mlops-key-secondary"]);
    },
  );

  test("entra: no key Secret, no keys output", async () => {
    const { resources, outputs } = await runProgramWithOutputs("dev", { auth: ENTRA });
    expect(
      resources.filter((r) => r.type === "kubernetes:core/v1:Secret" && r.parent === "mlops"),
    ).toEqual([]);
    expect(outputs.inferenceKeys).toEqual({});
    expect(outputs.authMode).toBe("entra");
  });

  test("no stack file holds a key or the auth secrets in clear text", () => {
    for (const file of fs.readdirSync(REPO_ROOT).filter((f) => /^Pulumi\..+\.yaml$/.test(f))) {
      const text = fs.readFileSync(path.join(REPO_ROOT, file), "utf8");
      expect([file, /inference-key|primary|secondary/.test(text)]).toEqual([file, false]);
    }
  });
});
