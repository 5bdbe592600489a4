import * as fs from "fs";
import * as path from "path";
import {
  checkSetting,
  DEFAULT_SETTINGS,
  ENVIRONMENTS,
  packConfigFile,
  SettingName,
  settingsFor,
  SETTINGS_SCHEMA,
} from "../../policy/config";
import { policies } from "../../policy/policies";
import * as infra from "../../infra/config";
import * as trainingPool from "../../infra/k8s/training-pool";
import { loadPackConfig, POLICY_DIR, resolveConfig } from "./harness";

describe("policy/config/<stack>.json", () => {
  it.each(ENVIRONMENTS.map((e) => [e]))(
    "%s.json is what `npm run config:write -w policy` writes",
    (env) => {
      expect(loadPackConfig(env)).toEqual(packConfigFile(env, policies));
    },
  );

  it.each(ENVIRONMENTS.map((e) => [e]))("every value of %s.json fits its schema", (env) => {
    for (const [policyName, entry] of Object.entries(loadPackConfig(env))) {
      const policy = policies.find((p) => p.name === policyName);
      expect(policy).toBeDefined();
      const { enforcementLevel, ...properties } = entry;
      if (enforcementLevel !== undefined) {
        expect(["mandatory", "advisory"]).toContain(enforcementLevel);
      }
      for (const [key, value] of Object.entries(properties)) {
        expect(Object.keys(policy!.configSchema!.properties)).toContain(key);
        expect(() => checkSetting(key as SettingName, value)).not.toThrow();
      }
    }
  });

  it("sets the environment of its own stack and requires digests in prod only", () => {
    for (const env of ENVIRONMENTS) {
      const file = loadPackConfig(env);
      expect(file["k8s-ingress-tls"].environment).toBe(env);
      expect(file["k8s-image-digest"].requireDigest).toBe(env === "prod");
      expect(file["k8s-no-load-balancer-service"].allowLoadBalancer).toBe(false);
      expect(file["azure-required-tags"].requiredTags).toEqual(["environment", "owner"]);
      expect(file["k8s-prod-min-replicas"].minProdReplicas).toBe(2);
    }
  });

  it("makes the recommended labels mandatory in prod only", () => {
    const labels = policies.find((p) => p.name === "k8s-recommended-labels")!;
    const level = (env: (typeof ENVIRONMENTS)[number]) =>
      resolveConfig(labels, loadPackConfig(env)).enforcementLevel;
    expect([level("local"), level("dev"), level("prod")]).toEqual([
      "advisory",
      "advisory",
      "mandatory",
    ]);
  });

  it("holds only the three stack files", () => {
    expect(fs.readdirSync(path.join(POLICY_DIR, "config")).sort()).toEqual([
      "dev.json",
      "local.json",
      "prod.json",
    ]);
  });
});

describe("policies", () => {
  it("have unique names, a description and an explicit enforcement level", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const p of policies) {
      expect(p.description.length).toBeGreaterThan(10);
      expect(["mandatory", "advisory"]).toContain(p.enforcementLevel);
    }
  });

  it("declare schema defaults equal to the strict defaults", () => {
    for (const p of policies) {
      for (const [key, schema] of Object.entries(p.configSchema?.properties ?? {})) {
        expect(schema).toEqual({
          ...SETTINGS_SCHEMA[key as SettingName],
          default: DEFAULT_SETTINGS[key as SettingName],
        });
      }
    }
  });

  it("are all documented in policy/README.md", () => {
    const readme = fs.readFileSync(path.join(POLICY_DIR, "README.md"), "utf8");
    for (const p of policies) expect(readme).toContain(`\`${p.name}\``);
  });
});

describe("settings", () => {
  it("default to the strict (prod) values when no config file is given", () => {
    const s = settingsFor("environment", "requireDigest", "minProdReplicas");
    expect(s.read({ getConfig: <T extends object>() => ({}) as T })).toEqual({
      environment: "prod",
      requireDigest: true,
      minProdReplicas: 2,
    });
  });

  it("reject a value of the wrong type, naming the setting", () => {
    const s = settingsFor("minProdReplicas");
    expect(() =>
      s.read({ getConfig: <T extends object>() => ({ minProdReplicas: "2" }) as T }),
    ).toThrow('policy setting minProdReplicas: got "2"; expected a whole number of at least 1');
    expect(() => checkSetting("environment", "staging")).toThrow(
      'policy setting environment: got "staging"; expected one of local, dev, prod',
    );
  });

  it("match the platform's contracts (infra/k8s/training-pool.ts, infra/config.ts)", () => {
    expect(DEFAULT_SETTINGS.trainingPoolLabelKey).toBe(trainingPool.TRAINING_TAINT.key);
    expect(DEFAULT_SETTINGS.trainingPoolLabelValue).toBe(trainingPool.TRAINING_TAINT.value);
    expect(DEFAULT_SETTINGS.trainingTaintEffect).toBe(trainingPool.TRAINING_TAINT.effect);
    expect(DEFAULT_SETTINGS.trainingPoolLabelKey).toBe(trainingPool.TRAINING_POOL_LABEL_KEY);
    expect(DEFAULT_SETTINGS.trainingPoolLabelValue).toBe(trainingPool.TRAINING_POOL_LABEL_VALUE);
    expect([...ENVIRONMENTS]).toEqual([...infra.ENVIRONMENTS]);
  });
});
