/**
 * Pure readers of Kubernetes workload manifests: where the pod template of each workload kind
 * lives, its containers, and how a pod relates to the training pool's taint and label.
 */
import { COMPONENT_LABEL, TRAINING_COMPONENT } from "./config";
import { at, list, Props, rec, str, stringMap } from "./values";

/** Pulumi type -> the workload kind it manifests, and whether it runs until deleted. */
export const WORKLOAD_TYPES: Readonly<Record<string, { kind: string; longRunning: boolean }>> = {
  "kubernetes:apps/v1:Deployment": { kind: "Deployment", longRunning: true },
  "kubernetes:apps/v1:StatefulSet": { kind: "StatefulSet", longRunning: true },
  "kubernetes:apps/v1:DaemonSet": { kind: "DaemonSet", longRunning: true },
  "kubernetes:batch/v1:Job": { kind: "Job", longRunning: false },
  "kubernetes:batch/v1:CronJob": { kind: "CronJob", longRunning: false },
  "kubernetes:core/v1:Pod": { kind: "Pod", longRunning: false },
};

export const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
export const SERVICE = "kubernetes:core/v1:Service";
export const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
export const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
export const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";

/** A workload manifest, reduced to what the policies read. */
export interface Workload {
  readonly kind: string;
  /** Runs until deleted (Deployment, StatefulSet, DaemonSet): needs probes. */
  readonly longRunning: boolean;
  /** `metadata` of the workload object itself. */
  readonly metadata: Props;
  /** `metadata` of the pod template (of the Pod itself for a Pod). */
  readonly podMetadata: Props;
  /** The pod spec (`spec.template.spec`, `spec.jobTemplate.spec.template.spec` or `spec`). */
  readonly podSpec: Props;
}

/** The workload a resource manifests, or `undefined` when its type is not a workload. */
export function workloadOf(type: string, props: Props): Workload | undefined {
  const known = WORKLOAD_TYPES[type];
  if (known === undefined) return undefined;
  const template =
    known.kind === "Pod"
      ? props
      : known.kind === "CronJob"
        ? at(props, "spec", "jobTemplate", "spec", "template")
        : at(props, "spec", "template");
  return {
    ...known,
    metadata: rec(props.metadata),
    podMetadata: rec(at(template, "metadata")),
    podSpec: rec(at(template, "spec")),
  };
}

export interface Container {
  /** `container "name"` or `init container "name"`: how messages name it. */
  readonly label: string;
  readonly spec: Props;
  readonly init: boolean;
}

/** The containers and init containers of a pod spec. */
export function containersOf(podSpec: Props): Container[] {
  const out: Container[] = [];
  for (const [field, init] of [
    ["initContainers", true],
    ["containers", false],
  ] as const) {
    list(podSpec[field]).forEach((c, i) => {
      const spec = rec(c);
      const name = str(spec.name) ?? `#${i}`;
      out.push({ label: `${init ? "init container" : "container"} "${name}"`, spec, init });
    });
  }
  return out;
}

/** A training workload carries `app.kubernetes.io/component: training` (object or pod labels). */
export function isTraining(w: Workload): boolean {
  return (
    stringMap(w.metadata.labels)[COMPONENT_LABEL] === TRAINING_COMPONENT ||
    stringMap(w.podMetadata.labels)[COMPONENT_LABEL] === TRAINING_COMPONENT
  );
}

export interface Taint {
  readonly key: string;
  readonly value: string;
  readonly effect: string;
}

/** True when `toleration` (a pod's `tolerations[]` entry) tolerates `taint`. */
export function tolerates(toleration: unknown, taint: Taint): boolean {
  const t = rec(toleration);
  const key = str(t.key) ?? "";
  const operator = str(t.operator) ?? "Equal";
  const effect = str(t.effect) ?? "";
  if (effect !== "" && effect !== taint.effect) return false;
  if (key === "") return operator === "Exists"; // an empty key with Exists tolerates every taint
  if (key !== taint.key) return false;
  return operator === "Exists" || (operator === "Equal" && str(t.value) === taint.value);
}

/**
 * True when the pod can only land on nodes labelled `key=value`: its nodeSelector says so, or
 * every term of its required node affinity has an `In` expression on `key` listing only `value`.
 */
export function selectsPool(podSpec: Props, key: string, value: string): boolean {
  if (stringMap(podSpec.nodeSelector)[key] === value) return true;
  const terms = list(
    at(
      podSpec,
      "affinity",
      "nodeAffinity",
      "requiredDuringSchedulingIgnoredDuringExecution",
      "nodeSelectorTerms",
    ),
  );
  return (
    terms.length > 0 &&
    terms.every((term) =>
      list(rec(term).matchExpressions).some((e) => {
        const expr = rec(e);
        const values = list(expr.values);
        return (
          expr.key === key &&
          expr.operator === "In" &&
          values.length > 0 &&
          values.every((v) => v === value)
        );
      }),
    )
  );
}

/** True when the label selector (`matchLabels` + `matchExpressions`) selects `labels`. */
export function selectorMatches(selector: unknown, labels: Readonly<Record<string, string>>) {
  const s = rec(selector);
  const matchLabels = stringMap(s.matchLabels);
  const expressions = list(s.matchExpressions).map(rec);
  if (Object.keys(matchLabels).length === 0 && expressions.length === 0) return false;
  const labelsMatch = Object.entries(matchLabels).every(([k, v]) => labels[k] === v);
  return (
    labelsMatch &&
    expressions.every((e) => {
      const key = str(e.key) ?? "";
      const values = list(e.values);
      switch (e.operator) {
        case "In":
          return key in labels && values.includes(labels[key]);
        case "NotIn":
          return !(key in labels) || !values.includes(labels[key]);
        case "Exists":
          return key in labels;
        case "DoesNotExist":
          return !(key in labels);
        default:
          return false;
      }
    })
  );
}

/** `namespace/name` of an object (`default` namespace when unset) for messages and matching. */
export function objectRef(props: Props): { namespace: string; name: string } {
  const metadata = rec(props.metadata);
  return { namespace: str(metadata.namespace) ?? "default", name: str(metadata.name) ?? "" };
}

/** How an image reference pins its content. */
export type ImagePin = "digest" | "tag" | "latest" | "none";

/** `repo@sha256:…` (with or without a tag) is a digest; `repo:latest` latest; `repo` none. */
export function imagePin(image: string): ImagePin {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return "digest";
  const lastSegment = image.slice(image.lastIndexOf("/") + 1);
  const colon = lastSegment.indexOf(":");
  if (colon < 0 || image.includes("@")) return "none";
  return lastSegment.slice(colon + 1) === "latest" ? "latest" : "tag";
}
