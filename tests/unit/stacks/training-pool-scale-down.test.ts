/**
 * What keeps a training node alive, over everything the program deploys in every stack (the real
 * program under mocks: the app's manifests, the Kubernetes objects it registers itself, the Helm
 * values it gives Envoy Gateway, the AKS autoscaler profile):
 *  - only the training CronJob tolerates the training taint, on purpose; nothing else tolerates
 *    anything (so no pod of ours lands on a training node and keeps it up);
 *  - nothing on the training pods blocks the cluster autoscaler's scale-down (its FAQ, "What types
 *    of pods can prevent CA from removing a node?"): no PodDisruptionBudget selects them, no
 *    `cluster-autoscaler.kubernetes.io/safe-to-evict: "false"` (nor Karpenter's
 *    `karpenter.sh/do-not-disrupt`), no hostPath, every emptyDir bounded by a sizeLimit, a
 *    controller (Job) owns them, and AKS's profile does not skip nodes with local storage.
 * docs/autoscaling.md says what else, on AKS, can keep the pool from reaching zero.
 */
import { TRAINING_POOL_LABEL_KEY, TRAINING_TAINT } from "../../../infra/k8s/training-pool";
import {
  findResource,
  runProgram,
  type RecordedResource,
  type StackName,
} from "../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;
interface Workload {
  readonly id: string;
  readonly kind: string;
  readonly pod: Obj;
}

/** Every pod template of every object: `<kind>/<name>` and the template (metadata + spec). */
function workloads(objs: readonly Obj[]): Workload[] {
  const out: Workload[] = [];
  for (const o of objs) {
    const template =
      o.kind === "CronJob"
        ? o.spec?.jobTemplate?.spec?.template
        : o.kind === "Pod"
          ? o
          : ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"].includes(o.kind)
            ? o.spec?.template
            : undefined;
    if (template) out.push({ id: `${o.kind}/${o.metadata.name}`, kind: o.kind, pod: template });
  }
  return out;
}

/** A toleration that lets a pod onto a node with the training taint. */
function toleratesTraining(t: Obj): boolean {
  const effect = t.effect === undefined || t.effect === "" || t.effect === TRAINING_TAINT.effect;
  if (!effect) return false;
  if (t.operator === "Exists")
    return t.key === undefined || t.key === "" || t.key === TRAINING_TAINT.key;
  return t.key === TRAINING_TAINT.key && t.value === TRAINING_TAINT.value;
}

/** A label selector that matches `labels`. */
function selects(selector: Obj | undefined, labels: Obj): boolean {
  if (selector === undefined) return false;
  const matchLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const expressions = (selector.matchExpressions ?? []).every((e: Obj) => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case "In":
        return has && e.values.includes(labels[e.key]);
      case "NotIn":
        return !has || !e.values.includes(labels[e.key]);
      case "Exists":
        return has;
      default:
        return !has;
    }
  });
  return matchLabels && expressions;
}

/** The Kubernetes objects a stack deploys: the app's ConfigGroup and the ones registered alone. */
function kubernetesObjects(resources: readonly RecordedResource[]): Obj[] {
  const objs: Obj[] = [
    ...findResource([...resources], "kubernetes:yaml/v2:ConfigGroup").inputs.objs,
  ];
  for (const r of resources) {
    if (r.type.startsWith("kubernetes:") && r.inputs.kind !== undefined) objs.push(r.inputs);
  }
  return objs;
}

const STACKS: StackName[] = ["local", "dev", "prod"];
const runs = new Map<StackName, RecordedResource[]>();
// Three whole program runs in one hook: a few seconds on an idle machine, minutes on a loaded one
// (jest's 120 s default for a hook was exceeded at load 15), so the hook has the ceiling of three.
beforeAll(async () => {
  for (const stack of STACKS) runs.set(stack, await runProgram(stack));
}, 3 * 120_000);

describe.each(STACKS)("stack %s", (stack) => {
  const objs = () => kubernetesObjects(runs.get(stack)!);
  const training = () => workloads(objs()).find((w) => w.id === "CronJob/training")!;

  test("only the training CronJob tolerates the training taint; nothing else tolerates anything", () => {
    const all = workloads(objs());
    expect(all.map((w) => w.id)).toEqual(expect.arrayContaining(["CronJob/training"]));
    expect(all.filter((w) => w.kind === "Deployment").length).toBeGreaterThan(0);
    const tolerating = all.filter((w) =>
      (w.pod.spec.tolerations ?? []).some((t: Obj) => toleratesTraining(t)),
    );
    expect(tolerating.map((w) => w.id)).toEqual(["CronJob/training"]);
    const withAnyToleration = all.filter((w) => (w.pod.spec.tolerations ?? []).length > 0);
    expect(withAnyToleration.map((w) => w.id)).toEqual(["CronJob/training"]);
    // The training pod tolerates exactly the taint, and requires the pool's label.
    expect(training().pod.spec.tolerations).toEqual([
      {
        key: TRAINING_TAINT.key,
        operator: "Equal",
        value: TRAINING_TAINT.value,
        effect: "NoSchedule",
      },
    ]);
    expect(
      training().pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
        .nodeSelectorTerms,
    ).toEqual([
      {
        matchExpressions: [
          { key: TRAINING_POOL_LABEL_KEY, operator: "In", values: [TRAINING_TAINT.value] },
        ],
      },
    ]);
  });

  test("the program installs no DaemonSet (a DaemonSet would run on every training node)", () => {
    expect(objs().filter((o) => o.kind === "DaemonSet")).toEqual([]);
  });

  test("no PodDisruptionBudget selects the training pods", () => {
    const labels = training().pod.metadata.labels;
    expect(labels["app.kubernetes.io/component"]).toBe("training");
    const pdbs = objs().filter((o) => o.kind === "PodDisruptionBudget");
    if (stack === "prod") expect(pdbs.length).toBeGreaterThan(0); // the check has something to see
    expect(
      pdbs.filter((p) => selects(p.spec.selector, labels)).map((p) => p.metadata.name),
    ).toEqual([]);
  });

  test("nothing on the training pods blocks scale-down: annotation, hostPath, unbounded emptyDir", () => {
    const { pod } = training();
    const annotations: Obj = pod.metadata.annotations ?? {};
    expect(annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"]).not.toBe("false");
    expect(annotations["karpenter.sh/do-not-disrupt"]).not.toBe("true");
    const volumes: Obj[] = pod.spec.volumes;
    expect(volumes.length).toBeGreaterThan(0);
    expect(volumes.filter((v) => v.hostPath !== undefined)).toEqual([]);
    for (const v of volumes.filter((v) => v.emptyDir !== undefined)) {
      expect(`${v.name}: ${v.emptyDir.sizeLimit ?? "no sizeLimit"}`).toMatch(/: \d+(Mi|Gi)$/);
    }
    // What is not an emptyDir is the model store's network claim (Azure), never node-local.
    const other = volumes.filter((v) => v.emptyDir === undefined);
    expect(other.map((v) => Object.keys(v).sort())).toEqual(
      stack === "local" ? [] : [["name", "persistentVolumeClaim"]],
    );
  });
});

test("AKS's autoscaler does not skip nodes with local storage (the training pod's emptyDirs)", () => {
  for (const stack of ["dev", "prod"] as const) {
    const cluster = findResource(runs.get(stack)!, "azure-native:containerservice:ManagedCluster");
    expect(cluster.inputs.autoScalerProfile).toMatchObject({
      skipNodesWithLocalStorage: "false",
      scaleDownUnneededTime: "5m",
    });
  }
});

test("the Envoy Gateway chart is given no toleration, node selector or affinity", () => {
  for (const stack of ["dev", "prod"] as const) {
    const charts = runs.get(stack)!.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart");
    expect(charts.length).toBe(2);
    for (const chart of charts) {
      expect(JSON.stringify(chart.inputs.values ?? {})).not.toMatch(
        /tolerations|nodeSelector|affinity|mlops-platform\/pool/,
      );
    }
  }
});

describe("the checks catch what they look for", () => {
  it.each([
    [{ operator: "Exists" }, true],
    [{ operator: "Exists", key: TRAINING_TAINT.key }, true],
    [{ operator: "Exists", effect: "NoExecute" }, false],
    [{ key: TRAINING_TAINT.key, operator: "Equal", value: "training" }, true],
    [{ key: TRAINING_TAINT.key, value: "training", effect: "NoSchedule" }, true],
    [{ key: TRAINING_TAINT.key, operator: "Equal", value: "gpu" }, false],
    [{ key: "CriticalAddonsOnly", operator: "Exists" }, false],
  ])("toleration %j tolerates the training taint: %s", (t, expected) => {
    expect(toleratesTraining(t)).toBe(expected);
  });

  it.each([
    [{ matchLabels: { "app.kubernetes.io/component": "training" } }, true],
    [{ matchLabels: { "app.kubernetes.io/component": "inference" } }, false],
    [{ matchLabels: {} }, true],
    [
      {
        matchExpressions: [
          { key: "app.kubernetes.io/component", operator: "In", values: ["training"] },
        ],
      },
      true,
    ],
    [
      {
        matchExpressions: [
          { key: "app.kubernetes.io/component", operator: "NotIn", values: ["training"] },
        ],
      },
      false,
    ],
    [{ matchExpressions: [{ key: "tier", operator: "DoesNotExist" }] }, true],
    [undefined, false],
  ])("PDB selector %j selects the training pod: %s", (selector, expected) => {
    expect(selects(selector, { "app.kubernetes.io/component": "training", app: "x" })).toBe(
      expected,
    );
  });
});
