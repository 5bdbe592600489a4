/**
 * The autoscaling scenario's own control plane (tests/e2e/autoscaling.e2e.test.ts): API only
 * (kwok nodes), no training node at rest, Karpenter's kwok provider as the node autoscaler, all
 * from scripts/control-plane.sh with a state dir and ports of its own, distinct from the real-node
 * plane of the e2e suite (CONTROL_PLANE_ENV) and from `npm run up`'s (the script's defaults).
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { SCRIPTS_DIR } from "./context";
import { run, runOk, tail } from "./proc";

export const AUTOSCALING_STATE_DIR = path.join(
  process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"),
  "mlops-platform/e2e-autoscaling",
);

/** Below the kernel's ephemeral range (32768–60999), so no outgoing connection holds one. */
export const AUTOSCALING_CONTROL_PLANE_ENV: Readonly<Record<string, string>> = {
  MLOPS_STATE_DIR: AUTOSCALING_STATE_DIR,
  MLOPS_APISERVER_PORT: "28443",
  MLOPS_ETCD_PORT: "28379",
  MLOPS_ETCD_PEER_PORT: "28380",
  MLOPS_KCM_PORT: "28257",
  MLOPS_SCHEDULER_PORT: "28259",
  MLOPS_KWOK_PORT: "28247",
  MLOPS_KARPENTER_METRICS_PORT: "28290",
  MLOPS_KARPENTER_HEALTH_PORT: "28291",
  MLOPS_NODES: "kwok",
  MLOPS_TRAINING_NODE: "none",
  MLOPS_AUTOSCALER: "karpenter",
};

const CONTROL_PLANE = path.join(SCRIPTS_DIR, "control-plane.sh");

/** The default of every `MLOPS_*_PORT` a script reads (`npm run up`'s plane uses them all, and
 * the e2e suite's real nodes those of scripts/control-plane/node.sh). */
export function defaultPorts(script = CONTROL_PLANE): Record<string, string> {
  const text = fs.readFileSync(script, "utf8");
  return Object.fromEntries(
    [...text.matchAll(/\$\{(MLOPS_[A-Z_]+_PORT):-(\d+)\}/g)].map((m) => [m[1], m[2]]),
  );
}

export const NODE_SCRIPT = path.join(SCRIPTS_DIR, "control-plane/node.sh");

/** The toolchain's directories, as scripts/toolchain/lib.sh computes them. */
export async function toolchainDirs(): Promise<{ kubeBin: string; karpenter: string }> {
  const out = await runOk(
    "bash",
    ["-c", 'source "$1" && printf "%s\\n" "$KUBE_BIN_DIR" "$KARPENTER_DIR"', "lib", libSh()],
    { timeoutMs: 60000 },
  );
  const [kubeBin, karpenter] = out.stdout.trim().split("\n");
  return { kubeBin, karpenter };
}

const libSh = () => path.join(SCRIPTS_DIR, "toolchain/lib.sh");

export const scriptEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...AUTOSCALING_CONTROL_PLANE_ENV };
  delete env.MLOPS_KUBE_CONTEXT;
  return env;
};

/** The PIDs the plane's PID files name (what `stop` must end). */
export function planePids(): Record<string, number> {
  const dir = path.join(AUTOSCALING_STATE_DIR, "run");
  if (!fs.existsSync(dir)) return {};
  return Object.fromEntries(
    fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".pid"))
      .map((f) => [f.slice(0, -4), Number(fs.readFileSync(path.join(dir, f), "utf8").trim())]),
  );
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts the plane from an empty state dir (stopping by their PID files whatever an earlier,
 * interrupted run left); returns the admin kubeconfig and the seconds it took. */
export async function startPlane(): Promise<{ kubeconfig: string; seconds: number }> {
  await stopPlane();
  fs.rmSync(AUTOSCALING_STATE_DIR, { recursive: true, force: true });
  const start = await run("bash", [CONTROL_PLANE, "start"], {
    env: scriptEnv(),
    timeoutMs: 5 * 60000,
  });
  if (start.code !== 0 || start.timedOut) {
    const logs = await run("bash", [CONTROL_PLANE, "logs"], { env: scriptEnv(), timeoutMs: 30000 });
    throw new Error(
      `the autoscaling control plane did not start (${start.timedOut ? "timed out" : `exit ${start.code}`}):\n` +
        `${tail(start.stderr, 20)}\n${tail(logs.stdout, 80)}`,
    );
  }
  const kubeconfig = (
    await runOk("bash", [CONTROL_PLANE, "kubeconfig"], { env: scriptEnv(), timeoutMs: 30000 })
  ).stdout.trim();
  return { kubeconfig, seconds: start.seconds };
}

/** Stops the plane (by its PID files only), then checks that none of its PIDs is left. */
export async function stopPlane(): Promise<string[]> {
  const pids = planePids();
  if (Object.keys(pids).length === 0) return [];
  const stop = await run("bash", [CONTROL_PLANE, "stop"], { env: scriptEnv(), timeoutMs: 120000 });
  if (stop.code !== 0) process.stderr.write(`[autoscaling] stop failed:\n${tail(stop.stderr)}\n`);
  return Object.entries(pids)
    .filter(([, pid]) => alive(pid))
    .map(([name, pid]) => `${name} (pid ${pid})`);
}

/** The last lines of a component's log (for a failure's message). */
export function logTail(component: string, lines = 30): string {
  try {
    return tail(
      fs.readFileSync(path.join(AUTOSCALING_STATE_DIR, "logs", `${component}.log`), "utf8"),
      lines,
    );
  } catch {
    return `(no ${component} log)`;
  }
}

/** The plane's ports something still answers on, on 127.0.0.1 (none after a clean stop). */
export async function portsInUse(): Promise<string[]> {
  const ports = Object.entries(AUTOSCALING_CONTROL_PLANE_ENV).filter(([k]) => k.endsWith("_PORT"));
  const open = await Promise.all(
    ports.map(
      ([, port]) =>
        new Promise<boolean>((resolve) => {
          const socket = net.connect({ host: "127.0.0.1", port: Number(port) });
          socket.setTimeout(1000);
          socket.once("connect", () => (socket.destroy(), resolve(true)));
          socket.once("timeout", () => (socket.destroy(), resolve(false)));
          socket.once("error", () => resolve(false));
        }),
    ),
  );
  return ports.filter((_, i) => open[i]).map(([name, port]) => `${name}=${port}`);
}
