/**
 * The training pool as a Karpenter v1 NodePool and KWOKNodeClass, rendered from the same config
 * as the AKS training pool (infra/azure/cluster.ts), so a local cluster autoscaled by Karpenter's
 * kwok provider (`scripts/toolchain/build.sh karpenter`) provisions the nodes AKS would:
 *
 * | AKS (`trainingPoolArgs`, `autoscalerProfile`) | Karpenter |
 * | --- | --- |
 * | `nodeLabels` `mlops-platform/pool=training` | `spec.template.metadata.labels` |
 * | `nodeTaints` `mlops-platform/pool=training:NoSchedule` | `spec.template.spec.taints` |
 * | `maxCount` (`azure.trainingPool.maxCount`) | `spec.limits`: nodes, and their CPU and memory |
 * | `scaleDownUnneededTime` (`azure.scaleDownUnneededMinutes`) | `spec.disruption.consolidateAfter`, `WhenEmpty` |
 * | `vmSize` (`azure.trainingPool.vmSize`) | the kwok instance type of the same CPU and memory |
 *
 * Pure: a VM size without a kwok counterpart, or a training pod that the size cannot hold, is an
 * error naming the key.
 */
import { PRICE_TABLE, PriceTable, vmSize } from "../azure/prices";
import {
  TRAINING_POOL_LABEL_KEY,
  TRAINING_POOL_LABEL_VALUE,
  TRAINING_TAINT,
} from "./training-pool";

export const KARPENTER_API = "karpenter.sh/v1";
export const KWOK_NODE_CLASS_API = "karpenter.kwok.sh/v1alpha1";
/** The NodePool's and the KWOKNodeClass's name. */
export const KARPENTER_POOL_NAME = "training";

/** The kwok provider's instance types (kwok/cloudprovider/instance_types.json of
 * sigs.k8s.io/karpenter v1.15.0): `<family>-<cpu>x-<arch>-<os>`, where the family fixes the GiB
 * of memory per CPU. */
export const KWOK_FAMILIES: Readonly<Record<string, number>> = { c: 2, s: 4, m: 8 };
export const KWOK_CPUS = [1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 192, 256] as const;
/** What the kwok provider reserves on each of its nodes (kube-reserved). */
export const KWOK_OVERHEAD = { cpuMillis: 100, memoryMib: 10 } as const;

export interface KarpenterPoolInputs {
  /** `azure.trainingPool` (a local stack: its defaults, `AZURE_DEFAULTS.trainingPool`): the VM
   * size of its nodes and their highest count. */
  readonly pool: { readonly vmSize: string; readonly maxCount: number };
  /** `azure.scaleDownUnneededMinutes`. */
  readonly scaleDownUnneededMinutes: number;
  /** The training job's requests (`training`). */
  readonly training: { readonly cpuRequestMillis: number; readonly memoryRequestMib: number };
  /** Where the VM size's CPU and memory come from. @default the repository's price table */
  readonly table?: PriceTable;
}

/** A Kubernetes object as plain JSON (what cdk8s' `toJson()` gives). */
export interface KarpenterManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; labels: Record<string, string> };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly spec: Record<string, any>;
}

/** The kwok instance type with the CPU and memory of `vmSizeName`. */
export function kwokInstanceType(
  vCpus: number,
  memoryGiB: number,
  vmSizeName: string,
): { name: string; cpu: string; memory: string } {
  const family = Object.keys(KWOK_FAMILIES).find((f) => KWOK_FAMILIES[f] * vCpus === memoryGiB);
  if (family === undefined || !(KWOK_CPUS as readonly number[]).includes(vCpus)) {
    throw new Error(
      `mlops:azure.trainingPool.vmSize: ${vmSizeName} (${vCpus} vCPUs, ${memoryGiB} GiB) has no kwok instance type of the same shape; ` +
        `the kwok provider has ${Object.entries(KWOK_FAMILIES)
          .map(([f, gib]) => `${f} (${gib} GiB per CPU)`)
          .join(", ")} with ${KWOK_CPUS.join(", ")} CPUs`,
    );
  }
  return { name: `${family}-${vCpus}x-amd64-linux`, cpu: String(vCpus), memory: `${memoryGiB}Gi` };
}

/** The NodePool and KWOKNodeClass of the training pool. */
export function karpenterTrainingPool(
  inputs: KarpenterPoolInputs,
): [KarpenterManifest, KarpenterManifest] {
  const { pool, training } = inputs;
  const size = vmSize(inputs.table ?? PRICE_TABLE, pool.vmSize, "azure.trainingPool.vmSize");
  const instance = kwokInstanceType(size.vCpus, size.memoryGiB, pool.vmSize);
  const allocatableCpu = size.vCpus * 1000 - KWOK_OVERHEAD.cpuMillis;
  const allocatableMib = size.memoryGiB * 1024 - KWOK_OVERHEAD.memoryMib;
  if (training.cpuRequestMillis > allocatableCpu) {
    throw new Error(
      `mlops:training.cpuRequestMillis: got ${training.cpuRequestMillis}; a ${pool.vmSize} node allocates ${allocatableCpu} millicores: request less, or choose a larger azure.trainingPool.vmSize`,
    );
  }
  if (training.memoryRequestMib > allocatableMib) {
    throw new Error(
      `mlops:training.memoryRequestMib: got ${training.memoryRequestMib}; a ${pool.vmSize} node allocates ${allocatableMib} MiB: request less, or choose a larger azure.trainingPool.vmSize`,
    );
  }
  const labels = { "app.kubernetes.io/part-of": "mlops-platform" };
  const nodePool: KarpenterManifest = {
    apiVersion: KARPENTER_API,
    kind: "NodePool",
    metadata: { name: KARPENTER_POOL_NAME, labels },
    spec: {
      template: {
        metadata: { labels: { [TRAINING_POOL_LABEL_KEY]: TRAINING_POOL_LABEL_VALUE } },
        spec: {
          taints: [{ ...TRAINING_TAINT }],
          requirements: [
            { key: "node.kubernetes.io/instance-type", operator: "In", values: [instance.name] },
            { key: "karpenter.sh/capacity-type", operator: "In", values: ["on-demand"] },
            { key: "kubernetes.io/arch", operator: "In", values: ["amd64"] },
            { key: "kubernetes.io/os", operator: "In", values: ["linux"] },
          ],
          nodeClassRef: {
            group: "karpenter.kwok.sh",
            kind: "KWOKNodeClass",
            name: KARPENTER_POOL_NAME,
          },
        },
      },
      // Nodes are all of one size: maxCount nodes, or their CPU and memory, whichever binds.
      limits: {
        nodes: String(pool.maxCount),
        cpu: String(pool.maxCount * size.vCpus),
        memory: `${pool.maxCount * size.memoryGiB}Gi`,
      },
      // Only empty nodes, as AKS's autoscaler removes unneeded ones: a running training pod is
      // never moved to consolidate.
      disruption: {
        consolidationPolicy: "WhenEmpty",
        consolidateAfter: `${inputs.scaleDownUnneededMinutes}m`,
        budgets: [{ nodes: "100%" }],
      },
    },
  };
  const nodeClass: KarpenterManifest = {
    apiVersion: KWOK_NODE_CLASS_API,
    kind: "KWOKNodeClass",
    metadata: { name: KARPENTER_POOL_NAME, labels },
    spec: {},
  };
  return [nodePool, nodeClass];
}
