/**
 * The training pool's scheduling contract: the label that selects its nodes and the taint that
 * keeps every other pod off them. The AKS pool (infra/azure/cluster.ts) and the local Karpenter
 * NodePool (karpenter.ts) put them on the nodes; the training job (training-chart.ts) selects and
 * tolerates them; the policy pack's training defaults equal them (policy/README.md).
 */

/** The label of the training pool's nodes, which the training job's node affinity requires. */
export const TRAINING_POOL_LABEL_KEY = "mlops-platform/pool";
export const TRAINING_POOL_LABEL_VALUE = "training";
/** The taint that reserves the training pool for training pods only. */
export const TRAINING_TAINT = {
  key: TRAINING_POOL_LABEL_KEY,
  value: TRAINING_POOL_LABEL_VALUE,
  effect: "NoSchedule",
} as const;
