/**
 * The real engine against a real cluster: the `local` stack's config as stack `e2e`, through the
 * Automation API, on the suite's own cluster with real nodes (kubelet + containerd: containers
 * run, probes are probed, kube-proxy routes the Service). Traffic goes to the Service's node port
 * on 127.0.0.1 only, bounded in count and time. Tests run in order: each builds on the state the
 * previous one left (one stack, one cluster), and afterAll always destroys what is left.
 *
 * The fixture (platform/fixture.ts) holds the stack and what the blocks hand on to each other, and
 * registers the beforeAll and afterAll; the blocks below run in the order they are written, those of a module under platform/ registered through it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as auth from "./platform/auth";
import * as deploy from "./platform/deploy";
import * as edge from "./platform/edge";
import {
  platformFixture,
  NS,
  BASE,
  D,
  HPA,
  PDB,
  CRON,
  objectChanges,
  SVC,
  ROUTE,
  GRPC_ROUTE,
  TRAINING_NODE,
  APP_NODE,
  LOCAL_OBJECTS,
  isObject,
  objectName,
} from "./platform/fixture";
import * as monitoring from "./platform/monitoring";
import * as serving from "./platform/serving";
import { recordTiming, REPO_ROOT, type E2eContext } from "./support/context";
import { gatewayRequest, splitThroughGateway } from "./support/gateway";
import {
  find,
  get,
  waitFor,
  type KubeObject,
  deploymentContainer,
  condition,
  list,
  kubectl,
  allNamespacedObjects,
} from "./support/kube";
import { run, runOk } from "./support/proc";
import { changed, STACK_NAME } from "./support/stack";
import { underLoad, versionsNow, report, credentialHeaders } from "./support/traffic";

const platform = platformFixture();

deploy.register(platform);

auth.register(platform);

serving.register(platform);

edge.register(platform);

monitoring.register(platform);

describe("changes: the preview names exactly what changes, up applies it", () => {
  test("a second preview reports no changes", async () => {
    const r = await platform.preview("preview (no changes)");
    expect(changed(r.steps)).toEqual([]);
    expect(Object.keys(r.changes)).toEqual(["same"]);
  });

  test("app.replicas 1 -> 2: Deployment (spread) and HPA (floor) update, the PDB is created", async () => {
    platform.stack.configure((c) => {
      c["mlops:app"].replicas = 2;
    });
    const r = await platform.preview("preview (replicas 1 -> 2)");
    expect(objectChanges(r)).toEqual(
      [
        `update ${D} ${NS}/inference`,
        `update ${HPA} ${NS}/inference`,
        `create ${PDB} ${NS}/inference`,
      ].sort(),
    );
    await platform.up("up (replicas 1 -> 2)");
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

  test("a new image tag: only the objects that run the image update; the rollout under load fails no request", async () => {
    platform.stack.configure((c) => {
      c["mlops:image"].ref = "mlops-inference:0.1.1";
    });
    const r = await platform.preview("preview (image tag)");
    // Back to 1 replica removes the PDB; the image changes the Deployment, its HPA (version
    // label) and the CronJob; nothing else.
    expect(objectChanges(r)).toEqual(
      [
        `delete ${PDB} ${NS}/inference`,
        `update ${D} ${NS}/inference`,
        `update ${HPA} ${NS}/inference`,
        `update ${CRON} ${NS}/training`,
      ].sort(),
    );
    const { traffic } = await underLoad(BASE, () => platform.up("up (image tag)"));
    report("rolling update 0.1.0 -> 0.1.1 under load", traffic);
    expect(traffic.failures).toEqual([]);
    expect(traffic.failed).toBe(0);
    // Both releases answered during the rollout, and only the new one after it.
    expect(Object.keys(traffic.versions).sort()).toEqual(["0.1.0", "0.1.1"]);
    expect(traffic.sequence[0]).toBe("0.1.0");
    // `up` returns when the rollout is complete; the old pod may still be leaving the Service's
    // endpoints (kube-proxy syncs within seconds), so "only the new one" is awaited, bounded.
    await waitFor(
      "only 0.1.1 to answer through the Service",
      async () => {
        const seen = new Set(await versionsNow(BASE));
        return seen.size === 1 && seen.has("0.1.1") ? true : undefined;
      },
      30000,
      1000,
    );
    expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.1.1"]));
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

/** Requests the canary split is measured over, through the Gateway. */
const SPLIT_REQUESTS = 400;

/** `hits` of `n` is within 4 standard deviations of a binomial(n, p) mean. */
function expectBinomial(hits: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(hits - n * p)).toBeLessThanOrEqual(4 * sd);
}

/** `pod restarts` of every pod of the stack's namespace. */
async function restarts(): Promise<string[]> {
  const pods = await list("pods", ["-n", NS]);
  return pods
    .filter((p) => !p.metadata.deletionTimestamp && p.status.phase === "Running")
    .map(
      (p) =>
        `${p.metadata.name} ${((p.status.containerStatuses ?? []) as KubeObject[]).reduce((n, c) => n + (c.restartCount as number), 0)}`,
    )
    .sort();
}

describe("release strategies on the real engine", () => {
  test("blueGreen: switching blue -> green previews one update, of the Service, and up applies it", async () => {
    const green = "mlops-inference:0.2.0";
    const blueGreen = (active: string) =>
      platform.stack.configure((c) => {
        c["mlops:release"] = { strategy: "blueGreen", active, green: { image: green } };
      });
    blueGreen("blue");
    await platform.up("up (blueGreen, blue)");
    expect(deploymentContainer(await get("deployment", "inference-blue", NS)).image).toBe(
      "mlops-inference:0.1.0",
    );
    expect(deploymentContainer(await get("deployment", "inference-green", NS)).image).toBe(green);
    expect(await find("deployment", "inference", NS)).toBeUndefined();
    expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
      "blue",
    );

    // Both colours run and answer before the switch; the Service still sends everything to blue.
    await waitFor(
      "both colours' Deployments Available",
      async () => {
        const ds = await Promise.all(
          ["inference-blue", "inference-green"].map((n) => get("deployment", n, NS)),
        );
        return ds.every((d) => condition(d, "Available") === "True") ? true : undefined;
      },
      180000,
      1000,
    );
    expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.1.0"]));

    blueGreen("green");
    const r = await platform.preview("preview (blue -> green)");
    expect(objectChanges(r)).toEqual([`update ${SVC} ${NS}/inference`]);
    const restartsBefore = await restarts();
    // The user's path: through the Gateway (the route's backend is the Service that switches).
    const gateway = await platform.edge();
    const { traffic } = await underLoad(BASE, () => platform.up("up (blue -> green)"), {
      send: (p, body) => gatewayRequest(gateway, p, { body, headers: credentialHeaders() }),
    });
    report("blue-green switch blue -> green under load, through the Gateway", traffic);
    expect(traffic.failures).toEqual([]);
    expect(traffic.failed).toBe(0);
    expect(traffic.sequence[0]).toBe("0.1.0");
    expect(Object.keys(traffic.versions).sort()).toEqual(["0.1.0", "0.2.0"]);
    expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.2.0"]));
    expect(await restarts()).toEqual(restartsBefore);
    expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
      "green",
    );
    expect((await platform.stack.outputs()).release).toEqual({
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

    platform.stack.configure((c) => {
      c["mlops:release"] = {
        strategy: "blueGreen",
        active: "blue",
        green: { image: "mlops-inference:0.2.0" },
      };
    });
    const r = await platform.preview("preview (rollback green -> blue)");
    expect(objectChanges(r)).toEqual([`update ${SVC} ${NS}/inference`]);
    const { traffic } = await underLoad(BASE, () => platform.up("up (rollback to blue)"));
    report("blue-green rollback green -> blue under load", traffic);
    expect(traffic.failures).toEqual([]);
    expect(traffic.failed).toBe(0);
    expect(traffic.sequence[0]).toBe("0.2.0");
    expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.1.0"]));
    expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
      "blue",
    );
    expect(await snapshot()).toEqual(before);
    expect((await restarts()).every((line) => line.endsWith(" 0"))).toBe(true);
  });

  test("canary: the HTTPRoute weights the stable and canary Services; a weight change and an abort each preview one update of each route (HTTP and gRPC)", async () => {
    const canary = (weight: number) =>
      platform.stack.configure((c) => {
        c["mlops:release"] = {
          strategy: "canary",
          canary: { image: "mlops-inference:0.2.0", weight },
        };
      });
    const weights = async () =>
      ((await get("httproute", "inference", NS)).spec.rules as KubeObject[]).map((rule) =>
        (rule.backendRefs as KubeObject[]).map((b) => `${b.name}:${b.port}=${b.weight}`),
      );
    canary(10);
    await platform.up("up (canary 10%)");
    expect(await weights()).toEqual([["inference:80=90", "inference-canary:80=10"]]);
    const canarySvc = await get("service", "inference-canary", NS);
    expect(canarySvc.spec.selector["mlops-platform/track"]).toBe("canary");
    await waitFor(
      "the canary Deployment Available",
      async () =>
        condition(await get("deployment", "inference-canary", NS), "Available") === "True"
          ? true
          : undefined,
      180000,
      1000,
    );
    // Each backend of the route answers with its own release: stable through the main Service,
    // canary through its own.
    expect(new Set(await versionsNow(BASE, 10))).toEqual(new Set(["0.1.0"]));
    const canaryPort = (canarySvc.spec.ports as KubeObject[])[0].nodePort as number;
    expect(new Set(await versionsNow(`http://127.0.0.1:${canaryPort}/`, 10))).toEqual(
      new Set(["0.2.0"]),
    );

    canary(30);
    const r = await platform.preview("preview (canary 10% -> 30%)");
    expect(objectChanges(r)).toEqual([
      `update ${GRPC_ROUTE} ${NS}/inference`,
      `update ${ROUTE} ${NS}/inference`,
    ]);
    await platform.up("up (canary 30%)");
    expect(await weights()).toEqual([["inference:80=70", "inference-canary:80=30"]]);
    expect((await platform.stack.outputs()).release).toMatchObject({
      strategy: "canary",
      canaryWeight: 30,
    });
    // Through the data plane: each request on a new connection, the route's weights decide.
    const gateway = await platform.edge();
    const split = await waitFor(
      "the data plane to take the new weights",
      async () => {
        const r = await splitThroughGateway(gateway, SPLIT_REQUESTS, credentialHeaders());
        return r.counts["0.2.0"] !== undefined && r.counts["0.2.0"] > SPLIT_REQUESTS / 5
          ? r
          : undefined;
      },
      60000,
      1000,
    );
    process.stderr.write(
      `[e2e] canary 30% through the Gateway: ${SPLIT_REQUESTS} requests, ${JSON.stringify(split.counts)} (expected 30% = ${0.3 * SPLIT_REQUESTS} +- ${(4 * Math.sqrt(SPLIT_REQUESTS * 0.21)).toFixed(0)}), ${split.failed} failed\n`,
    );
    recordTiming("canary 30% through the Gateway", 0, JSON.stringify(split.counts));
    expect(split.failed).toBe(0);
    expect(Object.keys(split.counts).sort()).toEqual(["0.1.0", "0.2.0"]);
    expectBinomial(split.counts["0.2.0"], SPLIT_REQUESTS, 0.3);

    // Abort: the canary keeps running but the route sends it nothing.
    canary(0);
    const abort = await platform.preview("preview (canary abort: weight 0)");
    expect(objectChanges(abort)).toEqual([
      `update ${GRPC_ROUTE} ${NS}/inference`,
      `update ${ROUTE} ${NS}/inference`,
    ]);
    await platform.up("up (canary 0%)");
    expect(await weights()).toEqual([["inference:80=100", "inference-canary:80=0"]]);
    expect(condition(await get("deployment", "inference-canary", NS), "Available")).toBe("True");
    const stable = await waitFor(
      "the data plane to send the canary nothing",
      async () => {
        const r = await splitThroughGateway(gateway, 200, credentialHeaders());
        return r.counts["0.2.0"] === undefined ? r : undefined;
      },
      60000,
      1000,
    );
    process.stderr.write(`[e2e] canary 0% through the Gateway: ${JSON.stringify(stable)}\n`);
    expect(stable).toEqual({ failed: 0, counts: { "0.1.0": 200 } });
  });
});

describe("training: a Job from the CronJob runs on the training node", () => {
  /** A Job from the CronJob's template (as `kubectl create job --from=cronjob/training`), with
   * extra environment; waits until it completes or fails; returns it with its pods' logs. */
  async function trainingJob(name: string, env: Record<string, string> = {}) {
    const job = JSON.parse(
      await kubectl(
        "create",
        "job",
        name,
        "-n",
        NS,
        "--from=cronjob/training",
        "--dry-run=client",
        "-o",
        "json",
      ),
    ) as KubeObject;
    const container = job.spec.template.spec.containers[0] as KubeObject;
    container.env = [
      ...((container.env ?? []) as KubeObject[]),
      ...Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
    ];
    const file = path.join(os.tmpdir(), `mlops-e2e-${name}.json`);
    fs.writeFileSync(file, JSON.stringify(job));
    try {
      await kubectl("create", "-f", file);
    } finally {
      fs.rmSync(file, { force: true });
    }
    const started = Date.now();
    const done = await waitFor(
      `Job ${name} to complete or fail`,
      async () => {
        const j = await get("job", name, NS);
        return condition(j, "Complete") === "True" || condition(j, "Failed") === "True"
          ? j
          : undefined;
      },
      300000,
      2000,
    );
    const pods = await list("pods", ["-n", NS, "-l", `job-name=${name}`]);
    const logs = await Promise.all(pods.map((p) => kubectl("logs", "-n", NS, p.metadata.name)));
    recordTiming(
      `training Job ${name}`,
      (Date.now() - started) / 1000,
      condition(done, "Complete") === "True" ? "complete" : "failed",
    );
    return { job: done, pods, logs };
  }

  test("runs to completion on the training node; its log shows the held-out metrics and the gate passing", async () => {
    const { job, pods, logs } = await trainingJob("e2e-train");
    expect(condition(job, "Complete")).toBe("True");
    expect(pods.length).toBeGreaterThanOrEqual(1);
    for (const p of pods) {
      if (platform.ownCluster()) expect(p.spec.nodeName).toBe(TRAINING_NODE);
      // The pool's label and taint are what put it there.
      expect(p.spec.tolerations).toContainEqual({
        key: "mlops-platform/pool",
        operator: "Equal",
        value: "training",
        effect: "NoSchedule",
      });
    }
    const node = await get("node", pods[0].spec.nodeName as string);
    expect(node.metadata.labels?.["mlops-platform/pool"]).toBe("training");
    expect(node.spec.taints).toContainEqual({
      key: "mlops-platform/pool",
      value: "training",
      effect: "NoSchedule",
    });
    const log = logs.join("\n");
    expect(log).toMatch(/train: mpg-regressor@\S+ held-out .*r2=0\.\d+.*\(gate: r2 >= 0\.7\)/);
    expect(log).toMatch(
      /train: penguin-classifier@\S+ held-out .*accuracy=[01]\.\d+.*\(gate: accuracy >= 0\.9\)/,
    );
    expect(log).not.toMatch(/quality gate failed/);
    process.stderr.write(
      `[e2e] training log: ${log
        .split("\n")
        .filter((l) => l.includes("held-out"))
        .join(" | ")}\n`,
    );
    // Nothing else runs on the training node: only this Job's pods carry the toleration.
    if (platform.ownCluster()) {
      const onTraining = await list("pods", [
        "-A",
        "--field-selector",
        `spec.nodeName=${TRAINING_NODE}`,
      ]);
      expect(onTraining.map((p) => p.metadata.labels?.["job-name"])).toEqual(
        onTraining.map(() => "e2e-train"),
      );
    }
  });

  test("with the quality floor raised (MIN_R2=0.99) the Job fails with the gate's message", async () => {
    const { job, logs } = await trainingJob("e2e-train-gate", { MIN_R2: "0.99" });
    expect(condition(job, "Failed")).toBe("True");
    const log = logs.join("\n");
    expect(log).toContain("train: quality gate failed; no artifact was published");
    expect(log).toMatch(
      /mpg-regressor: held-out r2 0\.\d{4} is below the floor 0\.99 \(set with --min-r2\)/,
    );
  });
});

const POLICY_PACK = path.join(REPO_ROOT, "policy");
const POLICY_CONFIG = path.join(REPO_ROOT, "policy/config/local.json");

describe("policy pack on the real engine", () => {
  test("the local config passes; a LoadBalancer Service is stopped by k8s-no-load-balancer-service", async () => {
    platform.stack.configure(() => undefined);
    const options = { policyPacks: [POLICY_PACK], policyPackConfigs: [POLICY_CONFIG] };
    const ok = await platform.stack.preview(options);
    recordTiming("preview with policy pack", ok.seconds);
    expect(ok.policy.filter((p) => p.enforcementLevel === "mandatory")).toEqual([]);

    platform.stack.configure((c) => {
      c["mlops:app"].serviceType = "LoadBalancer";
    });
    const bad = await platform.stack.failingPreview(options);
    const violations = bad.policy.filter((p) => p.enforcementLevel === "mandatory");
    expect(violations.map((p) => p.policyName)).toEqual(["k8s-no-load-balancer-service"]);
    expect(violations[0].resourceUrn).toMatch(
      /kubernetes:core\/v1:Service::(.*:)?mlops\/inference$/,
    );
    expect(bad.message).toMatch(/k8s-no-load-balancer-service/);
  });
});

/**
 * The digest-pinned image the promotion step deploys: the 0.1.0 image by the digest the suite's
 * nodes hold it under, or MLOPS_E2E_DIGEST_REF (a digest your cluster can pull).
 */
function digestRef(context: E2eContext): string {
  const ref = process.env.MLOPS_E2E_DIGEST_REF ?? context.digestRef ?? "";
  if (!/^[^@\s]+@sha256:[0-9a-f]{64}$/.test(ref)) {
    throw new Error(
      `MLOPS_E2E_DIGEST_REF: got "${ref}"; expected <repository>@sha256:<64 hex digits> of mlops-inference:0.1.0 that the cluster can pull`,
    );
  }
  return ref;
}

describe("promotion from the deployed stack", () => {
  let projectDir: string;
  let prodBefore: string;

  beforeAll(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-promote-"));
    fs.copyFileSync(
      path.join(platform.stack.projectDir, "Pulumi.yaml"),
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
      { cwd: REPO_ROOT, env: { ...process.env, ...platform.stack.envVars }, timeoutMs: 180000 },
    );

  test("refuses the local stack's tag, read from its real outputs, and writes nothing", async () => {
    platform.stack.configure(() => undefined);
    await platform.up("up (back to local config)");
    const r = await promote();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `stack "${STACK_NAME}" runs image "mlops-inference:0.1.0", which is not a digest reference`,
    );
    expect(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")).toBe(prodBefore);
  });

  test("moves the deployed digest and model versions into the prod stack file", async () => {
    platform.stack.configure((c) => {
      c["mlops:image"].ref = digestRef(platform.context);
      c["mlops:app"].models = { "mpg-regressor": "2", "penguin-classifier": "1" };
    });
    await platform.up("up (digest-pinned image)");
    expect(deploymentContainer(await get("deployment", "inference", NS)).image).toBe(
      digestRef(platform.context),
    );
    const r = await promote();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const after = fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8");
    expect(after).toContain(`    ref: ${digestRef(platform.context)}\n`);
    expect(after).toMatch(/models:\n {6}mpg-regressor: "2"\n {6}penguin-classifier: "1"\n/);
    // Only those two keys move: every other line of the file stays.
    const removed = prodBefore.split("\n").filter((l) => !after.split("\n").includes(l));
    expect(removed).toEqual([
      "    ref: mlopsacr00000000.azurecr.io/mlops-inference@sha256:0000000000000000000000000000000000000000000000000000000000000000",
      '      mpg-regressor: "1"',
    ]);
  });
});

describe("credentials in logs", () => {
  test("no key of the run appears in any container log of the stack, or in the engine's output", async () => {
    expect(platform.seenKeys.length).toBeGreaterThanOrEqual(3);
    const pods = await list("pods", ["-n", NS]);
    let lines = 0;
    const leaks: string[] = [];
    for (const p of pods) {
      for (const c of (p.spec.containers as KubeObject[]).map((x) => x.name as string)) {
        const log = await kubectl("logs", "-n", NS, p.metadata.name, "-c", c).catch(() => "");
        lines += log.split("\n").length;
        for (const key of platform.seenKeys)
          if (log.includes(key)) leaks.push(`${p.metadata.name}/${c}`);
      }
    }
    const engine = (await platform.stack.preview()).stdout;
    for (const key of platform.seenKeys)
      if (engine.includes(key)) leaks.push("pulumi preview --diff output");
    process.stderr.write(
      `[e2e] ${platform.seenKeys.length} keys looked for in ${lines} log lines of ${pods.length} pods: ${leaks.length} found\n`,
    );
    expect(leaks).toEqual([]);
  });
});

/** Every container of a node's containerd (the suite's own cluster). */
async function nodeContainers(node: string): Promise<string[]> {
  const socket = (
    await runOk("bash", [path.join(REPO_ROOT, "scripts/control-plane.sh"), "socket", node], {
      timeoutMs: 30000,
    })
  ).stdout.trim();
  // The cluster's own data plane (namespace traefik) is not the stack's.
  const r = await runOk(
    "ctr",
    [
      "--address",
      socket,
      "-n",
      "k8s.io",
      "containers",
      "ls",
      "-q",
      `labels."io.kubernetes.pod.namespace"!=${DATA_PLANE_NS}`,
    ],
    { timeoutMs: 30000 },
  );
  return r.stdout.split("\n").filter(Boolean);
}

/** The local cluster's Gateway data plane (Traefik, scripts/control-plane/traefik.yaml). */
const DATA_PLANE_NS = "traefik";

describe("destroy", () => {
  test("leaves no object of the stack in the cluster, and the stack is removed", async () => {
    // What the stack holds now (a preview with no change lists every object as `same`).
    const held = (await platform.preview("preview (before destroy)")).steps
      .filter(isObject)
      .map((s) => `delete ${s.type} ${objectName(s)}`)
      .sort();
    expect(held.length).toBeGreaterThanOrEqual(LOCAL_OBJECTS.length);
    const r = await platform.stack.destroy();
    platform.deployed = false;
    recordTiming("destroy", r.seconds, JSON.stringify(r.changes));
    // Exactly those objects are deleted, by name.
    expect(objectChanges(r)).toEqual(held);

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

    // No pod, container or sandbox of the stack is left on the nodes.
    if (platform.ownCluster()) {
      await waitFor(
        "the nodes' containers of the stack to be removed",
        async () => {
          const left = [
            ...(await nodeContainers(APP_NODE)),
            ...(await nodeContainers(TRAINING_NODE)),
          ];
          return left.length === 0 ? true : undefined;
        },
        120000,
        2000,
      );
      expect(
        (await list("pods", ["-A"]))
          .filter((p) => p.metadata.namespace !== DATA_PLANE_NS)
          .map((p) => p.metadata.name),
      ).toEqual([]);
    }

    await platform.stack.remove();
    platform.removed = true;
    const ws = await LocalWorkspace.create({
      workDir: platform.stack.projectDir,
      envVars: platform.stack.envVars,
    });
    expect((await ws.listStacks()).map((s) => s.name)).not.toContain(STACK_NAME);
  });
});
