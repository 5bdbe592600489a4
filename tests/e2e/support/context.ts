/**
 * What globalSetup hands to the tests and to globalTeardown (they run in other module registries,
 * so it goes through a file): the toolchain environment, the control plane, and the timings.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "../../..");
export const SCRIPTS_DIR = path.join(REPO_ROOT, "scripts");
/** Git-ignored; the summary of the last run (for the README's figures). */
export const TIMINGS_FILE = path.join(REPO_ROOT, "tests/e2e/.timings.json");
const CONTEXT_FILE = path.join(os.tmpdir(), `mlops-e2e-context-${process.getuid?.() ?? 0}.json`);

/**
 * The suite's own control plane: its own state dir and ports, so it never touches the plane of
 * `npm run up` (scripts/control-plane.sh defaults) nor a cluster of the developer's.
 */
export const CONTROL_PLANE_ENV: Readonly<Record<string, string>> = {
  MLOPS_STATE_DIR: path.join(
    process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"),
    "mlops-platform/e2e-control-plane",
  ),
  MLOPS_APISERVER_PORT: "26443",
  MLOPS_ETCD_PORT: "22379",
  MLOPS_ETCD_PEER_PORT: "22380",
  MLOPS_KCM_PORT: "26257",
  MLOPS_SCHEDULER_PORT: "26259",
  MLOPS_KWOK_PORT: "26247",
  // Real nodes: containers run, so the suite sends real traffic through them.
  MLOPS_NODES: "real",
};

export interface E2eContext {
  /** Variables the toolchain's env.sh sets (PATH, PULUMI_HOME, ...), plus the control plane's. */
  readonly env: Record<string, string>;
  /** The admin kubeconfig of the control plane. */
  readonly kubeconfig: string;
  /** `built` (from source, air-gapped) or `ambient` (a pulumi CLI on PATH). */
  readonly toolchainMode: string;
  /** Whether globalSetup started the control plane (and so globalTeardown stops it). */
  readonly startedControlPlane: boolean;
  /** Whether `kubeconfig` is a copy globalSetup wrote (and so globalTeardown removes it). */
  readonly kubeconfigIsCopy?: boolean;
  /** `mlops-inference@sha256:...` of the 0.1.0 image as the suite's own nodes hold it. */
  readonly digestRef?: string;
}

export function saveContext(context: E2eContext): void {
  fs.writeFileSync(CONTEXT_FILE, JSON.stringify(context, null, 2));
}

/** The context globalSetup saved; throws when there is none (the suite was not set up). */
export function readContext(): E2eContext {
  let text: string;
  try {
    text = fs.readFileSync(CONTEXT_FILE, "utf8");
  } catch {
    throw new Error(
      `no e2e context in ${CONTEXT_FILE}: run the suite with npm run test:e2e (its globalSetup builds the toolchain and starts the control plane)`,
    );
  }
  return JSON.parse(text) as E2eContext;
}

export function removeContext(): void {
  fs.rmSync(CONTEXT_FILE, { force: true });
}

/** Puts the toolchain and cluster environment into this process (the CLI and kubectl use it). */
export function applyContext(): E2eContext {
  const context = readContext();
  Object.assign(process.env, context.env, { KUBECONFIG: context.kubeconfig });
  // The suite deploys only to its own control plane, never to a context of the developer's.
  delete process.env.MLOPS_KUBE_CONTEXT;
  return context;
}

export interface Timing {
  readonly name: string;
  readonly seconds: number;
  readonly note?: string;
}

export function resetTimings(): void {
  fs.writeFileSync(
    TIMINGS_FILE,
    JSON.stringify({ started: new Date().toISOString(), timings: [] }),
  );
}

/** Appends a measured duration to the run's timings file. */
export function recordTiming(name: string, seconds: number, note?: string): void {
  let doc: { started?: string; timings: Timing[] } = { timings: [] };
  try {
    doc = JSON.parse(fs.readFileSync(TIMINGS_FILE, "utf8")) as typeof doc;
  } catch {
    // First entry.
  }
  doc.timings.push({ name, seconds: Math.round(seconds * 10) / 10, ...(note ? { note } : {}) });
  fs.writeFileSync(TIMINGS_FILE, JSON.stringify(doc, null, 2) + "\n");
}

export function readTimings(): Timing[] {
  try {
    return (JSON.parse(fs.readFileSync(TIMINGS_FILE, "utf8")) as { timings: Timing[] }).timings;
  } catch {
    return [];
  }
}

/** Runs `fn` and records how long it took (also when it throws). */
export async function timed<T>(
  name: string,
  fn: () => Promise<T>,
  note?: (r: T) => string,
): Promise<T> {
  const started = Date.now();
  let result: T | undefined;
  let failed = false;
  try {
    result = await fn();
    return result;
  } catch (err) {
    failed = true;
    throw err;
  } finally {
    const seconds = (Date.now() - started) / 1000;
    recordTiming(
      name,
      seconds,
      failed ? "failed" : note && result !== undefined ? note(result) : undefined,
    );
  }
}
