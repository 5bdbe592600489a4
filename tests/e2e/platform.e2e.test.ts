/**
 * The real engine against a real API server: the `local` stack's config as stack `e2e`, through
 * the Automation API, on the suite's own control plane (kwok nodes). Tests run in order: each
 * builds on the state the previous one left (one stack, one cluster), and afterAll always
 * destroys what is left.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { applyContext, recordTiming, REPO_ROOT } from "./support/context";
import {
  allNamespacedObjects,
  condition,
  find,
  get,
  list,
  waitFor,
  type KubeObject,
} from "./support/kube";
import { run, runOk } from "./support/proc";
import {
  freePort,
  request,
  SERVICE_DIR,
  startService,
  type ServiceProcess,
} from "./support/service";
import { changed, E2eStack, STACK_NAME, type Run, type Step } from "./support/stack";

const NS = "mlops";
/**
 * The digest-pinned image the promotion step deploys. kwok nodes run no containers, so any digest
 * does; a cluster with real nodes (MLOPS_E2E_KUBE_CONTEXT) needs one it can pull.
 */
const DIGEST_REF =
  process.env.MLOPS_E2E_DIGEST_REF ?? `mlops-inference@sha256:${"ab12".repeat(16)}`;
if (!/^[^@\s]+@sha256:[0-9a-f]{64}$/.test(DIGEST_REF)) {
  throw new Error(
    `MLOPS_E2E_DIGEST_REF: got "${DIGEST_REF}"; expected <repository>@sha256:<64 hex digits>`,
  );
}
const POLICY_PACK = path.join(REPO_ROOT, "policy");
const POLICY_CONFIG = path.join(REPO_ROOT, "policy/config/local.json");

const D = "kubernetes:apps/v1:Deployment";
const SVC = "kubernetes:core/v1:Service";
const ING = "kubernetes:networking.k8s.io/v1:Ingress";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const SA = "kubernetes:core/v1:ServiceAccount";
const CRON = "kubernetes:batch/v1:CronJob";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup";

/** What the `local` config deploys (rolling release, 1 replica): `type name` of each object. */
const LOCAL_OBJECTS = [
  `${NAMESPACE} ${NS}`,
  `${SA} ${NS}/inference`,
  `${SA} ${NS}/training`,
  `${D} ${NS}/inference`,
  `${SVC} ${NS}/inference`,
  `${ING} ${NS}/inference`,
  `${HPA} ${NS}/inference`,
  `${NP} ${NS}/inference`,
  `${NP} ${NS}/training`,
  `${CRON} ${NS}/training`,
].sort();

/** A Kubernetes object of the ConfigGroup (not the stack, a component or a provider). */
function isObject(s: Step): boolean {
  return (
    s.type.startsWith("kubernetes:") &&
    s.type !== CONFIG_GROUP &&
    !s.type.startsWith("pulumi:providers:")
  );
}

/** `op type name` of the steps on Kubernetes objects that change something. */
function objectChanges(r: Run): string[] {
  return changed(r.steps.filter(isObject));
}

/** The object name of a step, without any prefix the ConfigGroup may put in front of it. */
function objectName(s: Step): string {
  return s.name.slice(s.name.lastIndexOf(":") + 1);
}

function deploymentContainer(d: KubeObject): KubeObject {
  return d.spec.template.spec.containers[0] as KubeObject;
}

function envOf(container: KubeObject): Record<string, string> {
  return Object.fromEntries(
    (container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? ""]),
  );
}

let stack: E2eStack;
let deployed = false;
let removed = false;
let service: ServiceProcess | undefined;

async function up(label: string): Promise<Run> {
  const r = await stack.up();
  deployed = true;
  recordTiming(label, r.seconds, `${JSON.stringify(r.changes)}`);
  return r;
}

async function preview(label: string): Promise<Run> {
  const r = await stack.preview();
  recordTiming(label, r.seconds);
  return r;
}

beforeAll(async () => {
  applyContext();
  // A clean cluster: an earlier run's objects would make this one's creates fail (or pass by luck).
  const existing = await find("namespace", NS);
  if (existing) {
    throw new Error(
      `namespace ${NS} already exists in the e2e cluster (${process.env.KUBECONFIG}): the suite ` +
        "starts clean and never touches objects it did not create. Its own control plane: stop it " +
        "(scripts/control-plane.sh stop with the suite's MLOPS_STATE_DIR); MLOPS_E2E_KUBE_CONTEXT: " +
        `delete the namespace or use another cluster`,
    );
  }
  stack = await E2eStack.create();
}, 120000);

afterAll(
  async () => {
    await service?.stop();
    if (!stack) return;
    try {
      if (deployed) await stack.destroy();
      if (!removed) await stack.remove();
    } catch (err) {
      process.stderr.write(`[e2e] cleanup: ${String(err)}\n`);
    } finally {
      stack.cleanUp();
    }
  },
  15 * 60 * 1000,
);

describe("deploy: preview, up, and the cluster read back", () => {
  let firstPreview: Run;

  test("preview --diff lists the ConfigGroup and the create of every object in it, nothing else", async () => {
    firstPreview = await preview("preview (first, empty stack)");
    const creates = firstPreview.steps.filter((s) => s.op === "create");
    expect(creates.some((s) => s.type === CONFIG_GROUP && s.name === "mlops-manifests")).toBe(true);
    expect(
      creates
        .filter(isObject)
        .map((s) => `${s.type} ${objectName(s)}`)
        .sort(),
    ).toEqual(LOCAL_OBJECTS);
    // A first deployment only creates.
    expect(firstPreview.steps.filter((s) => s.op !== "create" && s.op !== "same")).toEqual([]);
    // The engine's summary counts resources, not its default providers.
    expect(firstPreview.changes.create).toBe(
      creates.filter((s) => !s.type.startsWith("pulumi:providers:")).length,
    );
    expect(firstPreview.stdout).toMatch(/\+ .*kubernetes:apps\/v1:Deployment/);
  });

  test("up creates what the preview listed", async () => {
    const r = await up("up (create)");
    expect(r.changes.create).toBe(firstPreview.changes.create);
    recordTiming("resources created", 0, `${r.changes.create} resources`);
  });

  test("Namespace, ServiceAccounts: created with the platform labels, tokens not automounted", async () => {
    const ns = await get("namespace", NS);
    expect(ns.metadata.labels).toMatchObject({ "app.kubernetes.io/part-of": "mlops-platform" });
    expect(ns.status.phase).toBe("Active");
    for (const name of ["inference", "training"]) {
      const sa = await get("serviceaccount", name, NS);
      expect(sa.automountServiceAccountToken).toBe(false);
      expect(sa.metadata.labels).toMatchObject({
        "app.kubernetes.io/instance": STACK_NAME,
        "app.kubernetes.io/managed-by": "pulumi",
      });
    }
  });

  test("Deployment inference: Available, the pinned image, hardened, probes on the OIP health routes", async () => {
    const d = await waitFor("Deployment inference Available", async () => {
      const obj = await get("deployment", "inference", NS);
      return condition(obj, "Available") === "True" ? obj : undefined;
    });
    expect(d.status.readyReplicas).toBeGreaterThanOrEqual(1);
    const c = deploymentContainer(d);
    expect(c.image).toBe("mlops-inference:0.1.0");
    expect(c.ports).toEqual([expect.objectContaining({ containerPort: 8080, name: "http" })]);
    expect(envOf(c)).toMatchObject({
      PORT: "8080",
      MODEL_PINS: "mpg-regressor=1,penguin-classifier=1",
    });
    expect(c.readinessProbe.httpGet).toMatchObject({ path: "/v2/health/ready", port: 8080 });
    expect(c.startupProbe.httpGet).toMatchObject({ path: "/v2/health/ready", port: 8080 });
    expect(c.livenessProbe.httpGet).toMatchObject({ path: "/v2/health/live", port: 8080 });
    expect(c.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(d.spec.template.spec.serviceAccountName).toBe("inference");
    expect(d.spec.selector.matchLabels).toMatchObject({ "mlops-platform/track": "stable" });
    // Its pods run (kwok) on the general node, never on the training pool.
    const pods = await list("pods", ["-n", NS, "-l", "mlops-platform/track=stable"]);
    expect(pods.length).toBeGreaterThanOrEqual(1);
    for (const p of pods) expect(p.spec.nodeName).toBe("mlops-node-1");
  });

  test("Service, Ingress, HPA route and scale the stable track", async () => {
    const svc = await get("service", "inference", NS);
    expect(svc.spec.type).toBe("ClusterIP");
    expect(svc.spec.ports).toEqual([
      expect.objectContaining({ name: "http", port: 80, targetPort: 8080, protocol: "TCP" }),
    ]);
    expect(svc.spec.selector).toMatchObject({
      "app.kubernetes.io/instance": STACK_NAME,
      "mlops-platform/track": "stable",
    });

    const ing = await get("ingress", "inference", NS);
    expect(ing.spec.ingressClassName).toBe("nginx");
    expect(ing.spec.tls).toBeUndefined();
    expect(ing.spec.rules).toEqual([
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

    const hpa = await get("hpa", "inference", NS);
    expect(hpa.spec).toMatchObject({
      minReplicas: 1,
      maxReplicas: 3,
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "inference" },
    });
    expect(hpa.spec.metrics).toEqual([
      {
        type: "Resource",
        resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
      },
    ]);
    expect(await find("pdb", "inference", NS)).toBeUndefined();
  });

  test("CronJob training: tolerates the training taint and requires the training pool", async () => {
    const cj = await get("cronjob", "training", NS);
    expect(cj.spec.schedule).toBe("0 3 * * *");
    expect(cj.spec.suspend).toBe(false);
    expect(cj.spec.concurrencyPolicy).toBe("Forbid");
    const pod = cj.spec.jobTemplate.spec.template.spec;
    expect(pod.tolerations).toEqual([
      { key: "mlops-platform/pool", operator: "Equal", value: "training", effect: "NoSchedule" },
    ]);
    expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
      nodeSelectorTerms: [
        {
          matchExpressions: [{ key: "mlops-platform/pool", operator: "In", values: ["training"] }],
        },
      ],
    });
    expect(pod.containers[0].resources.requests).toEqual({ cpu: "500m", memory: "512Mi" });
    expect(pod.containers[0].command).toEqual(["node", "dist/train/main.js", "--out", "/models"]);
  });

  test("NetworkPolicies: only the ingress controller and the scraper reach 8080; nothing reaches training", async () => {
    const inference = await get("networkpolicy", "inference", NS);
    expect(inference.spec.policyTypes).toEqual(["Ingress"]);
    expect(inference.spec.podSelector.matchLabels).toEqual({
      "app.kubernetes.io/name": "mlops-inference",
      "app.kubernetes.io/instance": STACK_NAME,
      "app.kubernetes.io/component": "inference",
    });
    expect(inference.spec.ingress).toEqual(
      ["ingress-nginx", "monitoring"].map((ns) => ({
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } }],
        ports: [{ protocol: "TCP", port: 8080 }],
      })),
    );
    const training = await get("networkpolicy", "training", NS);
    expect(training.spec.policyTypes).toEqual(["Ingress"]);
    expect(training.spec.ingress ?? []).toEqual([]);
    expect(training.spec.podSelector.matchLabels).toMatchObject({
      "app.kubernetes.io/component": "training",
    });
  });

  test("stack outputs describe the deployment", async () => {
    const out = await stack.outputs();
    expect(out).toEqual({
      endpointUrl: "http://mlops.localtest.me/",
      namespace: NS,
      imageRef: "mlops-inference:0.1.0",
      modelVersions: { "mpg-regressor": "1", "penguin-classifier": "1" },
      modelStoreUrl: `emptyDir://${NS}/training`,
      kubeconfig: "",
      registryLoginServer: "",
      trainingPool: { name: "", minCount: 0, maxCount: 0 },
      release: {
        strategy: "rolling",
        serving: "stable",
        canaryWeight: 0,
        tracks: { stable: "mlops-inference:0.1.0" },
      },
    });
  });
});

describe("the service as a local process, configured from the deployed Deployment", () => {
  test("serves the routes its probes and the stack's endpoint describe, one inference per model", async () => {
    await runOk("npm", ["run", "build", "-w", "service"], { cwd: REPO_ROOT, timeoutMs: 300000 });
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-models-"));
    try {
      await runOk(
        process.execPath,
        [path.join(SERVICE_DIR, "dist/train/main.js"), "--out", modelDir],
        {
          cwd: SERVICE_DIR,
          timeoutMs: 300000,
        },
      );
      const d = await get("deployment", "inference", NS);
      const c = deploymentContainer(d);
      const env = envOf(c);
      const out = await stack.outputs();
      const endpoint = out.endpointUrl as string;
      const models = out.modelVersions as Record<string, string>;
      // The route contract: the Service's targetPort is the container port the service listens on.
      const svc = await get("service", "inference", NS);
      expect(svc.spec.ports[0].targetPort).toBe(Number(env.PORT));

      service = startService({ ...env, MODEL_DIR: modelDir, LOG_LEVEL: "warn" }, await freePort());
      const port = service.port;
      const probe = (p: KubeObject) => new URL(p.httpGet.path as string, endpoint).toString();
      await waitFor(
        "the readiness probe's route to answer 200",
        async () =>
          (await request(port, probe(c.readinessProbe))).status === 200 ? true : undefined,
        30000,
        250,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nservice output:\n${service?.output()}`);
      });
      for (const p of [c.startupProbe, c.readinessProbe, c.livenessProbe]) {
        expect(await request(port, probe(p))).toMatchObject({ status: 200 });
      }
      expect((await request(port, new URL("v2/health/ready", endpoint).toString())).body).toEqual({
        ready: true,
      });

      // Every model the stack says it serves, at the version it pins, answers one inference.
      expect(Object.keys(models).sort()).toEqual(["mpg-regressor", "penguin-classifier"]);
      for (const [name, version] of Object.entries(models)) {
        const meta = await request(port, new URL(`v2/models/${name}`, endpoint).toString());
        expect(meta.status).toBe(200);
        expect(meta.body.versions).toContain(version);
        const ready = await request(port, new URL(`v2/models/${name}/ready`, endpoint).toString());
        expect(ready).toMatchObject({ status: 200, body: { name, ready: true } });
        // One row built from the model's own metadata: the training minimum, the first category.
        const inputs = (meta.body.inputs as KubeObject[]).map((i) => ({
          name: i.name,
          shape: [1],
          datatype: i.datatype,
          data: [i.datatype === "BYTES" ? i.parameters.categories[0] : i.parameters.training_min],
        }));
        const infer = await request(port, new URL(`v2/models/${name}/infer`, endpoint).toString(), {
          method: "POST",
          body: { id: `e2e-${name}`, inputs },
        });
        expect(infer.status).toBe(200);
        expect(infer.body).toMatchObject({
          model_name: name,
          model_version: version,
          id: `e2e-${name}`,
        });
        const predict = (infer.body.outputs as KubeObject[]).find((o) => o.name === "predict");
        expect(predict).toMatchObject({ shape: [1] });
        expect(predict!.data).toHaveLength(1);
      }
      expect(await service.stop()).toBe(0);
      service = undefined;
    } finally {
      fs.rmSync(modelDir, { recursive: true, force: true });
    }
  });
});

describe("changes: the preview names exactly what changes, up applies it", () => {
  test("a second preview reports no changes", async () => {
    const r = await preview("preview (no changes)");
    expect(changed(r.steps)).toEqual([]);
    expect(Object.keys(r.changes)).toEqual(["same"]);
  });

  test("app.replicas 1 -> 2: Deployment (spread) and HPA (floor) update, the PDB is created", async () => {
    stack.configure((c) => {
      c["mlops:app"].replicas = 2;
    });
    const r = await preview("preview (replicas 1 -> 2)");
    expect(objectChanges(r)).toEqual(
      [
        `update ${D} ${NS}/inference`,
        `update ${HPA} ${NS}/inference`,
        `create ${PDB} ${NS}/inference`,
      ].sort(),
    );
    await up("up (replicas 1 -> 2)");
    const pdb = await get("pdb", "inference", NS);
    expect(pdb.spec).toMatchObject({
      maxUnavailable: 1,
      selector: { matchLabels: { "mlops-platform/track": "stable" } },
    });
    expect((await get("hpa", "inference", NS)).spec.minReplicas).toBe(2);
    const d = await get("deployment", "inference", NS);
    expect(
      d.spec.template.spec.topologySpreadConstraints.map((t: KubeObject) => t.topologyKey),
    ).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
    // The HPA (the controller-manager's) raises the Deployment to its new floor.
    await waitFor(
      "the Deployment to reach 2 ready replicas",
      async () =>
        (await get("deployment", "inference", NS)).status.readyReplicas === 2 ? true : undefined,
      120000,
      2000,
    );
  });

  test("a new image tag: only the objects that run the image update", async () => {
    stack.configure((c) => {
      c["mlops:image"].ref = "mlops-inference:0.1.1";
    });
    const r = await preview("preview (image tag)");
    // Back to 1 replica removes the PDB; the image changes the Deployment, its HPA (version
    // label) and the CronJob; nothing else.
    const changes = objectChanges(r);
    expect(changes).toContain(`update ${D} ${NS}/inference`);
    expect(changes).toContain(`update ${CRON} ${NS}/training`);
    expect(changes).toContain(`delete ${PDB} ${NS}/inference`);
    expect(
      changes.filter((l) => / kubernetes:(core\/v1:(Service|Namespace)|networking)/.test(l)),
    ).toEqual([]);
    await up("up (image tag)");
    expect(deploymentContainer(await get("deployment", "inference", NS)).image).toBe(
      "mlops-inference:0.1.1",
    );
    const cj = await get("cronjob", "training", NS);
    expect(cj.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(
      "mlops-inference:0.1.1",
    );
    expect(await find("pdb", "inference", NS)).toBeUndefined();
  });
});

describe("release strategies on the real engine", () => {
  test("blueGreen: switching blue -> green previews one update, of the Service, and up applies it", async () => {
    const green = "mlops-inference:0.2.0";
    const blueGreen = (active: string) =>
      stack.configure((c) => {
        c["mlops:release"] = { strategy: "blueGreen", active, green: { image: green } };
      });
    blueGreen("blue");
    await up("up (blueGreen, blue)");
    expect(deploymentContainer(await get("deployment", "inference-blue", NS)).image).toBe(
      "mlops-inference:0.1.0",
    );
    expect(deploymentContainer(await get("deployment", "inference-green", NS)).image).toBe(green);
    expect(await find("deployment", "inference", NS)).toBeUndefined();
    expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
      "blue",
    );

    blueGreen("green");
    const r = await preview("preview (blue -> green)");
    expect(objectChanges(r)).toEqual([`update ${SVC} ${NS}/inference`]);
    await up("up (blue -> green)");
    expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
      "green",
    );
    expect((await stack.outputs()).release).toEqual({
      strategy: "blueGreen",
      serving: "green",
      canaryWeight: 0,
      tracks: { blue: "mlops-inference:0.1.0", green },
    });
  });

  test("blueGreen: rolling back green -> blue is one update of the Service; no Deployment or pod changes", async () => {
    // What runs before the rollback: both colours' Deployments (their spec generation) and pods.
    const snapshot = async () => ({
      generations: Object.fromEntries(
        await Promise.all(
          ["inference-blue", "inference-green"].map(
            async (n) => [n, (await get("deployment", n, NS)).metadata.generation] as const,
          ),
        ),
      ),
      pods: (await list("pods", ["-n", NS, "-l", "mlops-platform/track in (blue,green)"]))
        .filter((p) => !p.metadata.deletionTimestamp)
        .map((p) => `${p.metadata.name} ${p.metadata.uid}`)
        .sort(),
    });
    const before = await snapshot();
    expect(before.pods.length).toBeGreaterThanOrEqual(2);

    stack.configure((c) => {
      c["mlops:release"] = {
        strategy: "blueGreen",
        active: "blue",
        green: { image: "mlops-inference:0.2.0" },
      };
    });
    const r = await preview("preview (rollback green -> blue)");
    expect(objectChanges(r)).toEqual([`update ${SVC} ${NS}/inference`]);
    await up("up (rollback to blue)");
    expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
      "blue",
    );
    expect(await snapshot()).toEqual(before);
  });

  test("canary: a weight change previews one update, of the canary Ingress, and up applies it", async () => {
    const canary = (weight: number) =>
      stack.configure((c) => {
        c["mlops:release"] = {
          strategy: "canary",
          canary: { image: "mlops-inference:0.2.0", weight },
        };
      });
    canary(10);
    await up("up (canary 10%)");
    const ing = await get("ingress", "inference-canary", NS);
    expect(ing.metadata.annotations).toMatchObject({
      "nginx.ingress.kubernetes.io/canary": "true",
      "nginx.ingress.kubernetes.io/canary-weight": "10",
    });
    expect(ing.spec.rules[0].http.paths[0].backend.service.name).toBe("inference-canary");
    expect(
      (await get("service", "inference-canary", NS)).spec.selector["mlops-platform/track"],
    ).toBe("canary");

    canary(30);
    const r = await preview("preview (canary 10% -> 30%)");
    expect(objectChanges(r)).toEqual([`update ${ING} ${NS}/inference-canary`]);
    await up("up (canary 30%)");
    expect(
      (await get("ingress", "inference-canary", NS)).metadata.annotations?.[
        "nginx.ingress.kubernetes.io/canary-weight"
      ],
    ).toBe("30");
    expect((await stack.outputs()).release).toMatchObject({ strategy: "canary", canaryWeight: 30 });
  });
});

describe("policy pack on the real engine", () => {
  test("the local config passes; a LoadBalancer Service is stopped by k8s-no-load-balancer-service", async () => {
    stack.configure(() => undefined);
    const options = { policyPacks: [POLICY_PACK], policyPackConfigs: [POLICY_CONFIG] };
    const ok = await stack.preview(options);
    recordTiming("preview with policy pack", ok.seconds);
    expect(ok.policy.filter((p) => p.enforcementLevel === "mandatory")).toEqual([]);

    stack.configure((c) => {
      c["mlops:app"].serviceType = "LoadBalancer";
    });
    const bad = await stack.failingPreview(options);
    const violations = bad.policy.filter((p) => p.enforcementLevel === "mandatory");
    expect(violations.map((p) => p.policyName)).toEqual(["k8s-no-load-balancer-service"]);
    expect(violations[0].resourceUrn).toMatch(
      /kubernetes:core\/v1:Service::(.*:)?mlops\/inference$/,
    );
    expect(bad.message).toMatch(/k8s-no-load-balancer-service/);
  });
});

describe("promotion from the deployed stack", () => {
  let projectDir: string;
  let prodBefore: string;

  beforeAll(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-promote-"));
    fs.copyFileSync(
      path.join(stack.projectDir, "Pulumi.yaml"),
      path.join(projectDir, "Pulumi.yaml"),
    );
    prodBefore = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8");
    fs.writeFileSync(path.join(projectDir, "Pulumi.prod.yaml"), prodBefore);
  });
  afterAll(() => fs.rmSync(projectDir, { recursive: true, force: true }));

  const promote = () =>
    run(
      "npm",
      [
        "run",
        "--silent",
        "promote",
        "--",
        "--from",
        STACK_NAME,
        "--to",
        "prod",
        "--project-dir",
        projectDir,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, ...stack.envVars }, timeoutMs: 180000 },
    );

  test("refuses the local stack's tag, read from its real outputs, and writes nothing", async () => {
    stack.configure(() => undefined);
    await up("up (back to local config)");
    const r = await promote();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `stack "${STACK_NAME}" runs image "mlops-inference:0.1.0", which is not a digest reference`,
    );
    expect(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")).toBe(prodBefore);
  });

  test("moves the deployed digest and model versions into the prod stack file", async () => {
    stack.configure((c) => {
      c["mlops:image"].ref = DIGEST_REF;
      c["mlops:app"].models = { "mpg-regressor": "2", "penguin-classifier": "1" };
    });
    await up("up (digest-pinned image)");
    expect(deploymentContainer(await get("deployment", "inference", NS)).image).toBe(DIGEST_REF);
    const r = await promote();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const after = fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8");
    expect(after).toContain(`    ref: ${DIGEST_REF}\n`);
    expect(after).toMatch(/models:\n {6}mpg-regressor: "2"\n {6}penguin-classifier: "1"\n/);
    // Only those two keys move: every other line of the file stays.
    const removed = prodBefore.split("\n").filter((l) => !after.split("\n").includes(l));
    expect(removed).toEqual([
      "    ref: mlopsplatformdev.azurecr.io/mlops-inference@sha256:0000000000000000000000000000000000000000000000000000000000000000",
      '      mpg-regressor: "1"',
    ]);
  });
});

describe("destroy", () => {
  test("leaves no object of the stack in the cluster, and the stack is removed", async () => {
    const r = await stack.destroy();
    deployed = false;
    recordTiming("destroy", r.seconds, JSON.stringify(r.changes));
    expect(r.changes.delete).toBeGreaterThanOrEqual(LOCAL_OBJECTS.length);

    const ns = await find("namespace", NS);
    if (ns) {
      // Terminating: the namespace controller is removing what the cluster itself put there.
      expect(ns.status.phase).toBe("Terminating");
    }
    expect(
      await allNamespacedObjects(NS).then((objs) =>
        objs.filter((o) => !/^(configmap\/kube-root-ca\.crt|serviceaccount\/default)$/.test(o)),
      ),
    ).toEqual([]);
    // Cluster-scoped: the Namespace (labelled part-of only) and anything else of the platform.
    const labelled = await list("namespaces,persistentvolumes,clusterroles,clusterrolebindings", [
      "-l",
      "app.kubernetes.io/part-of=mlops-platform",
    ]);
    expect(labelled.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    if (ns) {
      await waitFor(
        "namespace mlops to be gone",
        async () => ((await find("namespace", NS)) ? undefined : true),
        120000,
        2000,
      );
    }

    await stack.remove();
    removed = true;
    const ws = await LocalWorkspace.create({ workDir: stack.projectDir, envVars: stack.envVars });
    expect((await ws.listStacks()).map((s) => s.name)).not.toContain(STACK_NAME);
  });
});
