/**
 * infra/config.ts beyond its documented error table (config-errors.ts): the boundaries of the
 * rules that compare two keys (equal is allowed), the prod digest rule for every image key,
 * values given as text (`pulumi config set` stores text), the defaults that depend on another
 * key, the key and value an error names, and loadConfig reading the stack's `mlops` namespace.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  ConfigError,
  defaultTrainingMaxAgeHours,
  loadConfig,
  parseConfig,
} from "../../../infra/config";
import { DIGEST, local, prod } from "../../support/config-errors";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const dev = { environment: "dev", target: "azure", image: { build: true } };
const ACTION_GROUP =
  "/subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/ops/providers/microsoft.insights/actionGroups/oncall";
const TAG = "registry.example/mlops-inference:0.2.0";
const error = (raw: Obj): ConfigError => {
  try {
    parseConfig(raw);
  } catch (e) {
    return e as ConfigError;
  }
  throw new Error("parseConfig accepted it");
};

describe("rules that compare two keys: equal is allowed, one under is not", () => {
  test.each<[string, Obj]>([
    ["HPA ceiling = floor", { ...local, app: { replicas: 4, autoscaling: { maxReplicas: 4 } } }],
    [
      "CPU limit = request",
      { ...local, app: { resources: { cpuRequestMillis: 700, cpuLimitMillis: 700 } } },
    ],
    [
      "memory limit = request",
      { ...local, app: { resources: { memoryRequestMib: 768, memoryLimitMib: 768 } } },
    ],
    ["prod with 2 replicas", { ...prod, app: { replicas: 2 } }],
    ["system pool max = min", { ...dev, azure: { systemPool: { minCount: 3, maxCount: 3 } } }],
    ["training pool max = 1", { ...dev, azure: { trainingPool: { maxCount: 1 } } }],
  ])("%s", (_name, raw) => {
    expect(() => parseConfig(raw)).not.toThrow();
  });

  test.each<[string, Obj, string]>([
    [
      "memory limit under request",
      { ...local, app: { resources: { memoryRequestMib: 768, memoryLimitMib: 767 } } },
      "mlops:app.resources.memoryLimitMib: got 767; must be at least app.resources.memoryRequestMib (768)",
    ],
    [
      // The limit is the default (512): the message names the value in effect.
      "memory request over the default limit",
      { ...local, app: { resources: { memoryRequestMib: 1024 } } },
      "mlops:app.resources.memoryLimitMib: got 512; must be at least app.resources.memoryRequestMib (1024)",
    ],
    [
      "HPA ceiling one under the floor",
      { ...local, app: { replicas: 4, autoscaling: { maxReplicas: 3 } } },
      "mlops:app.autoscaling.maxReplicas: got 3; must be at least app.replicas (4)",
    ],
    [
      "system pool max under min",
      { ...dev, azure: { systemPool: { minCount: 3, maxCount: 2 } } },
      "mlops:azure.systemPool.maxCount: got 2; must be at least azure.systemPool.minCount (3)",
    ],
    [
      "system pool min over the default max",
      { ...dev, azure: { systemPool: { minCount: 5 } } },
      "mlops:azure.systemPool.maxCount: got 4; must be at least azure.systemPool.minCount (5)",
    ],
  ])("%s", (_name, raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });
});

describe("prod deploys every image by digest", () => {
  const canary = { strategy: "canary", canary: { image: TAG, weight: 10 } };
  test.each<[string, Obj]>([
    ["release.canary.image", { release: canary }],
    [
      "release.blue.image",
      { release: { strategy: "blueGreen", active: "green", blue: { image: TAG } } },
    ],
    [
      "release.green.image",
      { release: { strategy: "blueGreen", active: "blue", green: { image: TAG } } },
    ],
    [
      "ingress.gatewayImage",
      { ingress: { tls: true, gatewayImage: "registry.example/envoyproxy/gateway:v1.9.0" } },
    ],
  ])("%s by tag is refused", (key, extra) => {
    const e = error({ ...prod, ...extra });
    expect(e.key).toBe(key);
    expect(e.message).toMatch(
      new RegExp(
        `^mlops:${key.replace(/\./g, "\\.")}: got ".+"; prod deploys by digest: use <repo>@sha256:<64 hex>$`,
      ),
    );
  });

  test("the same keys by digest are accepted, and outside prod a tag is", () => {
    expect(() =>
      parseConfig({ ...prod, release: { ...canary, canary: { image: DIGEST, weight: 10 } } }),
    ).not.toThrow();
    expect(parseConfig({ ...local, release: canary }).release.canary!.image).toBe(TAG);
  });
});

describe("cross-key rules of the traffic layer and monitoring", () => {
  test("a canary on an Ingress names ingress.api and the fix", () => {
    const e = error({
      ...local,
      ingress: { api: "ingress", className: "traefik", controllerNamespace: "traefik" },
      release: { strategy: "canary", canary: { image: TAG, weight: 10 } },
    });
    expect(e.message).toBe(
      'mlops:ingress.api: got "ingress"; release.strategy canary needs ingress.api: gateway (an HTTPRoute weights the stable and canary Services; an Ingress cannot split traffic)',
    );
  });

  test.each<[string, Obj, string]>([
    [
      "monitoring.operatorLabels",
      { ...local, monitoring: { scraper: "none", operatorLabels: { release: "kps" } } },
      'mlops:monitoring.operatorLabels: got {"release":"kps"}; only allowed when monitoring.scraper is "prometheus-operator"',
    ],
    [
      "monitoring.actionGroupId",
      {
        ...local,
        monitoring: { scraper: "prometheus-operator", actionGroupId: ACTION_GROUP },
      },
      `mlops:monitoring.actionGroupId: got "${ACTION_GROUP}"; only allowed when monitoring.scraper is "azure-managed"`,
    ],
  ])("%s only with its scraper", (_key, raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });

  test("each scraper accepts its own keys", () => {
    expect(() =>
      parseConfig({
        ...local,
        monitoring: { scraper: "prometheus-operator", operatorLabels: { release: "kps" } },
      }),
    ).not.toThrow();
    expect(() =>
      parseConfig({
        ...dev,
        monitoring: { scraper: "azure-managed", actionGroupId: ACTION_GROUP },
      }),
    ).not.toThrow();
  });

  test("a shadow is refused only when its version already answers every request", () => {
    const models = { "mpg-regressor": "1", "penguin-classifier": "1" };
    const app = (extra: Obj) => ({ ...local, app: { models, ...extra } });
    // A candidate next to the serving version: fine.
    expect(() => parseConfig(app({ modelShadow: { "mpg-regressor": "2" } }))).not.toThrow();
    // The serving version of a split that gives it half: fine.
    expect(() =>
      parseConfig(
        app({
          modelTraffic: { "mpg-regressor": { "1": 50, "2": 50 } },
          modelShadow: { "mpg-regressor": "2" },
        }),
      ),
    ).not.toThrow();
    // Without a split, the pinned version answers everything.
    expect(() => parseConfig(app({ modelShadow: { "mpg-regressor": "1" } }))).toThrow(
      'mlops:app.modelShadow.mpg-regressor: got "1"; this version already answers every request',
    );
  });
});

describe("values given as text (pulumi config set stores text)", () => {
  test.each<[Obj, (c: ReturnType<typeof parseConfig>) => unknown, unknown]>([
    [{ app: { replicas: "3" } }, (c) => c.app.replicas, 3],
    [{ app: { replicas: " 3 " } }, (c) => c.app.replicas, 3],
    [
      { monitoring: { scraper: "prometheus-operator", driftPsiThreshold: "0.35" } },
      (c) => c.monitoring.driftPsiThreshold,
      0.35,
    ],
    [
      { monitoring: { scraper: "prometheus-operator", driftPsiThreshold: " 2 " } },
      (c) => c.monitoring.driftPsiThreshold,
      2,
    ],
    [{ app: { replicas: "12" } }, (c) => c.app.replicas, 12],
    [
      { monitoring: { scraper: "prometheus-operator", clientErrorPercent: "12.5" } },
      (c) => c.monitoring.clientErrorPercent,
      12.5,
    ],
    [{ training: { suspend: "true" } }, (c) => c.training.suspend, true],
    [{ training: { suspend: " false " } }, (c) => c.training.suspend, false],
  ])("%j", (extra, read, value) => {
    expect(read(parseConfig({ ...local, ...extra }))).toBe(value);
  });

  test.each<[Obj, string]>([
    [
      { app: { replicas: "3x" } },
      'mlops:app.replicas: got "3x"; expected a whole number from 1 to 100',
    ],
    [
      { app: { replicas: "x3" } },
      'mlops:app.replicas: got "x3"; expected a whole number from 1 to 100',
    ],
    [
      { app: { replicas: "2.5" } },
      'mlops:app.replicas: got "2.5"; expected a whole number from 1 to 100',
    ],
    [
      { app: { replicas: "-1" } },
      'mlops:app.replicas: got "-1"; expected a whole number from 1 to 100',
    ],
    [
      { monitoring: { scraper: "prometheus-operator", driftPsiThreshold: "0.3x" } },
      'mlops:monitoring.driftPsiThreshold: got "0.3x"; expected a number from 0.01 to 10',
    ],
    [
      { monitoring: { scraper: "prometheus-operator", driftPsiThreshold: "x0.3" } },
      'mlops:monitoring.driftPsiThreshold: got "x0.3"; expected a number from 0.01 to 10',
    ],
    [
      { monitoring: { scraper: "prometheus-operator", driftPsiThreshold: "1." } },
      'mlops:monitoring.driftPsiThreshold: got "1."; expected a number from 0.01 to 10',
    ],
    [
      { app: { replicas: 101 } },
      "mlops:app.replicas: got 101; expected a whole number from 1 to 100",
    ],
    [
      { monitoring: { scraper: "prometheus-operator", driftPsiThreshold: 11 } },
      "mlops:monitoring.driftPsiThreshold: got 11; expected a number from 0.01 to 10",
    ],
    [
      { monitoring: { scraper: "prometheus-operator", driftPsiThreshold: 0.001 } },
      "mlops:monitoring.driftPsiThreshold: got 0.001; expected a number from 0.01 to 10",
    ],
    [
      { monitoring: { scraper: "prometheus-operator", driftPsiThreshold: true } },
      "mlops:monitoring.driftPsiThreshold: got true; expected a number from 0.01 to 10",
    ],
    [{ app: { models: "x" } }, 'mlops:app.models: got "x"; expected an object of keys and values'],
    [
      { app: { models: { "mpg-regressor": "1", "iris-classifier": "1" } } },
      'mlops:app.models.iris-classifier: got "1"; unknown model; the service ships mpg-regressor, penguin-classifier',
    ],
    [{ training: { suspend: "yes" } }, 'mlops:training.suspend: got "yes"; expected true or false'],
    [
      { training: { suspend: "truex" } },
      'mlops:training.suspend: got "truex"; expected true or false',
    ],
    [
      { training: { suspend: "xfalse" } },
      'mlops:training.suspend: got "xfalse"; expected true or false',
    ],
  ])("%j is refused", (extra, message) => {
    expect(() => parseConfig({ ...local, ...extra })).toThrow(message);
  });

  test("the training pool's minimum as text", () => {
    expect(
      parseConfig({ ...dev, azure: { trainingPool: { minCount: "0" } } }).azure!.trainingPool
        .minCount,
    ).toBe(0);
    expect(
      parseConfig({ ...dev, azure: { trainingPool: { maxCount: "12" } } }).azure!.trainingPool
        .maxCount,
    ).toBe(12);
  });

  test("zones may be written as numbers; a repeated zone is refused", () => {
    expect(
      parseConfig({ ...dev, azure: { availabilityZones: [1, 3] } }).azure!.availabilityZones,
    ).toEqual(["1", "3"]);
    expect(() => parseConfig({ ...dev, azure: { availabilityZones: ["1", 1] } })).toThrow(
      'mlops:azure.availabilityZones: got ["1",1]; expected a list of distinct zones from 1, 2, 3, or [] for none',
    );
  });
});

describe("defaults that depend on another key", () => {
  test.each([
    [1, 3],
    [2, 4],
    [5, 10],
  ])("replicas %i: HPA ceiling %i (twice the floor, at least 3)", (replicas, max) => {
    expect(parseConfig({ ...local, app: { replicas } }).app.autoscaling.maxReplicas).toBe(max);
  });

  test("AKS tier: Standard in prod, Free in dev, unless set", () => {
    expect(parseConfig(prod).azure!.tier).toBe("Standard");
    expect(parseConfig(dev).azure!.tier).toBe("Free");
    expect(parseConfig({ ...dev, azure: { tier: "Premium" } }).azure!.tier).toBe("Premium");
  });

  test("a canary or a colour without models runs the app's models; with models, its own", () => {
    const models = { "mpg-regressor": "2", "penguin-classifier": "1" };
    const appModels = { "mpg-regressor": "1", "penguin-classifier": "1" };
    const canary = (extra: Obj) =>
      parseConfig({ ...local, release: { strategy: "canary", canary: { image: TAG, ...extra } } })
        .release.canary;
    expect(canary({})).toEqual({ image: TAG, weight: 0, models: appModels });
    expect(canary({ weight: 5, models })).toEqual({ image: TAG, weight: 5, models });
    const bg = parseConfig({
      ...local,
      release: {
        strategy: "blueGreen",
        active: "blue",
        blue: { image: TAG },
        green: { image: DIGEST, models },
      },
    }).release;
    expect(bg).toEqual({
      strategy: "blueGreen",
      active: "blue",
      blue: { image: TAG, models: appModels },
      green: { image: DIGEST, models },
    });
  });

  test.each([
    ["@weekly", 170],
    ["0 3 * * 1", 170],
    ["  0   3 * *\t1 ", 170],
    ["@daily", 26],
    ["0 3 * * *", 26],
    ["0 3 * * 1-5", 26],
    ["0 3 * * 10", 26],
    ["0 3 1 * 1", 26],
    ["0 3 * 1 1", 26],
    ["0 3 * 1", 26],
    // Six fields (a seconds or year field): not a weekly schedule of five fields.
    ["0 3 * * 1 2026", 26],
  ])("training staleness bound of %j: %i h", (schedule, hours) => {
    expect(defaultTrainingMaxAgeHours(schedule)).toBe(hours);
  });
});

describe("what an error names", () => {
  test("a ConfigError: its name, the key, the value as written", () => {
    const e = error({ ...local, app: { replicas: 0 } });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.name).toBe("ConfigError");
    expect(e.key).toBe("app.replicas");
  });

  test("an unknown key inside a nested section is named with its full path", () => {
    expect(() => parseConfig({ ...local, app: { autoscaling: { max: 3 } } })).toThrow(
      "mlops:app.autoscaling.max: got 3; unknown key; allowed: app.autoscaling.maxReplicas, app.autoscaling.targetCpuPercent",
    );
  });

  test("a missing required value and a wrong one get different messages", () => {
    const release = (canary: Obj) => ({ ...local, release: { strategy: "canary", canary } });
    expect(() => parseConfig(release({ weight: 10 }))).toThrow(
      "mlops:release.canary.image: got nothing; required: the image of the canary",
    );
    expect(() => parseConfig(release({ image: 7, weight: 10 }))).toThrow(
      "mlops:release.canary.image: got 7; expected an image reference",
    );
    expect(() => parseConfig(release({ image: "a b:1", weight: 10 }))).toThrow(
      'mlops:release.canary.image: got "a b:1"; expected an image reference',
    );
    expect(() => parseConfig({ ...local, release: { strategy: "canary" } })).toThrow(
      "mlops:release.canary: got nothing; required when release.strategy is canary: { image, weight, models? }",
    );
    expect(() => parseConfig({ ...local, release: { strategy: "canary", canary: "x" } })).toThrow(
      'mlops:release.canary: got "x"; expected an object of keys and values',
    );
  });

  test("maps: an empty value and a non-object are named", () => {
    expect(() => parseConfig({ ...dev, tags: { team: "" } })).toThrow(
      'mlops:tags.team: got ""; expected a non-empty string',
    );
    expect(() => parseConfig({ ...dev, tags: "team" })).toThrow(
      'mlops:tags: got "team"; expected an object of keys and values',
    );
    expect(() => parseConfig({ ...local, app: { modelTraffic: { "mpg-regressor": 5 } } })).toThrow(
      "mlops:app.modelTraffic.mpg-regressor: got 5; expected an object of keys and values",
    );
  });
});

describe("loadConfig: the stack's mlops namespace", () => {
  afterEach(() => pulumi.runtime.setAllConfig({}));

  test("objects arrive as JSON text and are parsed; other keys are text", () => {
    pulumi.runtime.setAllConfig({
      "mlops:environment": "local",
      "mlops:image": JSON.stringify({ ref: "mlops-inference:0.1.0" }),
      "mlops:app": ` ${JSON.stringify({ replicas: 2, nodePort: 30080, serviceType: "NodePort" })} `,
      "mlops:tags": "[]",
    });
    // tags as a list is refused: the JSON was parsed, not kept as text.
    expect(() => loadConfig()).toThrow("mlops:tags: got []; expected an object of keys and values");
    pulumi.runtime.setAllConfig({
      "mlops:environment": "local",
      "mlops:image": JSON.stringify({ ref: "mlops-inference:0.1.0" }),
      "mlops:app": ` ${JSON.stringify({ replicas: 2, nodePort: 30080, serviceType: "NodePort" })} `,
    });
    const c = loadConfig();
    expect(c.environment).toBe("local");
    expect(c.image.ref).toBe("mlops-inference:0.1.0");
    expect(c.app.replicas).toBe(2);
    expect(c.app.nodePort).toBe(30080);
  });

  test("text that is not JSON stays text, and is refused naming the key", () => {
    pulumi.runtime.setAllConfig({
      "mlops:environment": "local",
      "mlops:image": "{ref: mlops-inference:0.1.0}",
    });
    expect(() => loadConfig()).toThrow(
      'mlops:image: got "{ref: mlops-inference:0.1.0}"; expected an object of keys and values',
    );
  });

  test("keys outside the mlops namespace are not read", () => {
    pulumi.runtime.setAllConfig({
      "mlops:environment": "local",
      "mlops:image": JSON.stringify({ ref: "mlops-inference:0.1.0" }),
      "other:app": JSON.stringify({ replicas: 0 }),
    });
    expect(loadConfig().app.replicas).toBe(1);
  });
});
