/**
 * The security- and availability-relevant fields of every pod the platform runs, asserted value
 * by value for every stack and every release strategy (the synth snapshot only detects change;
 * `jest -u` would accept a regression there, not here).
 *
 * Expected values are written out from their sources, not read from the code under test:
 * - rolling update 1 surge / 0 unavailable: a rollout never drops below the serving capacity;
 * - probes: the Open Inference Protocol health routes on the container port 8080;
 * - resources: the defaults of infra/config.ts (app: 250m/1000m CPU, 256/512 MiB; training:
 *   2000m, 4096 MiB, limit = request) unless the stack file sets them (Pulumi.prod.yaml: app
 *   500m/2000m, 512/1024 MiB; Pulumi.local.yaml: training 500m, 512 MiB);
 * - security context: uid/gid 10001 of service/Dockerfile, and the Pod Security `restricted`
 *   profile the namespace enforces.
 */
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../../../infra/config";
import { synthManifests } from "../../../../infra/manifests";
import { synthStack } from "../../../../tools/synth";
import { stackConfig } from "../../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const STACKS = ["local", "dev", "prod"] as const;
type Stack = (typeof STACKS)[number];

const DIGEST = (c: string) => `registry.example/mlops-inference@sha256:${c.repeat(64)}`;

/** The manifests of a stack with its release strategy replaced (as release.test.ts does). */
function synth(stack: Stack, release: Obj): Obj[] {
  const config = parseConfig({ ...stackConfig(stack), release });
  return synthManifests({
    config,
    instance: stack,
    image: config.image.ref ?? "mlops-inference:built",
  }) as Obj[];
}

/** Each release strategy, and the Deployments it must run. */
const RELEASES: ReadonlyArray<{
  name: string;
  objs: (stack: Stack) => Obj[];
  deployments: string[];
}> = [
  {
    name: "the stack file as deployed (rolling)",
    objs: (stack) => parseAllDocuments(synthStack(stack)).map((d) => d.toJS()) as Obj[],
    deployments: ["inference"],
  },
  {
    name: "canary",
    objs: (stack) =>
      synth(stack, { strategy: "canary", canary: { image: DIGEST("c"), weight: 10 } }),
    deployments: ["inference", "inference-canary"],
  },
  {
    name: "blueGreen",
    objs: (stack) => synth(stack, { strategy: "blueGreen", active: "green" }),
    deployments: ["inference-blue", "inference-green"],
  },
];

const CASES = STACKS.flatMap((stack) => RELEASES.map((r) => [stack, r.name, r] as const));

const INFERENCE_RESOURCES: Record<Stack, Obj> = {
  local: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1000m", memory: "512Mi" } },
  dev: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1000m", memory: "512Mi" } },
  prod: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "2000m", memory: "1024Mi" } },
};

const TRAINING_RESOURCES: Record<Stack, Obj> = {
  local: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
  dev: { requests: { cpu: "2000m", memory: "4096Mi" }, limits: { cpu: "2000m", memory: "4096Mi" } },
  prod: {
    requests: { cpu: "2000m", memory: "4096Mi" },
    limits: { cpu: "2000m", memory: "4096Mi" },
  },
};

const POD_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  fsGroup: 10001,
  fsGroupChangePolicy: "Always",
  seccompProfile: { type: "RuntimeDefault" },
};

const CONTAINER_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 10001,
  runAsGroup: 10001,
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

const httpProbe = (path: string, periodSeconds: number, failureThreshold: number) => ({
  httpGet: { path, port: 8080, scheme: "HTTP" },
  periodSeconds,
  failureThreshold,
});

/** `Kind/name` and pod spec of every object that carries a pod template (or is a pod). */
function podSpecs(objs: readonly Obj[]): Array<[string, Obj]> {
  return objs.flatMap((o): Array<[string, Obj]> => {
    const spec =
      o.kind === "Pod"
        ? o.spec
        : (o.spec?.template?.spec ?? o.spec?.jobTemplate?.spec?.template?.spec);
    return spec === undefined ? [] : [[`${o.kind}/${o.metadata.name}`, spec]];
  });
}

const containersOf = (spec: Obj): Obj[] => [...spec.containers, ...(spec.initContainers ?? [])];

describe.each(CASES)("%s, %s", (stack, _name, release) => {
  const objs = release.objs(stack);
  const specs = podSpecs(objs);
  const deployments = objs.filter((o) => o.kind === "Deployment");

  test("runs exactly the expected pods: one Deployment per track and the training CronJob", () => {
    expect(specs.map(([id]) => id).sort()).toEqual(
      [...release.deployments.map((d) => `Deployment/${d}`), "CronJob/training"].sort(),
    );
  });

  test("every Deployment rolls out one extra pod at a time and never removes a serving one", () => {
    expect(deployments).toHaveLength(release.deployments.length);
    for (const d of deployments) {
      expect({ name: d.metadata.name, strategy: d.spec.strategy }).toEqual({
        name: d.metadata.name,
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      });
    }
  });

  test("no pod mounts a service account token, shares a host namespace or runs as root", () => {
    expect(specs.length).toBeGreaterThan(0);
    for (const [id, spec] of specs) {
      expect({
        id,
        automountServiceAccountToken: spec.automountServiceAccountToken,
        hostNetwork: spec.hostNetwork,
        hostPID: spec.hostPID,
        hostIPC: spec.hostIPC,
        securityContext: spec.securityContext,
      }).toEqual({
        id,
        automountServiceAccountToken: false,
        hostNetwork: false,
        hostPID: undefined,
        hostIPC: undefined,
        securityContext: POD_SECURITY_CONTEXT,
      });
    }
    const accounts = objs.filter((o) => o.kind === "ServiceAccount");
    expect(accounts.map((a) => [a.metadata.name, a.automountServiceAccountToken])).toEqual([
      ["inference", false],
      ["training", false],
    ]);
  });

  test("every container: non-root uid 10001, read-only root, no escalation, ALL capabilities dropped", () => {
    for (const [id, spec] of specs) {
      const containers = containersOf(spec);
      expect({ id, count: containers.length }).toEqual({ id, count: 1 });
      for (const c of containers) {
        expect({ id, securityContext: c.securityContext }).toEqual({
          id,
          securityContext: CONTAINER_SECURITY_CONTEXT,
        });
      }
    }
  });

  test("inference probes: startup and readiness on /v2/health/ready, liveness on /v2/health/live", () => {
    for (const d of deployments) {
      const [c] = d.spec.template.spec.containers;
      expect({
        name: d.metadata.name,
        startupProbe: c.startupProbe,
        readinessProbe: c.readinessProbe,
        livenessProbe: c.livenessProbe,
      }).toEqual({
        name: d.metadata.name,
        // Up to 30 × 2 s for the models to load before the kubelet gives up.
        startupProbe: httpProbe("/v2/health/ready", 2, 30),
        // Out of the Service after 2 × 5 s not ready.
        readinessProbe: httpProbe("/v2/health/ready", 5, 2),
        // Restarted after 3 × 10 s not live.
        livenessProbe: httpProbe("/v2/health/live", 10, 3),
      });
      expect(c.ports).toEqual([
        { containerPort: 8080, name: "http" },
        { containerPort: 8081, name: "grpc" },
      ]);
    }
  });

  test("the training container has no probes (it runs to completion)", () => {
    const [, spec] = specs.find(([id]) => id === "CronJob/training")!;
    const [c] = spec.containers;
    expect([c.startupProbe, c.readinessProbe, c.livenessProbe]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  test("resource requests and limits are the stack's values", () => {
    for (const [id, spec] of specs) {
      const expected =
        id === "CronJob/training" ? TRAINING_RESOURCES[stack] : INFERENCE_RESOURCES[stack];
      expect({ id, resources: spec.containers[0].resources }).toEqual({ id, resources: expected });
    }
  });
});

describe("resources come from the config, each value from its own key", () => {
  test("four distinct app values and the training values reach the containers unchanged", () => {
    const config = parseConfig({
      ...stackConfig("local"),
      app: {
        ...(stackConfig("local").app as Obj),
        resources: {
          cpuRequestMillis: 300,
          cpuLimitMillis: 700,
          memoryRequestMib: 384,
          memoryLimitMib: 896,
        },
      },
      training: {
        ...(stackConfig("local").training as Obj),
        cpuRequestMillis: 1500,
        memoryRequestMib: 3000,
      },
    });
    const objs = synthManifests({
      config,
      instance: "local",
      image: "mlops-inference:0.1.0",
    }) as Obj[];
    expect(
      Object.fromEntries(podSpecs(objs).map(([id, spec]) => [id, spec.containers[0].resources])),
    ).toEqual({
      "Deployment/inference": {
        requests: { cpu: "300m", memory: "384Mi" },
        limits: { cpu: "700m", memory: "896Mi" },
      },
      "CronJob/training": {
        requests: { cpu: "1500m", memory: "3000Mi" },
        limits: { cpu: "1500m", memory: "3000Mi" },
      },
    });
  });
});
