/**
 * The readers of policy/workloads.ts against Kubernetes' own rules: where each kind keeps its pod,
 * which tolerations tolerate a taint, when required node affinity pins the pool, how a label
 * selector matches (the four operators), and how an image reference pins its content.
 */
import {
  containersOf,
  imagePin,
  isTraining,
  objectRef,
  selectorMatches,
  selectsPool,
  tolerates,
  workloadOf,
} from "../../policy/workloads";

const taint = { key: "pool", value: "training", effect: "NoSchedule" };

describe("workloadOf", () => {
  it("reads a Pod's own metadata and spec, a CronJob's job template, and nothing of other types", () => {
    const pod = workloadOf("kubernetes:core/v1:Pod", {
      metadata: { name: "p", labels: { a: "1" } },
      spec: { containers: [{ name: "c" }] },
    });
    expect(pod).toEqual({
      kind: "Pod",
      longRunning: false,
      metadata: { name: "p", labels: { a: "1" } },
      podMetadata: { name: "p", labels: { a: "1" } },
      podSpec: { containers: [{ name: "c" }] },
    });
    const cron = workloadOf("kubernetes:batch/v1:CronJob", {
      spec: {
        jobTemplate: { spec: { template: { metadata: { labels: { b: "2" } }, spec: { x: 1 } } } },
      },
    });
    expect(cron).toMatchObject({
      kind: "CronJob",
      podMetadata: { labels: { b: "2" } },
      podSpec: { x: 1 },
    });
    expect(workloadOf("kubernetes:core/v1:Service", { spec: {} })).toBeUndefined();
  });

  it("names containers by name or position, init containers first", () => {
    expect(
      containersOf({ containers: [{ name: "app" }, {}], initContainers: [{}] }).map((c) => [
        c.label,
        c.init,
      ]),
    ).toEqual([
      ['init container "#0"', true],
      ['container "app"', false],
      ['container "#1"', false],
    ]);
  });

  it("counts a workload as training by its own labels or its pod's", () => {
    const w = (own: object, pod: object) =>
      isTraining(
        workloadOf("kubernetes:batch/v1:Job", {
          metadata: { labels: own },
          spec: { template: { metadata: { labels: pod } } },
        })!,
      );
    const training = { "app.kubernetes.io/component": "training" };
    expect(w(training, {})).toBe(true);
    expect(w({}, training)).toBe(true);
    expect(w({}, { "app.kubernetes.io/component": "serving" })).toBe(false);
  });

  it("names an object namespace/name with the default namespace when unset", () => {
    expect(objectRef({ metadata: { name: "n" } })).toEqual({ namespace: "default", name: "n" });
    expect(objectRef({ metadata: { namespace: "ns" } })).toEqual({ namespace: "ns", name: "" });
  });
});

describe("tolerates (Kubernetes toleration rules)", () => {
  it.each([
    [{ key: "pool", operator: "Equal", value: "training", effect: "NoSchedule" }, true],
    [{ key: "pool", value: "training" }, true],
    [{ key: "pool", value: "training", effect: "" }, true],
    [{ key: "pool", value: "other" }, false],
    [{ key: "pool", operator: "Equal" }, false],
    [{ key: "pool", operator: "Exists" }, true],
    [{ key: "other", operator: "Exists" }, false],
    [{ key: "other", value: "training" }, false],
    [{ operator: "Exists" }, true],
    [{ operator: "Exists", effect: "NoExecute" }, false],
    [{}, false],
    [{ value: "training" }, false],
    [{ key: "pool", value: "training", effect: "NoExecute" }, false],
    [{ key: "pool", operator: "Matches", value: "training" }, false],
  ])("%j: %s", (toleration, expected) => {
    expect(tolerates(toleration, taint)).toBe(expected);
  });
});

describe("selectsPool", () => {
  const affinity = (...terms: object[][]) => ({
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: terms.map((matchExpressions) => ({ matchExpressions })),
        },
      },
    },
  });
  const onPool = { key: "pool", operator: "In", values: ["training"] };

  it.each([
    ["a nodeSelector on the pool", { nodeSelector: { pool: "training" } }, true],
    ["a nodeSelector on another value", { nodeSelector: { pool: "gpu" } }, false],
    ["no selector or affinity", {}, false],
    ["one term with the In expression", affinity([onPool]), true],
    [
      "one term with it among others",
      affinity([{ key: "zone", operator: "In", values: ["1"] }, onPool]),
      true,
    ],
    ["every term with it", affinity([onPool], [onPool]), true],
    [
      "a term without it",
      affinity([onPool], [{ key: "zone", operator: "In", values: ["1"] }]),
      false,
    ],
    ["In listing another value too", affinity([{ ...onPool, values: ["training", "gpu"] }]), false],
    ["In listing no value", affinity([{ ...onPool, values: [] }]), false],
    ["NotIn", affinity([{ ...onPool, operator: "NotIn" }]), false],
    ["another key", affinity([{ ...onPool, key: "zone" }]), false],
  ])("%s: %s", (_what, podSpec, expected) => {
    expect(selectsPool(podSpec, "pool", "training")).toBe(expected);
  });
});

describe("selectorMatches (label selector rules)", () => {
  const labels = { app: "web", tier: "front" };
  const expr = (operator: string, key: string, values: string[] = []) => ({
    matchExpressions: [{ key, operator, values }],
  });

  it.each([
    ["an empty selector", {}, false],
    ["empty matchLabels", { matchLabels: {} }, false],
    ["a subset of the labels", { matchLabels: { app: "web" } }, true],
    ["another value", { matchLabels: { app: "api" } }, false],
    ["In with the value", expr("In", "app", ["api", "web"]), true],
    ["In without the value", expr("In", "app", ["api"]), false],
    ["In on a missing label", expr("In", "zone", ["a"]), false],
    ["NotIn without the value", expr("NotIn", "app", ["api"]), true],
    ["NotIn with the value", expr("NotIn", "app", ["web"]), false],
    ["NotIn on a missing label", expr("NotIn", "zone", ["a"]), true],
    ["Exists", expr("Exists", "tier"), true],
    ["Exists on a missing label", expr("Exists", "zone"), false],
    ["DoesNotExist", expr("DoesNotExist", "zone"), true],
    ["DoesNotExist on a present label", expr("DoesNotExist", "app"), false],
    ["an unknown operator", expr("Gt", "app", ["a"]), false],
    [
      "labels and a failing expression",
      { matchLabels: { app: "web" }, ...expr("Exists", "zone") },
      false,
    ],
  ])("%s: %s", (_what, selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});

describe("imagePin", () => {
  const digest = `sha256:${"0123456789abcdef".repeat(4)}`;

  it.each([
    [`repo@${digest}`, "digest"],
    [`registry:5000/team/repo:1.0@${digest}`, "digest"],
    [`repo@${digest}0`, "none"],
    [`repo@${digest.toUpperCase().replace("SHA256", "sha256")}`, "none"],
    ["repo", "none"],
    ["registry:5000/repo", "none"],
    ["registry:5000/repo:1.0", "tag"],
    ["repo:1", "tag"],
    ["repo:latest", "latest"],
    ["registry:5000/repo:latest", "latest"],
    ["repo:latest-1", "tag"],
  ])("%s is pinned by %s", (image, pin) => {
    expect(imagePin(image)).toBe(pin);
  });
});
