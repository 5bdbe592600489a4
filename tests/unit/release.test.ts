import * as yaml from "js-yaml";
import { parseConfig } from "../../infra/config";
import { TRACK_LABEL } from "../../infra/k8s/inference-chart";
import { Manifest, synthManifests } from "../../infra/k8s/manifests";
import { stackConfig } from "../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
const DIGEST = (c: string) => `registry.example/mlops-inference@sha256:${c.repeat(64)}`;

function synth(stack: string, release: Obj): Obj[] {
  const config = parseConfig({ ...stackConfig(stack), release });
  const image = config.image.ref ?? "mlops-inference:built";
  return synthManifests({ config, instance: stack, image }) as Manifest[] as Obj[];
}
const named = (objs: Obj[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);
const names = (objs: Obj[], kind: string) =>
  objs.filter((o) => o.kind === kind).map((o) => o.metadata.name);

describe("rolling (default)", () => {
  test("one Deployment on the stable track", () => {
    const objs = synth("local", { strategy: "rolling" });
    expect(names(objs, "Deployment")).toEqual(["inference"]);
    expect(named(objs, "Service", "inference")!.spec.selector[TRACK_LABEL]).toBe("stable");
  });
});

describe("canary", () => {
  const release = { strategy: "canary", canary: { image: "mlops-inference:0.2.0", weight: 10 } };

  test("a second Deployment with its own image, Service and a weighted canary Ingress; stable untouched", () => {
    const objs = synth("local", release);
    const stable = synth("local", { strategy: "rolling" });
    expect(names(objs, "Deployment")).toEqual(["inference", "inference-canary"]);
    expect(named(objs, "Deployment", "inference")).toEqual(
      named(stable, "Deployment", "inference"),
    );
    const canary = named(objs, "Deployment", "inference-canary")!;
    expect(canary.spec.template.spec.containers[0].image).toBe("mlops-inference:0.2.0");
    expect(canary.spec.selector.matchLabels[TRACK_LABEL]).toBe("canary");
    expect(named(objs, "Service", "inference-canary")!.spec.selector[TRACK_LABEL]).toBe("canary");
    expect(named(objs, "Service", "inference")!.spec.selector[TRACK_LABEL]).toBe("stable");
    const ingress = named(objs, "Ingress", "inference-canary")!;
    expect(ingress.metadata.annotations).toEqual({
      "nginx.ingress.kubernetes.io/canary": "true",
      "nginx.ingress.kubernetes.io/canary-weight": "10",
      "pulumi.com/skipAwait": "true",
    });
    expect(ingress.spec.rules[0].host).toBe(
      named(objs, "Ingress", "inference")!.spec.rules[0].host,
    );
    expect(ingress.spec.rules[0].http.paths[0].backend.service.name).toBe("inference-canary");
    expect(names(objs, "HorizontalPodAutoscaler")).toEqual(["inference", "inference-canary"]);
  });

  test("changing the weight changes only the canary Ingress's annotation", () => {
    const a = synth("local", release);
    const b = synth("local", { ...release, canary: { ...release.canary, weight: 50 } });
    const changed = a.filter((o, i) => JSON.stringify(o) !== JSON.stringify(b[i]));
    expect(changed.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Ingress/inference-canary",
    ]);
  });

  test("prod: the canary needs a digest and gets a PDB like the stable track", () => {
    expect(() =>
      synth("prod", { strategy: "canary", canary: { image: "mlops-inference:0.2.0", weight: 5 } }),
    ).toThrow(
      'mlops:release.canary.image: got "mlops-inference:0.2.0"; prod deploys by digest: use <repo>@sha256:<64 hex>',
    );
    const objs = synth("prod", { strategy: "canary", canary: { image: DIGEST("c"), weight: 5 } });
    expect(names(objs, "PodDisruptionBudget")).toEqual(["inference", "inference-canary"]);
  });

  test("invalid canary settings name the key", () => {
    expect(() => synth("local", { strategy: "canary" })).toThrow(
      "mlops:release.canary: got nothing; required when release.strategy is canary: { image, weight, models? }",
    );
    expect(() =>
      synth("local", { strategy: "canary", canary: { image: "x:1", weight: 101 } }),
    ).toThrow("mlops:release.canary.weight: got 101; expected a whole number from 0 to 100");
    expect(() => synth("local", { strategy: "rolling", canary: { image: "x:1" } })).toThrow(
      'mlops:release.canary: got {"image":"x:1"}; unknown key; allowed: release.strategy',
    );
  });
});

describe("blueGreen", () => {
  const release = (active: string) => ({
    strategy: "blueGreen",
    active,
    green: { image: "mlops-inference:0.2.0" },
  });

  test("two Deployments; the Service selects the active colour", () => {
    const objs = synth("local", release("blue"));
    expect(names(objs, "Deployment")).toEqual(["inference-blue", "inference-green"]);
    expect(
      named(objs, "Deployment", "inference-blue")!.spec.template.spec.containers[0].image,
    ).toBe("mlops-inference:0.1.0");
    expect(
      named(objs, "Deployment", "inference-green")!.spec.template.spec.containers[0].image,
    ).toBe("mlops-inference:0.2.0");
    expect(named(objs, "Service", "inference")!.spec.selector[TRACK_LABEL]).toBe("blue");
  });

  test("switching (or rolling back) changes one field of one object: the Service's selector", () => {
    const blue = synth("local", release("blue"));
    const green = synth("local", release("green"));
    const changed = blue.filter((o, i) => JSON.stringify(o) !== JSON.stringify(green[i]));
    expect(changed.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["Service/inference"]);
    const before = yaml.dump(changed[0]).split("\n");
    const after = yaml.dump(green.find((o) => o.kind === "Service")).split("\n");
    expect(before.filter((line, i) => line !== after[i])).toEqual([`    ${TRACK_LABEL}: blue`]);
  });

  test("an unknown colour names the allowed ones", () => {
    expect(() => synth("local", { strategy: "blueGreen", active: "red" })).toThrow(
      'mlops:release.active: got "red"; allowed: blue, green',
    );
  });
});

describe("model A/B inside the service", () => {
  const env = (objs: Obj[], name: string) =>
    named(objs, "Deployment", name)!.spec.template.spec.containers[0].env as Obj[];

  test("weights and shadow reach every Deployment as MODEL_TRAFFIC / MODEL_SHADOW", () => {
    const config = parseConfig({
      ...stackConfig("local"),
      app: {
        ...(stackConfig("local").app as Obj),
        modelTraffic: { "mpg-regressor": { "1": 90, "2": 10 } },
        modelShadow: { "penguin-classifier": "2" },
      },
      release: { strategy: "canary", canary: { image: "mlops-inference:0.2.0", weight: 5 } },
    });
    const objs = synthManifests({
      config,
      instance: "local",
      image: "mlops-inference:0.1.0",
    }) as Obj[];
    for (const name of ["inference", "inference-canary"]) {
      expect(env(objs, name)).toEqual(
        expect.arrayContaining([
          { name: "MODEL_TRAFFIC", value: '{"mpg-regressor":{"1":90,"2":10}}' },
          { name: "MODEL_SHADOW", value: '{"penguin-classifier":"2"}' },
        ]),
      );
    }
  });

  test("without A/B settings the variables are absent", () => {
    const names = env(synth("local", { strategy: "rolling" }), "inference").map((e) => e.name);
    expect(names).not.toContain("MODEL_TRAFFIC");
    expect(names).not.toContain("MODEL_SHADOW");
  });
});
