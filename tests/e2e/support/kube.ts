/** Reads the cluster back with the toolchain's kubectl (`-o json`), against KUBECONFIG only. */
import { run, runOk, type RunResult } from "./proc";

/** A Kubernetes object as the API returns it; the tests check the fields they name. */
export type KubeObject = {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    uid?: string;
    generation?: number;
    deletionTimestamp?: string;
  };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
} & Record<string, any>;

const TIMEOUT_MS = 60000;

function kubectlArgs(args: readonly string[]): string[] {
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error("KUBECONFIG is not set: the e2e context was not applied");
  return ["--kubeconfig", kubeconfig, "--request-timeout=30s", ...args];
}

/** `kubectl args...` with `input` on stdin; its exit code and output (never rejects on exit code). */
export function kubectlWithInput(input: string, ...args: string[]): Promise<RunResult> {
  return run("kubectl", kubectlArgs(args), { input, timeoutMs: TIMEOUT_MS });
}

export async function kubectl(...args: string[]): Promise<string> {
  return (await runOk("kubectl", kubectlArgs(args), { timeoutMs: TIMEOUT_MS })).stdout;
}

/** One object; throws when it does not exist. */
export async function get(kind: string, name: string, namespace?: string): Promise<KubeObject> {
  const ns = namespace ? ["-n", namespace] : [];
  return JSON.parse(await kubectl("get", kind, name, ...ns, "-o", "json")) as KubeObject;
}

/** One object, or undefined when the API answers NotFound. */
export async function find(
  kind: string,
  name: string,
  namespace?: string,
): Promise<KubeObject | undefined> {
  const ns = namespace ? ["-n", namespace] : [];
  const r = await run("kubectl", kubectlArgs(["get", kind, name, ...ns, "-o", "json"]), {
    timeoutMs: TIMEOUT_MS,
  });
  if (r.code === 0) return JSON.parse(r.stdout) as KubeObject;
  if (/NotFound|not found/.test(r.stderr)) return undefined;
  throw new Error(`kubectl get ${kind} ${name}: ${r.stderr}`);
}

export async function list(kind: string, args: string[] = []): Promise<KubeObject[]> {
  return (JSON.parse(await kubectl("get", kind, ...args, "-o", "json")) as { items: KubeObject[] })
    .items;
}

/**
 * Every object of every listable namespaced kind in `namespace`, as `kind/name` (the cluster's
 * own discovery decides the kinds, so nothing the stack could create is missed).
 */
export async function allNamespacedObjects(namespace: string): Promise<string[]> {
  const kinds = (await kubectl("api-resources", "--namespaced=true", "--verbs=list", "-o", "name"))
    .split("\n")
    .map((k) => k.trim())
    // Events record what happened (deletions included); they are not objects of the stack.
    .filter((k) => k !== "" && k !== "events" && k !== "events.events.k8s.io");
  const out = await kubectl(
    "get",
    kinds.join(","),
    "-n",
    namespace,
    "--ignore-not-found",
    "-o",
    "name",
  );
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "");
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60000,
  intervalMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs / 1000}s waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** The `type` condition's status of an object (`"True"`, `"False"`, or undefined when absent). */
export function condition(obj: KubeObject, type: string): string | undefined {
  const conditions = (obj.status?.conditions ?? []) as { type: string; status: string }[];
  return conditions.find((c) => c.type === type)?.status;
}

/** The first container of a Deployment's pod template. */
export function deploymentContainer(d: KubeObject): KubeObject {
  return d.spec.template.spec.containers[0] as KubeObject;
}

/** A container's `env` as name -> value (`""` for a value from a reference). */
export function envOf(container: KubeObject): Record<string, string> {
  return Object.fromEntries(
    (container.env as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? ""]),
  );
}

/**
 * What is wrong with the cluster's nodes, one line each (a condition other than Ready that is
 * True, Ready that is not, a taint the node set on itself), or "" when nothing is: an `up` that
 * times out on pods that never start says why (a node under disk pressure deletes the images
 * loaded into it, and nothing can pull them again here).
 */
export async function nodeTrouble(): Promise<string> {
  let nodes: KubeObject[];
  try {
    nodes = await list("nodes");
  } catch (err) {
    return `(nodes not listed: ${String(err)})`;
  }
  const lines: string[] = [];
  for (const n of nodes) {
    const trouble = (
      (n.status?.conditions ?? []) as { type: string; status: string; message?: string }[]
    )
      .filter((c) => (c.type === "Ready" ? c.status !== "True" : c.status === "True"))
      .map((c) => `${c.type}=${c.status}${c.message ? ` (${c.message})` : ""}`);
    const taints = ((n.spec?.taints ?? []) as { key: string; effect: string }[])
      .filter((t) => t.key.startsWith("node.kubernetes.io/"))
      .map((t) => `taint ${t.key}:${t.effect}`);
    if (trouble.length + taints.length > 0)
      lines.push(`${n.metadata.name}: ${[...trouble, ...taints].join("; ")}`);
  }
  return lines.join("\n");
}
