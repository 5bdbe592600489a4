/**
 * policy/config.ts setting by setting: each kind of schema accepts its boundary values and refuses
 * the others with the message naming the setting; a policy's declared schema carries a copy of the
 * default; a stack's enforcement overrides must name policies of the pack.
 */
import type { Policies } from "@pulumi/policy";
import {
  checkSetting,
  DEFAULT_SETTINGS,
  packConfigFile,
  settingsFor,
  type SettingName,
} from "../../policy/config";

const expected: [SettingName, unknown[], [unknown, string][]][] = [
  [
    "requireDigest",
    [true, false],
    [
      ["true", "true or false"],
      [0, "true or false"],
      [null, "true or false"],
    ],
  ],
  [
    "minProdReplicas",
    [1, 2, 100],
    [
      [0, "a whole number of at least 1"],
      [1.5, "a whole number of at least 1"],
      ["2", "a whole number of at least 1"],
      [-1, "a whole number of at least 1"],
    ],
  ],
  [
    "requiredTags",
    [[], ["owner"], ["a", "b"]],
    [
      ["owner", "a list of non-empty strings"],
      [["owner", ""], "a list of non-empty strings"],
      [["owner", 3], "a list of non-empty strings"],
      [[""], "a list of non-empty strings"],
    ],
  ],
  [
    "trainingPoolLabelKey",
    ["k", "mlops-platform/pool"],
    [
      ["", "a non-empty string"],
      [3, "a non-empty string"],
      [["k"], "a non-empty string"],
    ],
  ],
  [
    "trainingTaintEffect",
    ["NoSchedule", "NoExecute"],
    [["Never", "one of NoSchedule, PreferNoSchedule, NoExecute"]],
  ],
];

describe("checkSetting", () => {
  it.each(expected)("%s accepts %j", (key, good) => {
    for (const value of good) expect(() => checkSetting(key, value)).not.toThrow();
  });

  it.each(expected)("%s refuses the rest, naming the setting and the value", (key, _good, bad) => {
    for (const [value, what] of bad) {
      expect(() => checkSetting(key, value)).toThrow(
        new Error(`policy setting ${key}: got ${JSON.stringify(value)}; expected ${what}`),
      );
    }
  });
});

describe("settingsFor", () => {
  it("declares each setting's schema with the default, a copy for lists", () => {
    const s = settingsFor("requiredTags", "minProdReplicas", "allowLoadBalancer");
    const props = s.configSchema.properties as Record<string, { type: string; default: unknown }>;
    expect(Object.keys(props)).toEqual(["requiredTags", "minProdReplicas", "allowLoadBalancer"]);
    expect(props.requiredTags).toMatchObject({ type: "array", default: ["environment", "owner"] });
    expect(props.requiredTags.default).not.toBe(DEFAULT_SETTINGS.requiredTags);
    expect(props.minProdReplicas).toMatchObject({ type: "integer", minimum: 1, default: 2 });
    expect(props.allowLoadBalancer).toMatchObject({ type: "boolean", default: false });
  });

  it("reads the given values over the defaults, and false and 0-like values as given", () => {
    const s = settingsFor("allowLoadBalancer", "requiredTags", "environment");
    expect(
      s.read({
        getConfig: <T extends object>() => ({ allowLoadBalancer: true, requiredTags: [] }) as T,
      }),
    ).toEqual({ allowLoadBalancer: true, requiredTags: [], environment: "prod" });
    const r = settingsFor("requireDigest");
    expect(r.read({ getConfig: <T extends object>() => ({ requireDigest: false }) as T })).toEqual({
      requireDigest: false,
    });
  });
});

describe("packConfigFile", () => {
  const policy = (name: string, ...keys: SettingName[]) =>
    ({ name, ...(keys.length > 0 ? settingsFor(...keys) : {}) }) as unknown as Policies[number];

  it("writes each policy's declared settings of the stack and the stack's level overrides", () => {
    const pack = [
      policy("k8s-recommended-labels", "recommendedLabels"),
      policy("no-settings"),
      policy("digest", "requireDigest", "environment"),
    ];
    expect(packConfigFile("local", pack)).toEqual({
      "k8s-recommended-labels": {
        enforcementLevel: "advisory",
        recommendedLabels: DEFAULT_SETTINGS.recommendedLabels,
      },
      digest: { requireDigest: false, environment: "local" },
    });
    expect(packConfigFile("prod", pack)).toEqual({
      "k8s-recommended-labels": { recommendedLabels: DEFAULT_SETTINGS.recommendedLabels },
      digest: { requireDigest: true, environment: "prod" },
    });
  });

  it("refuses a stack whose level overrides name a policy the pack does not have", () => {
    expect(() => packConfigFile("dev", [policy("digest", "requireDigest")])).toThrow(
      new Error("STACK_ENFORCEMENT.dev names unknown policies: k8s-recommended-labels"),
    );
    expect(packConfigFile("prod", [policy("digest", "requireDigest")])).toEqual({
      digest: { requireDigest: true },
    });
  });
});
