/**
 * The training pool from zero and back to zero under a real node autoscaler: Karpenter (its kwok
 * provider, v1.15.0, built by scripts/toolchain/build.sh karpenter) on an API-only control plane
 * of this file's own (scripts/control-plane.sh with MLOPS_NODES=kwok, MLOPS_TRAINING_NODE=none,
 * MLOPS_AUTOSCALER=karpenter; its own state dir and ports), with kwok playing the nodes Karpenter
 * creates and completing the Job's pod (scripts/control-plane/kwok-stages.yaml).
 *
 * One config for everything: the dev stack's (Pulumi.dev.yaml, the AKS training pool: 0–2 ×
 * Standard_D8s_v5, its training requests 2 CPU / 4 GiB), with `azure.scaleDownUnneededMinutes: 1`
 * (the schema's minimum, so the run is short) and `training.suspend: true` (the CronJob never
 * fires by itself) set through parseConfig. The NodePool comes from karpenterTrainingPool, the
 * CronJob and the inference Deployment from synthManifests, as `pulumi up` renders them (the
 * training volume is the emptyDir of a cluster without the Azure model store).
 *
 * Every figure is printed; timings come from polling the API every ~0.3 s (their resolution).
 */
import * as fs from "node:fs";
import { PRICE_TABLE, vmHourly } from "../../infra/azure/prices";
import { AZURE_DEFAULTS, parseConfig, type RawConfig } from "../../infra/config";
import { karpenterTrainingPool, KARPENTER_POOL_NAME } from "../../infra/k8s/karpenter";
import type { Manifest } from "../../infra/k8s/app";
import { synthManifests } from "../../infra/manifests";
import { readStackFile } from "../../tools/stack-file";
import {
  alive,
  AUTOSCALING_CONTROL_PLANE_ENV,
  AUTOSCALING_STATE_DIR,
  defaultPorts,
  logTail,
  NODE_SCRIPT,
  planePids,
  portsInUse,
  startPlane,
  stopPlane,
  toolchainDirs,
} from "./support/autoscaling";
import { CONTROL_PLANE_ENV } from "./support/context";
import { nodeOfRole } from "../support/node-table";
import {
  condition,
  kubectl,
  kubectlWithInput,
  list,
  waitFor,
  type KubeObject,
} from "./support/kube";

const POOL_LABEL = "mlops-platform/pool=training";
const GENERAL_NODE = nodeOfRole("app");
const POLL_MS = 300;

/** The dev stack's config with the test's two overrides, through the same validation. */
function devConfig(overrides: { training?: Record<string, unknown> } = {}) {
  const dev = readStackFile("dev") as Record<string, Record<string, unknown>>;
  return parseConfig({
    ...dev,
    azure: { ...dev.azure, scaleDownUnneededMinutes: 1 },
    training: { ...dev.training, suspend: true, ...overrides.training },
  } as RawConfig);
}

const config = devConfig();
const azure = config.azure ?? AZURE_DEFAULTS;
const [nodePool, nodeClass] = karpenterTrainingPool({
  pool: azure.trainingPool,
  scaleDownUnneededMinutes: azure.scaleDownUnneededMinutes,
  training: config.training,
});
const DELAY_S = azure.scaleDownUnneededMinutes * 60;
const manifests = synthManifests({ config, instance: "dev", image: "mlops-inference:0.1.0" });
const NS = config.app.namespace;
const pick = (ms: Manifest[], kind: string, name?: string): Manifest => {
  const m = ms.find((x) => x.kind === kind && (name === undefined || x.metadata.name === name));
  if (!m) throw new Error(`no ${kind} ${name ?? ""} in the rendered manifests`);
  return m;
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const say = (line: string) => process.stdout.write(`[autoscaling] ${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function apply(objects: readonly object[]): Promise<void> {
  const r = await kubectlWithInput(
    JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    "apply",
    "-f",
    "-",
  );
  if (r.code !== 0) throw new Error(`kubectl apply: ${r.stderr}`);
}

const trainingNodes = () => list("nodes", ["-l", POOL_LABEL]);
const nodeClaims = () => list("nodeclaims.karpenter.sh");

/** A Job as `kubectl create job --from=cronjob/...` makes it, from a rendered CronJob. */
function jobFrom(cj: Manifest, name: string): Obj {
  const spec = (cj as Obj).spec;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name,
      namespace: NS,
      labels: spec.jobTemplate.metadata?.labels ?? {},
      annotations: { "cronjob.kubernetes.io/instantiate": "manual" },
    },
    spec: spec.jobTemplate.spec,
  };
}

const podsOf = async (selector: string) => list("pods", ["-n", NS, "-l", selector]);

/** Events about one object, oldest first, as `reason (component): message`. */
async function eventsOf(kind: string, name: string, namespace?: string): Promise<Obj[]> {
  const ns = namespace ? ["-n", namespace] : ["-A"];
  const items = await list("events", [
    ...ns,
    "--field-selector",
    `involvedObject.kind=${kind},involvedObject.name=${name}`,
  ]);
  return items.sort((a, b) =>
    String(a.lastTimestamp ?? a.eventTime).localeCompare(String(b.lastTimestamp ?? b.eventTime)),
  );
}
const eventLine = (e: Obj) =>
  `${e.type} ${e.reason} (${e.source?.component ?? e.reportingComponent}): ${e.message}`;

let started = false;

beforeAll(async () => {
  const dirs = await toolchainDirs();
  process.env.PATH = `${dirs.kubeBin}:${process.env.PATH}`;
  delete process.env.MLOPS_KUBE_CONTEXT;
  started = true;
  const plane = await startPlane();
  process.env.KUBECONFIG = plane.kubeconfig;
  say(
    `control plane (API only, kwok nodes, no training node, Karpenter) started in ${plane.seconds.toFixed(1)} s on 127.0.0.1:${AUTOSCALING_CONTROL_PLANE_ENV.MLOPS_APISERVER_PORT}, state ${AUTOSCALING_STATE_DIR}`,
  );
}, 6 * 60000);

afterAll(async () => {
  if (!started) return;
  const pids = planePids();
  const left = await stopPlane();
  fs.rmSync(AUTOSCALING_STATE_DIR, { recursive: true, force: true });
  say(
    `stopped ${Object.keys(pids).join(", ") || "nothing"}; state dir removed: ${!fs.existsSync(AUTOSCALING_STATE_DIR)}`,
  );
  const listening = await portsInUse();
  say(
    `after stop: ${left.length} of its processes alive, ${listening.length} of its ports answering`,
  );
  expect(left).toEqual([]);
  expect(Object.values(pids).filter(alive)).toEqual([]);
  expect(listening).toEqual([]);
}, 3 * 60000);

test("its ports and state dir are neither the e2e suite's nor npm run up's", () => {
  const ours = Object.entries(AUTOSCALING_CONTROL_PLANE_ENV).filter(([k]) => k.endsWith("_PORT"));
  const defaults = defaultPorts();
  // Every port control-plane.sh takes from the environment is set here.
  expect(Object.keys(defaults).sort()).toEqual(ours.map(([k]) => k).sort());
  // Neither npm run up's (the defaults, its real nodes' too) nor the e2e suite's.
  const others = new Set([
    ...Object.values(defaults),
    ...Object.values(defaultPorts(NODE_SCRIPT)),
    ...Object.entries(CONTROL_PLANE_ENV)
      .filter(([k]) => k.endsWith("_PORT"))
      .map(([, v]) => v),
  ]);
  expect(ours.filter(([, port]) => others.has(port))).toEqual([]);
  expect(AUTOSCALING_STATE_DIR).not.toBe(CONTROL_PLANE_ENV.MLOPS_STATE_DIR);
});

test("the NodePool rendered from the dev stack's training pool is admitted and Ready", async () => {
  await apply([nodeClass, nodePool]);
  const pool = await waitFor(
    "the NodePool to be Ready",
    async () => {
      const [p] = await list("nodepools.karpenter.sh");
      return p && condition(p, "Ready") === "True" ? p : undefined;
    },
    90000,
  );
  const t = pool.spec.template.spec;
  say(
    `NodePool ${pool.metadata.name}: ${t.requirements[0].values[0]} nodes, limits ${JSON.stringify(pool.spec.limits)}, ` +
      `${pool.spec.disruption.consolidationPolicy} after ${pool.spec.disruption.consolidateAfter}; ` +
      `conditions ${(pool.status.conditions as Obj[]).map((c) => `${c.type}=${c.status}`).join(", ")}`,
  );
  expect(t.taints).toEqual([
    { key: "mlops-platform/pool", value: "training", effect: "NoSchedule" },
  ]);
  expect(pool.spec.disruption.consolidateAfter).toBe("1m");
  expect(pool.spec.limits.nodes).toBe(String(azure.trainingPool.maxCount));
});

test(
  "from zero to one training node for the Job, only the Job on it, and back to zero after the delay",
  async () => {
    // At rest.
    const atRest = await trainingNodes();
    say(`at rest: ${atRest.length} training nodes, ${(await nodeClaims()).length} NodeClaims`);
    expect(atRest).toHaveLength(0);

    const keep = new Set(["Namespace", "ServiceAccount", "Deployment", "CronJob"]);
    await apply(manifests.filter((m) => keep.has(m.kind)));
    const maxReplicas = config.app.autoscaling.maxReplicas;

    // The Job from the CronJob, and the inference Deployment scaled to its HPA maximum, at once.
    const t0 = Date.now();
    await Promise.all([
      kubectl("create", "job", "train-1", "-n", NS, "--from=cronjob/training"),
      kubectl("scale", "deployment/inference", "-n", NS, `--replicas=${maxReplicas}`),
    ]);

    // Poll until the Job's pod has succeeded on a node; note when each thing was first seen.
    const seen: Record<string, number> = {};
    const mark = (what: string) => (seen[what] ??= Date.now());
    let jobPod: Obj | undefined;
    let node: Obj | undefined;
    const onTrainingNode = new Set<string>();
    const deadline = Date.now() + 3 * 60000;
    for (;;) {
      const items = (
        JSON.parse(await kubectl("get", "nodes,pods", "-A", "-o", "json")) as { items: Obj[] }
      ).items;
      const pods = items.filter((o) => o.kind === "Pod");
      const nodes = items.filter(
        (o) => o.kind === "Node" && o.metadata.labels?.["mlops-platform/pool"] === "training",
      );
      jobPod = pods.find((p) => p.metadata.labels?.["job-name"] === "train-1");
      if (jobPod) {
        mark("pod created");
        const scheduled = (jobPod.status.conditions ?? []).find(
          (c: Obj) => c.type === "PodScheduled",
        );
        if (scheduled?.status === "False" && scheduled.reason === "Unschedulable")
          mark("pod pending (Unschedulable)");
        if (jobPod.spec.nodeName) mark("pod bound");
        if (jobPod.status.phase === "Succeeded") mark("pod succeeded");
      }
      if (nodes.length > 0) {
        node = nodes[0];
        mark("node created");
        if (condition(node as KubeObject, "Ready") === "True") mark("node Ready");
      }
      for (const n of nodes)
        for (const p of pods)
          if (p.spec.nodeName === n.metadata.name)
            onTrainingNode.add(`${p.metadata.namespace}/${p.metadata.name}`);
      if (seen["pod succeeded"] !== undefined && seen["node Ready"] !== undefined) break;
      if (Date.now() > deadline) {
        throw new Error(
          `no training node ran the Job within 3 min (seen: ${JSON.stringify(seen)}); Karpenter's log:\n${logTail("karpenter")}`,
        );
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const since = (what: string) => seen[what] - seen["pod created"];
    say(
      `pod created ${secs(seen["pod created"] - t0)} after the Job; from pod creation: ` +
        `pending (Unschedulable) ${secs(since("pod pending (Unschedulable)"))}, node created ${secs(since("node created"))}, ` +
        `node Ready ${secs(since("node Ready"))}, pod bound ${secs(since("pod bound"))}, pod succeeded ${secs(since("pod succeeded"))}`,
    );
    const nodeName: string = node!.metadata.name;
    // It was pending first: the scheduler found no node for it (no training node existed).
    expect(seen["pod pending (Unschedulable)"]).toBeLessThan(seen["node created"]);
    expect(seen["node created"]).toBeLessThanOrEqual(seen["pod bound"]);

    // The node is the NodePool's: its size, label and taint; the pod landed there.
    const n = JSON.parse(await kubectl("get", "node", nodeName, "-o", "json")) as KubeObject;
    say(
      `node ${nodeName}: ${n.metadata.labels?.["node.kubernetes.io/instance-type"]}, nodepool ${n.metadata.labels?.["karpenter.sh/nodepool"]}, ` +
        `allocatable cpu ${n.status.allocatable.cpu} memory ${n.status.allocatable.memory}, taints ${JSON.stringify(n.spec.taints)}`,
    );
    expect(n.metadata.labels?.["karpenter.sh/nodepool"]).toBe(KARPENTER_POOL_NAME);
    expect(n.metadata.labels?.["node.kubernetes.io/instance-type"]).toBe(
      nodePool.spec.template.spec.requirements[0].values[0],
    );
    expect(n.spec.taints).toContainEqual({
      key: "mlops-platform/pool",
      value: "training",
      effect: "NoSchedule",
    });
    const [pod] = await podsOf("job-name=train-1");
    expect(pod.spec.nodeName).toBe(nodeName);
    expect((await trainingNodes()).map((x) => x.metadata.name)).toEqual([nodeName]);

    // The inference pods, scaled at the same time, all run on the general node, none there.
    const inference = await waitFor(
      `${maxReplicas} inference pods Running`,
      async () => {
        const pods = await podsOf("app.kubernetes.io/component=inference");
        return pods.length === maxReplicas && pods.every((p) => p.status.phase === "Running")
          ? pods
          : undefined;
      },
      60000,
      POLL_MS,
    );
    const placement = inference.map((p) => p.spec.nodeName as string);
    say(`inference pods (no toleration) on: ${placement.join(", ")}`);
    expect(placement).toEqual(Array(maxReplicas).fill(GENERAL_NODE));

    // The Job completes (kwok's pod-complete stage).
    const job = await waitFor(
      "the Job to complete",
      async () => {
        const j = JSON.parse(await kubectl("get", "job", "train-1", "-n", NS, "-o", "json")) as Obj;
        return condition(j as KubeObject, "Complete") === "True" ? j : undefined;
      },
      60000,
    );
    say(
      `Job train-1: Complete, ${job.status.succeeded} succeeded, ${job.status.failed ?? 0} failed`,
    );
    expect(job.status.succeeded).toBe(1);

    // Back to zero after the configured delay; whatever lands on the node meanwhile is noted.
    let disrupted: number | undefined;
    await waitFor(
      "the training node to be removed",
      async () => {
        const nodes = await trainingNodes();
        const ours = nodes.find((x) => x.metadata.name === nodeName);
        const there = await list("pods", ["-A", "--field-selector", `spec.nodeName=${nodeName}`]);
        for (const p of there) onTrainingNode.add(`${p.metadata.namespace}/${p.metadata.name}`);
        if (
          ours &&
          disrupted === undefined &&
          (ours.metadata.deletionTimestamp ||
            (ours.spec.taints ?? []).some((t: Obj) => t.key === "karpenter.sh/disrupted"))
        )
          disrupted = Date.now();
        return nodes.length === 0 ? true : undefined;
      },
      (DELAY_S + 180) * 1000,
      POLL_MS,
    );
    const gone = Date.now();
    const idle = (disrupted ?? gone) - seen["pod succeeded"];
    const claims = await nodeClaims();
    say(
      `node empty at pod success; disruption began ${secs(idle)} later (consolidateAfter ${DELAY_S} s), ` +
        `node gone ${secs(gone - seen["pod succeeded"])} after the pod succeeded; ${(await trainingNodes()).length} training nodes, ${claims.length} NodeClaims remain`,
    );
    const events = await eventsOf("Node", nodeName);
    for (const e of events.filter((x) => x.source?.component === "karpenter"))
      say(`  ${eventLine(e)}`);
    const nodeSeconds = (gone - seen["node created"]) / 1000;
    const hourly = vmHourly(
      PRICE_TABLE,
      azure.location,
      azure.trainingPool.vmSize,
      "azure.trainingPool.vmSize",
    );
    say(
      `node-seconds used: ${nodeSeconds.toFixed(1)} (1 node × ${nodeSeconds.toFixed(1)} s), ` +
        `${((hourly * nodeSeconds) / 3600).toFixed(4)} ${PRICE_TABLE.currency} as a ${azure.trainingPool.vmSize} in ${azure.location} ` +
        `at ${hourly} ${PRICE_TABLE.currency}/h (price table of ${PRICE_TABLE.takenOn})`,
    );
    say(`pods ever seen on ${nodeName}: ${[...onTrainingNode].join(", ")}`);
    expect([...onTrainingNode]).toEqual([`${NS}/${pod.metadata.name}`]);

    // Not before the delay (2 s for the poll and the second-precision timestamps), and not hours.
    expect(idle).toBeGreaterThanOrEqual((DELAY_S - 2) * 1000);
    expect(gone - seen["pod succeeded"]).toBeLessThan((DELAY_S + 120) * 1000);
    expect(claims).toHaveLength(0);
    expect(await trainingNodes()).toHaveLength(0);
  },
  8 * 60000,
);

test(
  "a training job no node size can hold stays pending, with Karpenter's reason",
  async () => {
    // 16 CPUs: a Standard_D8s_v5 (kwok s-8x) node allocates 7.9. The render refuses this config...
    const unfit = devConfig({ training: { cpuRequestMillis: 16000 } });
    let refused = "";
    try {
      karpenterTrainingPool({
        pool: azure.trainingPool,
        scaleDownUnneededMinutes: azure.scaleDownUnneededMinutes,
        training: unfit.training,
      });
    } catch (err) {
      refused = (err as Error).message;
    }
    say(`karpenterTrainingPool refuses it: ${refused}`);
    expect(refused).toContain("mlops:training.cpuRequestMillis: got 16000");

    // ...and a cluster whose CronJob asks it anyway: the Job's pod never gets a node.
    await apply(manifests.filter((m) => m.kind === "Namespace" || m.kind === "ServiceAccount"));
    const unfitCron = pick(
      synthManifests({ config: unfit, instance: "dev", image: "mlops-inference:0.1.0" }),
      "CronJob",
    );
    await apply([jobFrom(unfitCron, "train-unfit")]);
    const pod = await waitFor(
      "the unfit Job's pod",
      async () => (await podsOf("job-name=train-unfit"))[0],
      30000,
    );
    const reason = await waitFor(
      "Karpenter's FailedScheduling event on the pod",
      async () =>
        (await eventsOf("Pod", pod.metadata.name, NS)).find(
          (e) => e.source?.component === "karpenter" && e.reason === "FailedScheduling",
        ),
      90000,
      POLL_MS,
    );
    for (const e of await eventsOf("Pod", pod.metadata.name, NS)) say(`  ${eventLine(e)}`);
    // Still pending a while later, and nothing was launched for it.
    await new Promise((r) => setTimeout(r, 20000));
    const [after] = await podsOf("job-name=train-unfit");
    const scheduled = (after.status.conditions as Obj[]).find((c) => c.type === "PodScheduled");
    say(
      `after 20 s more: phase ${after.status.phase}, PodScheduled=${scheduled?.status} (${scheduled?.reason}), ` +
        `${(await trainingNodes()).length} training nodes, ${(await nodeClaims()).length} NodeClaims`,
    );
    expect(reason.message).toMatch(/no instance type .*enough resources/);
    expect(reason.message).toContain('"cpu":"16"');
    expect(after.spec.nodeName).toBeUndefined();
    expect(after.status.phase).toBe("Pending");
    expect(scheduled?.reason).toBe("Unschedulable");
    expect(await trainingNodes()).toHaveLength(0);
    expect(await nodeClaims()).toHaveLength(0);
  },
  4 * 60000,
);
