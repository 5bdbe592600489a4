/**
 * The recommended labels (app.kubernetes.io/*) of every object, asserted value by value for every
 * stack and release strategy, and the version label's derivation from an image reference. The
 * synth snapshot only detects a change here; these tests say what the values must be.
 *
 * Expected values are written out from their sources: the Kubernetes recommended labels
 * (kubernetes.io/docs/concepts/overview/working-with-objects/common-labels), and a label value's
 * syntax (at most 63 characters, [A-Za-z0-9_.-], beginning and ending alphanumeric).
 */
import { parseConfig } from "../../../../infra/config";
import { recommendedLabels, selectorLabels, versionOf } from "../../../../infra/k8s/labels";
import { synthManifests } from "../../../../infra/manifests";
import { stackConfig } from "../../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const DIGEST = "registry.example/mlops-inference@sha256:" + "0123456789ab".padEnd(64, "f");
const CANARY = `registry.example/mlops-inference@sha256:${"c".repeat(64)}`;
const GREEN = `registry.example/mlops-inference@sha256:${"d".repeat(64)}`;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe("versionOf: an image reference's tag or short digest", () => {
  test.each([
    ["mlops-inference:0.1.0", "0.1.0"],
    ["registry.example/team/mlops-inference:1.2.3-rc.1", "1.2.3-rc.1"],
    // A registry port is not a tag.
    ["registry.example:5000/mlops-inference", "unversioned"],
    ["registry.example:5000/mlops-inference:7", "7"],
    ["mlops-inference", "unversioned"],
    // A digest wins over a tag, shortened to 12 hex digits.
    [DIGEST, "sha256-0123456789ab"],
    [`registry.example/mlops-inference:0.1.0@sha256:${"a".repeat(64)}`, "sha256-aaaaaaaaaaaa"],
    [`mlops-inference@sha256:${"b".repeat(64)}`, "sha256-bbbbbbbbbbbb"],
  ])("%s -> %s", (ref, version) => {
    expect(versionOf(ref)).toBe(version);
  });
});

describe("recommendedLabels", () => {
  test("every recommended label, and the version only when one is given", () => {
    expect(recommendedLabels("dev", "training")).toEqual({
      "app.kubernetes.io/name": "mlops-inference",
      "app.kubernetes.io/instance": "dev",
      "app.kubernetes.io/component": "training",
      "app.kubernetes.io/part-of": "mlops-platform",
      "app.kubernetes.io/managed-by": "pulumi",
    });
    expect(recommendedLabels("prod", "inference", "0.2.0")).toEqual({
      "app.kubernetes.io/name": "mlops-inference",
      "app.kubernetes.io/instance": "prod",
      "app.kubernetes.io/version": "0.2.0",
      "app.kubernetes.io/component": "inference",
      "app.kubernetes.io/part-of": "mlops-platform",
      "app.kubernetes.io/managed-by": "pulumi",
    });
  });

  test.each([
    // Characters a label value cannot hold become "-".
    ["1.0+build/7", "1.0-build-7"],
    // It begins and ends alphanumeric.
    ["_v1.0-", "v1.0"],
    ["..1..", "1"],
    // At most 63 characters (then trimmed of a trailing separator).
    ["a".repeat(70), "a".repeat(63)],
    ["a".repeat(62) + "-b", "a".repeat(62)],
    // Nothing left: a fixed word rather than an empty value.
    ["+++", "unversioned"],
  ])("a version %j is shaped into the label value %j", (version, value) => {
    const label = recommendedLabels("local", "inference", version)["app.kubernetes.io/version"];
    expect(label).toBe(value);
    expect(label).toMatch(LABEL_VALUE);
  });

  test("the selector is stable across versions: no version, no part-of, no managed-by", () => {
    expect(selectorLabels("local", "inference")).toEqual({
      "app.kubernetes.io/name": "mlops-inference",
      "app.kubernetes.io/instance": "local",
      "app.kubernetes.io/component": "inference",
    });
  });
});

const RELEASES: Obj[] = [
  { strategy: "rolling" },
  { strategy: "canary", canary: { image: CANARY, weight: 10 } },
  { strategy: "blueGreen", active: "green", green: { image: GREEN } },
];

describe.each(["local", "dev", "prod"])("every object of the %s stack", (stack) => {
  test.each(RELEASES.map((r) => [r.strategy, r]))("%s", (_name, release) => {
    const config = parseConfig({ ...stackConfig(stack), release });
    const objs = synthManifests({ config, instance: stack, image: DIGEST }) as Obj[];
    expect(objs.length).toBeGreaterThan(5);
    for (const o of objs) {
      const where = `${o.kind}/${o.metadata.name}`;
      const labels = o.metadata.labels as Record<string, string>;
      if (o.kind === "Namespace") {
        // Shared by every instance: only part-of, with the Pod Security labels.
        expect([where, labels["app.kubernetes.io/part-of"]]).toEqual([where, "mlops-platform"]);
        continue;
      }
      const component =
        o.kind === "CronJob" || o.metadata.name === "training" ? "training" : "inference";
      // A track's Deployment, autoscaler and disruption budget carry the version of the image the track runs.
      const runsImage = [
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "CronJob",
      ].includes(o.kind);
      const version = !runsImage
        ? undefined
        : o.metadata.name === "inference-canary"
          ? "sha256-cccccccccccc"
          : o.metadata.name === "inference-green"
            ? "sha256-dddddddddddd"
            : "sha256-0123456789ab";
      const expected = {
        ...recommendedLabels(stack, component),
        ...(version ? { "app.kubernetes.io/version": version } : {}),
      };
      const recommended = Object.fromEntries(
        Object.entries(labels).filter(([k]) => k.startsWith("app.kubernetes.io/")),
      );
      expect([where, recommended]).toEqual([where, expected]);
    }
  });
});
