import { stringify } from "yaml";
import { parseConfig } from "../../../../infra/config";
import { TRACK_LABEL } from "../../../../infra/k8s/inference-chart";
import type { Manifest } from "../../../../infra/k8s/app";
import { synthManifests } from "../../../../infra/manifests";
import { pinnedReleaseImages, releaseOutput, releaseTracks } from "../../../../infra/k8s/release";
import { stackConfig } from "../../../support/program";

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

  const backends = (objs: Obj[], kind = "HTTPRoute") =>
    (named(objs, kind, "inference")!.spec.rules as Obj[]).map((rule) =>
      (rule.backendRefs as Obj[]).map((b) => [b.name, b.port, b.weight]),
    );

  test("a second Deployment with its own image and Service; the HTTPRoute weights the two Services; stable untouched", () => {
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
    // One rule, both Services, weights that add up to 100 (so each is a percent).
    expect(backends(objs)).toEqual([
      [
        ["inference", 80, 90],
        ["inference-canary", 80, 10],
      ],
    ]);
    expect(names(objs, "HTTPRoute")).toEqual(["inference"]);
    expect(names(objs, "Gateway")).toEqual(["inference"]);
    expect(names(objs, "Ingress")).toEqual([]);
    // Without a canary the route has one backend and no weight.
    expect(backends(stable)).toEqual([[["inference", 80, undefined]]]);
    expect(names(objs, "HorizontalPodAutoscaler")).toEqual(["inference", "inference-canary"]);
  });

  test("changing the weight changes two objects, the HTTPRoute and the GRPCRoute, and in them only the backends' weights", () => {
    const a = synth("local", release);
    const b = synth("local", { ...release, canary: { ...release.canary, weight: 50 } });
    const changed = a.filter((o, i) => JSON.stringify(o) !== JSON.stringify(b[i]));
    expect(changed.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "HTTPRoute/inference",
      "GRPCRoute/inference",
    ]);
    for (const before of changed) {
      const after = stringify(named(b, before.kind, "inference")).split("\n");
      expect(
        stringify(before)
          .split("\n")
          .filter((line, i) => line !== after[i]),
      ).toEqual(["          weight: 90", "          weight: 10"]);
    }
    expect(backends(b)[0].map(([, , w]) => w)).toEqual([50, 50]);
    expect(backends(b, "GRPCRoute")).toEqual([
      [
        ["inference", 8081, 50],
        ["inference-canary", 8081, 50],
      ],
    ]);
  });

  test("abort: weight 0 leaves the canary in the route with no traffic, and the stable Service all of it", () => {
    const objs = synth("local", { ...release, canary: { ...release.canary, weight: 0 } });
    expect(backends(objs)).toEqual([
      [
        ["inference", 80, 100],
        ["inference-canary", 80, 0],
      ],
    ]);
    expect(names(objs, "Deployment")).toEqual(["inference", "inference-canary"]);
  });

  test("a canary needs the Gateway API: on ingress.api ingress it is a config error naming the fix", () => {
    expect(() =>
      parseConfig({
        ...stackConfig("local"),
        ingress: { api: "ingress", className: "traefik", controllerNamespace: "traefik" },
        release,
      }),
    ).toThrow(
      'mlops:ingress.api: got "ingress"; release.strategy canary needs ingress.api: gateway (an HTTPRoute weights the stable and canary Services; an Ingress cannot split traffic)',
    );
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
    const before = stringify(changed[0]).split("\n");
    const after = stringify(green.find((o) => o.kind === "Service")).split("\n");
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

describe("ingress.api ingress (clusters that only run an Ingress controller)", () => {
  const ingress = { api: "ingress", className: "traefik", controllerNamespace: "traefik" };
  const synthWith = (stack: string, extra: Obj = {}) => {
    const base = stackConfig(stack);
    // The Gateway-only keys of a stack file go (with an Ingress they are config errors).
    // eslint-disable-next-line @typescript-eslint/no-unused-vars
    const { gatewayClassName, certificate, ...rest } = base.ingress as Obj;
    const config = parseConfig({
      ...base,
      ingress: { ...rest, ...ingress, ...extra },
    });
    return synthManifests({ config, instance: stack, image: config.image.ref ?? "x:1" }) as Obj[];
  };

  test("one Ingress of the configured class to the Service; no Gateway API object; no controller annotation", () => {
    const objs = synthWith("local");
    expect(names(objs, "Gateway")).toEqual([]);
    expect(names(objs, "HTTPRoute")).toEqual([]);
    const ing = named(objs, "Ingress", "inference")!;
    expect(ing.spec.ingressClassName).toBe("traefik");
    expect(ing.spec.rules[0].http.paths[0].backend.service).toEqual({
      name: "inference",
      port: { number: 80 },
    });
    // Locally nothing may publish an address; no annotation of any controller's dialect.
    expect(ing.metadata.annotations).toEqual({ "pulumi.com/skipAwait": "true" });
    const np = named(objs, "NetworkPolicy", "inference")!;
    expect(np.spec.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({
      "kubernetes.io/metadata.name": "traefik",
    });
  });

  test("on Azure `up` waits for the user's controller to publish the Ingress's address", () => {
    const ing = named(synthWith("dev"), "Ingress", "inference")!;
    expect(ing.metadata.annotations).toBeUndefined();
    expect(ing.spec.tls).toEqual([{ hosts: ["mlops-dev.example.com"], secretName: "mlops-tls" }]);
  });
});

describe("the release's tracks, derived once (releaseTracks, pinnedReleaseImages, releaseOutput)", () => {
  const BUILT = "mlops-inference:built";
  const models = { "mpg-regressor": "1", "penguin-classifier": "1" };
  const derive = (release: Obj) => {
    const config = parseConfig({ ...stackConfig("local"), release });
    expect(config.app.models).toEqual(models);
    return {
      tracks: releaseTracks(config, BUILT),
      pinned: pinnedReleaseImages(config),
      output: releaseOutput(config, BUILT),
    };
  };

  test("rolling: one stable track on mlops:image; nothing else pinned", () => {
    expect(derive({ strategy: "rolling" })).toEqual({
      tracks: {
        tracks: [{ name: "stable", deploymentName: "inference", image: BUILT, models }],
        serviceTrack: "stable",
      },
      pinned: [],
      output: {
        strategy: "rolling",
        serving: "stable",
        canaryWeight: 0,
        tracks: { stable: BUILT },
      },
    });
  });

  test("canary: stable on mlops:image, the canary on its own image and models, weighted", () => {
    const canaryModels = { "mpg-regressor": "2" };
    expect(
      derive({
        strategy: "canary",
        canary: { image: "mlops-inference:0.2.0", weight: 10, models: canaryModels },
      }),
    ).toEqual({
      tracks: {
        tracks: [
          { name: "stable", deploymentName: "inference", image: BUILT, models },
          {
            name: "canary",
            deploymentName: "inference-canary",
            image: "mlops-inference:0.2.0",
            models: canaryModels,
          },
        ],
        serviceTrack: "stable",
        canary: { track: "canary", weight: 10 },
      },
      pinned: ["mlops-inference:0.2.0"],
      output: {
        strategy: "canary",
        serving: "stable",
        canaryWeight: 10,
        tracks: { stable: BUILT, canary: "mlops-inference:0.2.0" },
      },
    });
  });

  test.each(["blue", "green"])(
    "blueGreen active %s: an unpinned colour runs mlops:image; the Service selects the active one",
    (active) => {
      const greenModels = { "penguin-classifier": "2" };
      expect(
        derive({
          strategy: "blueGreen",
          active,
          green: { image: "mlops-inference:0.2.0", models: greenModels },
        }),
      ).toEqual({
        tracks: {
          tracks: [
            { name: "blue", deploymentName: "inference-blue", image: BUILT, models },
            {
              name: "green",
              deploymentName: "inference-green",
              image: "mlops-inference:0.2.0",
              models: greenModels,
            },
          ],
          serviceTrack: active,
        },
        pinned: ["mlops-inference:0.2.0"],
        output: {
          strategy: "blueGreen",
          serving: active,
          canaryWeight: 0,
          tracks: { blue: BUILT, green: "mlops-inference:0.2.0" },
        },
      });
    },
  );

  test("blueGreen with both colours pinned: both images, blue first", () => {
    const { tracks, pinned } = derive({
      strategy: "blueGreen",
      blue: { image: "mlops-inference:0.1.0" },
      green: { image: "mlops-inference:0.2.0" },
    });
    expect(tracks.serviceTrack).toBe("blue");
    expect(tracks.tracks.map((t) => t.image)).toEqual([
      "mlops-inference:0.1.0",
      "mlops-inference:0.2.0",
    ]);
    expect(pinned).toEqual(["mlops-inference:0.1.0", "mlops-inference:0.2.0"]);
  });
});
