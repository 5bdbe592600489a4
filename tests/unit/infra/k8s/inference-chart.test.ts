/**
 * The inference Deployment's container, its autoscaler, its spread and its Service, field by
 * field, each from the config key that sets it (README's configuration table). The security
 * context, probes and resources are in manifest-security.test.ts; the Gateway, route, PDB and
 * NetworkPolicy per stack in program.test.ts.
 */
import { App } from "cdk8s";
import { parseConfig } from "../../../../infra/config";
import { endpointUrl, nodePortUrl } from "../../../../infra/k8s/app";
import { InferenceChart, type InferenceChartProps } from "../../../../infra/k8s/inference-chart";
import { inferenceChartProps, synthManifests } from "../../../../infra/manifests";
import { runProgramWithOutputs, stackConfig } from "../../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const IMAGE = "registry.example/mlops-inference:0.1.0";

/** The local stack's manifests with `app` keys replaced. */
function objects(app: Obj = {}, stack = "local"): Obj[] {
  const raw = stackConfig(stack);
  const config = parseConfig({ ...raw, app: { ...(raw.app as Obj), ...app } });
  return synthManifests({ config, instance: stack, image: IMAGE }) as Obj[];
}
const named = (objs: Obj[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);
const deployment = (objs: Obj[]) => named(objs, "Deployment", "inference")!;
const container = (objs: Obj[]) => deployment(objs).spec.template.spec.containers[0];
const env = (objs: Obj[]) =>
  Object.fromEntries(
    (container(objs).env as Obj[]).map((e) => [e.name, e.value] as [string, string]),
  );

describe("the inference container", () => {
  test("listens on 8080 (HTTP) and 8081 (gRPC) on every interface, and pins the configured model versions", () => {
    const objs = objects({ models: { "mpg-regressor": "3", "penguin-classifier": "1" } });
    expect(container(objs).name).toBe("inference");
    expect(container(objs).image).toBe(IMAGE);
    expect(container(objs).imagePullPolicy).toBe("IfNotPresent");
    expect(container(objs).ports).toEqual([
      { containerPort: 8080, name: "http" },
      { containerPort: 8081, name: "grpc" },
    ]);
    expect(env(objs)).toEqual({
      PORT: "8080",
      GRPC_PORT: "8081",
      HOST: "0.0.0.0",
      MODEL_PINS: "mpg-regressor=3,penguin-classifier=1",
      SHUTDOWN_GRACE_MS: "25000",
      MAX_IN_FLIGHT: "64",
      AUTH_MODE: "key",
      AUTH_KEYS_DIR: "/var/run/mlops/keys",
    });
  });

  test("model pins are sorted by model name, whatever the order of the stack file", () => {
    const objs = objects({ models: { "penguin-classifier": "2", "mpg-regressor": "5" } });
    expect(env(objs).MODEL_PINS).toBe("mpg-regressor=5,penguin-classifier=2");
  });

  test.each([
    // The service's own drain deadline is 5 s short of the kubelet's SIGKILL...
    [30, "25000"],
    [600, "595000"],
    [6, "1000"],
    // ...and never under 1 s.
    [5, "1000"],
    [1, "1000"],
  ])("terminationGracePeriodSeconds %i: pod grace %i s, SHUTDOWN_GRACE_MS %s", (seconds, ms) => {
    const objs = objects({ terminationGracePeriodSeconds: seconds });
    expect(deployment(objs).spec.template.spec.terminationGracePeriodSeconds).toBe(seconds);
    expect(env(objs).SHUTDOWN_GRACE_MS).toBe(ms);
  });

  test("/tmp is its only writable path: a 64 MiB emptyDir; the keys are mounted read-only", () => {
    const objs = objects();
    expect(container(objs).volumeMounts).toEqual([
      { mountPath: "/tmp", name: "tmp" },
      { mountPath: "/var/run/mlops/keys", name: "inference-keys", readOnly: true },
    ]);
    expect(deployment(objs).spec.template.spec.volumes).toEqual([
      { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
      {
        name: "inference-keys",
        projected: {
          defaultMode: 0o440,
          sources: [
            { secret: { name: "inference-key-primary", optional: true } },
            { secret: { name: "inference-key-secondary", optional: true } },
          ],
        },
      },
    ]);
  });
});

describe("the autoscaler", () => {
  test("scales the Deployment between the floor and the ceiling on average CPU", () => {
    const objs = objects({ replicas: 2, autoscaling: { maxReplicas: 7, targetCpuPercent: 55 } });
    expect(named(objs, "HorizontalPodAutoscaler", "inference")!.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "inference" },
      minReplicas: 2,
      maxReplicas: 7,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 55 } },
        },
      ],
      behavior: expect.any(Object),
    });
  });
});

describe("spread and disruption budget: only with more than one replica", () => {
  const selector = {
    "app.kubernetes.io/name": "mlops-inference",
    "app.kubernetes.io/instance": "local",
    "app.kubernetes.io/component": "inference",
    "mlops-platform/track": "stable",
  };

  test("2 replicas: spread over zones and hosts, preferred (a one-zone cluster still schedules)", () => {
    const objs = objects({ replicas: 2 });
    expect(deployment(objs).spec.template.spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: selector },
      },
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: selector },
      },
    ]);
    expect(named(objs, "PodDisruptionBudget", "inference")!.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: selector },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    });
  });

  test("1 replica: neither (a PDB of one pod would block every node drain)", () => {
    const objs = objects({ replicas: 1 });
    expect(deployment(objs).spec.template.spec.topologySpreadConstraints).toBeUndefined();
    expect(objs.filter((o) => o.kind === "PodDisruptionBudget")).toEqual([]);
  });
});

describe("the Service", () => {
  test.each([
    ["ClusterIP", undefined],
    ["NodePort", undefined],
    ["NodePort", 30123],
    ["LoadBalancer", undefined],
  ])(
    "type %s, node port %s: port 80 to the container's 8080, gRPC 8081 as h2c",
    (serviceType, nodePort) => {
      const objs = objects({ serviceType, nodePort });
      const service = named(objs, "Service", "inference")!;
      expect(service.spec.type).toBe(serviceType);
      expect(service.spec.ports).toEqual([
        {
          name: "http",
          port: 80,
          targetPort: 8080,
          ...(nodePort === undefined ? {} : { nodePort }),
        },
        { name: "grpc", port: 8081, targetPort: 8081, appProtocol: "kubernetes.io/h2c" },
      ]);
    },
  );

  test("without app.serviceType: ClusterIP", () => {
    const raw = stackConfig("dev");
    expect((raw.app as Obj).serviceType).toBeUndefined();
    expect(named(objects({}, "dev"), "Service", "inference")!.spec.type).toBe("ClusterIP");
  });
});

describe("the workload identity (Azure)", () => {
  const CLIENT_ID = "99999999-8888-7777-6666-555555555555";
  const withIdentity = (clientId?: string) => {
    const config = parseConfig(stackConfig("dev"));
    return synthManifests({
      config,
      instance: "dev",
      image: IMAGE,
      ...(clientId === undefined ? {} : { workloadIdentityClientId: clientId }),
    }) as Obj[];
  };

  test("names the identity on the service account and opts the pods in", () => {
    const objs = withIdentity(CLIENT_ID);
    expect(named(objs, "ServiceAccount", "inference")!.metadata.annotations).toEqual({
      "azure.workload.identity/client-id": CLIENT_ID,
    });
    expect(deployment(objs).spec.template.metadata.labels["azure.workload.identity/use"]).toBe(
      "true",
    );
  });

  test("without one: no annotation, no opt-in", () => {
    const objs = withIdentity();
    expect(named(objs, "ServiceAccount", "inference")!.metadata.annotations).toBeUndefined();
    expect(
      deployment(objs).spec.template.metadata.labels["azure.workload.identity/use"],
    ).toBeUndefined();
  });
});

describe("monitoring objects follow monitoring.scraper", () => {
  test.each([
    ["none", []],
    [
      "prometheus-operator",
      ["PodMonitor/inference", "PrometheusRule/inference", "ConfigMap/inference-dashboard"],
    ],
  ])("%s: %j", (scraper, expected) => {
    const raw = stackConfig("local");
    const config = parseConfig({ ...raw, monitoring: { ...(raw.monitoring as Obj), scraper } });
    const objs = synthManifests({ config, instance: "local", image: IMAGE }) as Obj[];
    const monitoring = objs
      .filter((o) => ["PodMonitor", "PrometheusRule", "ConfigMap"].includes(o.kind))
      .map((o) => `${o.kind}/${o.metadata.name}`);
    expect(monitoring).toEqual(expected);
  });
});

describe("the Ingress (ingress.api ingress)", () => {
  test("one rule: the host, every path (prefix /), to the Service's port 80", () => {
    const raw = stackConfig("local");
    const config = parseConfig({
      ...raw,
      ingress: { api: "ingress", className: "traefik", controllerNamespace: "traefik" },
    });
    const objs = synthManifests({ config, instance: "local", image: IMAGE }) as Obj[];
    expect(named(objs, "Ingress", "inference")!.spec.rules).toEqual([
      {
        host: "mlops.localtest.me",
        http: {
          paths: [
            {
              path: "/",
              pathType: "Prefix",
              backend: { service: { name: "inference", port: { number: 80 } } },
            },
          ],
        },
      },
    ]);
  });
});

describe("the app's URLs", () => {
  test.each([
    [false, "mlops.localtest.me", "http://mlops.localtest.me/"],
    [true, "mlops.example.com", "https://mlops.example.com/"],
  ])("endpoint with tls %s on %s: %s", (tls, host, url) => {
    expect(endpointUrl({ tls, host })).toBe(url);
  });

  test.each([
    [30080, "http://127.0.0.1:30080/"],
    [undefined, ""],
  ])("node port %s: %j", (nodePort, url) => {
    expect(nodePortUrl(nodePort)).toBe(url);
  });

  test("the local stack's outputs: in-cluster URL, node port URL, namespace", async () => {
    const { outputs } = await runProgramWithOutputs("local", {
      app: { ...(stackConfig("local").app as Obj), namespace: "ml-serving" },
    });
    expect(outputs.serviceUrl).toBe("http://inference.ml-serving.svc.cluster.local:80");
    expect(outputs.nodePortUrl).toBe(
      `http://127.0.0.1:${(stackConfig("local").app as Obj).nodePort}/`,
    );
    expect(outputs.namespace).toBe("ml-serving");
  });

  test("on Azure the app goes to the cluster the program created, not the ambient kube context", async () => {
    const { resources } = await runProgramWithOutputs("dev");
    const group = resources.find(
      (r) => r.type === "kubernetes:yaml/v2:ConfigGroup" && r.name === "mlops-manifests",
    )!;
    const provider = resources.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(group.provider).toMatch(
      new RegExp(`[:$]pulumi:providers:kubernetes::${provider.name}::${provider.name}-id$`),
    );
    // Locally there is no provider of the program's own: the ambient context.
    const local = await runProgramWithOutputs("local");
    expect(
      local.resources.find((r) => r.type === "kubernetes:yaml/v2:ConfigGroup")!.provider,
    ).toBeUndefined();
  });

  test("on Azure the pods are told where the model store is", async () => {
    const { resources } = await runProgramWithOutputs("dev");
    const group = resources.find((r) => r.type === "kubernetes:yaml/v2:ConfigGroup")!;
    const dep = (group.inputs.objs as Obj[]).find(
      (o) => o.kind === "Deployment" && o.metadata.name === "inference",
    )!;
    const vars = (dep.spec.template.spec.containers[0].env as Obj[]).map((e) => e.name);
    expect(vars).toContain("MODEL_STORE_URL");
  });
});

describe("InferenceChart refuses props no config produces (it is exported)", () => {
  /** The props synthManifests gives the chart for the local stack. */
  function props(release: Obj, ingress: Obj = {}): InferenceChartProps {
    const config = parseConfig({ ...stackConfig("local"), release });
    const p = inferenceChartProps({ config, instance: "local", image: IMAGE });
    return { ...p, ingress: { ...p.ingress, ...ingress } };
  }

  test("a Service track that is none of the tracks, naming the tracks", () => {
    const p = { ...props({ strategy: "blueGreen", active: "blue" }), serviceTrack: "purple" };
    expect(() => new InferenceChart(new App(), "inference", p)).toThrow(
      "serviceTrack purple is none of the tracks blue, green",
    );
  });

  test("a canary on an Ingress: an Ingress cannot split traffic", () => {
    const p = props(
      { strategy: "canary", canary: { image: "mlops-inference:0.2.0", weight: 10 } },
      { api: "ingress", className: "traefik", controllerNamespace: "traefik" },
    );
    expect(() => new InferenceChart(new App(), "inference", p)).toThrow(
      "a canary needs ingress.api gateway: an Ingress cannot split traffic",
    );
    // The same props with the Gateway API build.
    const ok = props({
      strategy: "canary",
      canary: { image: "mlops-inference:0.2.0", weight: 10 },
    });
    expect(() => new InferenceChart(new App(), "inference", ok)).not.toThrow();
  });
});
