/**
 * infra/k8s/karpenter.ts: the Karpenter NodePool of the training pool is rendered from the same
 * config as the AKS training pool, and its taint and label are exactly the ones the AKS pool
 * carries and the training CronJob tolerates and requires.
 */
import { parseAllDocuments } from "yaml";
import { trainingPoolArgs } from "../../../../infra/azure/cluster";
import { checkPriceTable, PRICE_TABLE } from "../../../../infra/azure/prices";
import { AZURE_DEFAULTS, parseConfig, type RawConfig } from "../../../../infra/config";
import { karpenterTrainingPool, kwokInstanceType } from "../../../../infra/k8s/karpenter";
import { readStackFile } from "../../../../tools/stack-file";
import { synthStack } from "../../../../tools/synth";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

function forStack(stack: string, overrides: RawConfig = {}) {
  const config = parseConfig({ ...readStackFile(stack), ...overrides } as RawConfig);
  const azure = config.azure ?? AZURE_DEFAULTS;
  return {
    config,
    azure,
    manifests: karpenterTrainingPool({
      pool: azure.trainingPool,
      scaleDownUnneededMinutes: azure.scaleDownUnneededMinutes,
      training: config.training,
    }),
  };
}

const cronJobPod = (stack: string): Obj => {
  const docs = parseAllDocuments(synthStack(stack)).map((d) => d.toJS() as Obj);
  return docs.find((d) => d.kind === "CronJob")!.spec.jobTemplate.spec.template.spec;
};

describe.each(["local", "dev", "prod"])("stack %s", (stack) => {
  const { azure, manifests } = forStack(stack);
  const [nodePool, nodeClass] = manifests;
  const template = nodePool.spec.template;

  test("the NodePool's taint and label are the AKS training pool's", () => {
    const aks = trainingPoolArgs(azure.trainingPool, azure.availabilityZones);
    expect(template.spec.taints.map((t: Obj) => `${t.key}=${t.value}:${t.effect}`)).toEqual(
      aks.nodeTaints,
    );
    expect(template.metadata.labels).toEqual(aks.nodeLabels);
  });

  test("the training CronJob tolerates every taint of the NodePool and requires its label", () => {
    const pod = cronJobPod(stack);
    for (const taint of template.spec.taints) {
      expect(pod.tolerations).toContainEqual({
        key: taint.key,
        operator: "Equal",
        value: taint.value,
        effect: taint.effect,
      });
    }
    const terms = pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
      .nodeSelectorTerms as Obj[];
    // Some term is met by a node with the NodePool's labels.
    const labels: Obj = template.metadata.labels;
    expect(
      terms.some((term) =>
        term.matchExpressions.every(
          (e: Obj) => e.operator === "In" && e.values.includes(labels[e.key]),
        ),
      ),
    ).toBe(true);
  });

  test("the maximum node count and the scale-down delay carry over", () => {
    const { vCpus, memoryGiB } = PRICE_TABLE.vmSizes[azure.trainingPool.vmSize];
    const max = azure.trainingPool.maxCount;
    expect(nodePool.spec.limits).toEqual({
      nodes: String(max),
      cpu: String(max * vCpus),
      memory: `${max * memoryGiB}Gi`,
    });
    expect(nodePool.spec.disruption).toEqual({
      consolidationPolicy: "WhenEmpty",
      consolidateAfter: `${azure.scaleDownUnneededMinutes}m`,
      budgets: [{ nodes: "100%" }],
    });
    expect(nodePool.spec.template.spec.nodeClassRef).toEqual({
      group: "karpenter.kwok.sh",
      kind: "KWOKNodeClass",
      name: nodeClass.metadata.name,
    });
    expect(nodeClass).toMatchObject({
      apiVersion: "karpenter.kwok.sh/v1alpha1",
      kind: "KWOKNodeClass",
    });
  });
});

describe("from the config to the NodePool", () => {
  it("dev: 0–2 × Standard_D8s_v5 becomes at most 2 nodes of kwok's s-8x (8 CPU, 32 GiB)", () => {
    const [nodePool] = forStack("dev").manifests;
    expect(nodePool.apiVersion).toBe("karpenter.sh/v1");
    expect(nodePool.spec.template.spec.requirements[0]).toEqual({
      key: "node.kubernetes.io/instance-type",
      operator: "In",
      values: ["s-8x-amd64-linux"],
    });
    expect(nodePool.spec.limits).toEqual({ nodes: "2", cpu: "16", memory: "64Gi" });
  });

  it("another size, maximum and delay in the stack change the NodePool the same way", () => {
    const dev = readStackFile("dev").azure as Obj;
    const [nodePool] = forStack("dev", {
      azure: {
        ...dev,
        trainingPool: { vmSize: "Standard_D4s_v5", minCount: 0, maxCount: 5 },
        scaleDownUnneededMinutes: 12,
      },
    }).manifests;
    expect(nodePool.spec.template.spec.requirements[0].values).toEqual(["s-4x-amd64-linux"]);
    expect(nodePool.spec.limits).toEqual({ nodes: "5", cpu: "20", memory: "80Gi" });
    expect(nodePool.spec.disruption.consolidateAfter).toBe("12m");
  });

  it.each([
    [2, 4, "c-2x-amd64-linux"],
    [16, 64, "s-16x-amd64-linux"],
    [48, 384, "m-48x-amd64-linux"],
  ])("%d CPUs and %d GiB is kwok's %s", (cpu, gib, name) => {
    expect(kwokInstanceType(cpu, gib, "x").name).toBe(name);
  });
});

describe("what cannot be rendered, naming the key", () => {
  const training = parseConfig(readStackFile("dev")).training;
  const pool = { vmSize: "Standard_D8s_v5", minCount: 0, maxCount: 2, osDiskSizeGb: 128 };

  it("a training pod larger than a node's allocatable", () => {
    expect(() =>
      karpenterTrainingPool({
        pool,
        scaleDownUnneededMinutes: 5,
        training: { ...training, cpuRequestMillis: 7901 },
      }),
    ).toThrow(
      "mlops:training.cpuRequestMillis: got 7901; a Standard_D8s_v5 node allocates 7900 millicores: request less, or choose a larger azure.trainingPool.vmSize",
    );
    expect(() =>
      karpenterTrainingPool({
        pool,
        scaleDownUnneededMinutes: 5,
        training: { ...training, memoryRequestMib: 32 * 1024 - 9 },
      }),
    ).toThrow(
      "mlops:training.memoryRequestMib: got 32759; a Standard_D8s_v5 node allocates 32758 MiB: request less, or choose a larger azure.trainingPool.vmSize",
    );
    expect(() =>
      karpenterTrainingPool({
        pool,
        scaleDownUnneededMinutes: 5,
        training: { cpuRequestMillis: 7900, memoryRequestMib: 32758 },
      }),
    ).not.toThrow();
  });

  it("a VM size whose shape kwok does not have", () => {
    const table = checkPriceTable({
      ...PRICE_TABLE,
      vmSizes: { Standard_NC6s_v3: { vCpus: 6, memoryGiB: 112 } },
      regions: {},
    });
    expect(() =>
      karpenterTrainingPool({
        pool: { ...pool, vmSize: "Standard_NC6s_v3" },
        scaleDownUnneededMinutes: 5,
        training,
        table,
      }),
    ).toThrow(
      "mlops:azure.trainingPool.vmSize: Standard_NC6s_v3 (6 vCPUs, 112 GiB) has no kwok instance type of the same shape; the kwok provider has c (2 GiB per CPU), s (4 GiB per CPU), m (8 GiB per CPU) with 1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256 CPUs",
    );
  });

  it("a VM size the table does not describe", () => {
    expect(() =>
      karpenterTrainingPool({
        pool: { ...pool, vmSize: "Standard_E4s_v5" },
        scaleDownUnneededMinutes: 5,
        training,
      }),
    ).toThrow(
      /^mlops:azure\.trainingPool\.vmSize: VM size "Standard_E4s_v5" is not in the price table's sizes; it has Standard_D4s_v5, /,
    );
  });
});
