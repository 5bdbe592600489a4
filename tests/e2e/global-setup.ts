/**
 * Before the real-engine suite: build or reuse the toolchain (scripts/toolchain/build.sh prints
 * its progress), take its environment from scripts/toolchain/env.sh, and start the suite's own
 * control plane, or, with MLOPS_E2E_KUBE_CONTEXT (a laptop's kind cluster, say), use that
 * context. Without a toolchain or a cluster the suite FAILS here: it never skips.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  CONTROL_PLANE_ENV,
  recordTiming,
  resetTimings,
  saveContext,
  SCRIPTS_DIR,
  type E2eContext,
} from "./support/context";
import { run, runOk, tail } from "./support/proc";
import { nodeOfRole } from "../support/node-table";

/** A cold build of everything takes tens of minutes on 2 cores; CI allows 90 for all of .ci/run. */
const BUILD_TIMEOUT_MS = 70 * 60 * 1000;
const CONTROL_PLANE_TIMEOUT_MS = 4 * 60 * 1000;

export default async function globalSetup(): Promise<void> {
  resetTimings();
  // Its own control plane (see CONTROL_PLANE_ENV) unless MLOPS_E2E_KUBE_CONTEXT names a cluster
  // explicitly; never the developer's MLOPS_KUBE_CONTEXT or current context.
  const kubeContext = process.env.MLOPS_E2E_KUBE_CONTEXT?.trim() || undefined;
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, ...CONTROL_PLANE_ENV };
  delete baseEnv.MLOPS_KUBE_CONTEXT;

  // With a cluster of its own, only Pulumi is needed (and built only when no CLI is installed);
  // the suite's own cluster has real nodes: Kubernetes (with kubelet, kube-proxy), CoreDNS, and
  // the edge (Traefik, the NetworkPolicy engine).
  const targets = kubeContext
    ? ["pulumi"]
    : ["pulumi", "kubernetes", "coredns", "traefik", "netpol"];
  process.stderr.write(`\n[e2e] toolchain: scripts/toolchain/build.sh ${targets.join(" ")}\n`);
  const build = await run("bash", [path.join(SCRIPTS_DIR, "toolchain/build.sh"), ...targets], {
    env: baseEnv,
    timeoutMs: BUILD_TIMEOUT_MS,
    stream: true,
  });
  recordTiming("toolchain build/check", build.seconds, build.code === 0 ? undefined : "failed");
  if (build.code !== 0 || build.timedOut) {
    throw new Error(
      `[e2e] the toolchain is not available (scripts/toolchain/build.sh ${build.timedOut ? "timed out" : `exited ${build.code}`}); ` +
        `the real-engine suite cannot run without it:\n${tail(build.stderr, 25)}`,
    );
  }

  const env = await toolchainEnv(baseEnv);
  const scriptEnv = { ...baseEnv, ...env };
  const cluster = kubeContext
    ? {
        env,
        kubeconfig: await contextKubeconfig(kubeContext, scriptEnv),
        startedControlPlane: false,
        kubeconfigIsCopy: true,
      }
    : await ownControlPlane(env, scriptEnv);
  let digestRef: string | undefined;
  try {
    if (!kubeContext) {
      digestRef = await loadImages(scriptEnv);
      await buildPrometheus(scriptEnv);
    }
  } catch (err) {
    // jest runs no globalTeardown when globalSetup fails: stop what this setup started, or the
    // next run (CI's, say) finds its ports and bridges taken.
    if (cluster.startedControlPlane) {
      process.stderr.write("[e2e] setup failed: stopping the cluster it started\n");
      await run("bash", [path.join(SCRIPTS_DIR, "control-plane.sh"), "stop"], {
        env: scriptEnv,
        timeoutMs: 120000,
      });
    }
    throw err;
  }
  saveContext({ ...cluster, digestRef, toolchainMode: env.MLOPS_TOOLCHAIN_MODE ?? "built" });
}

/** The Prometheus server that scrapes the suite's pods (monitoring on real pods). */
async function buildPrometheus(env: NodeJS.ProcessEnv): Promise<void> {
  const prom = await run(
    "bash",
    [path.join(SCRIPTS_DIR, "toolchain/prometheus.sh"), "prometheus"],
    {
      env,
      timeoutMs: 30 * 60000,
      stream: true,
    },
  );
  recordTiming("prometheus build/check", prom.seconds, prom.code === 0 ? undefined : "failed");
  if (prom.code !== 0 || prom.timedOut) {
    throw new Error(`[e2e] the Prometheus server could not be built:\n${tail(prom.stderr, 25)}`);
  }
}

/** The releases the suite deploys, each reporting its own version (GET /v2). */
export const E2E_IMAGES = ["0.1.0", "0.1.1", "0.2.0"].map((v) => `mlops-inference:${v}`);

/**
 * The suite's own nodes pull from no registry: build service/Dockerfile (unchanged) as 0.1.0,
 * re-release it as 0.1.1 and 0.2.0 (only the version differs), load all three into both nodes.
 * Returns the digest reference of 0.1.0 as the nodes hold it (for the digest-pinned steps).
 */
async function loadImages(env: NodeJS.ProcessEnv): Promise<string> {
  const images = path.join(SCRIPTS_DIR, "node/images.sh");
  const step = async (label: string, args: string[], timeoutMs: number) => {
    process.stderr.write(`[e2e] ${label}\n`);
    const r = await run("bash", args, { env, timeoutMs, stream: true });
    recordTiming(label, r.seconds, r.code === 0 ? undefined : "failed");
    if (r.code !== 0 || r.timedOut) {
      throw new Error(`[e2e] ${label} failed:\n${tail(r.stderr, 30)}`);
    }
    return r;
  };
  await step("image build (service/Dockerfile)", [images, "service", E2E_IMAGES[0]], 20 * 60000);
  for (const image of E2E_IMAGES.slice(1)) {
    const version = image.slice(image.indexOf(":") + 1);
    await step(
      `image release ${version}`,
      [images, "release", E2E_IMAGES[0], image, version],
      120000,
    );
  }
  await step(
    "images loaded into the nodes",
    [path.join(SCRIPTS_DIR, "control-plane.sh"), "load", ...E2E_IMAGES],
    10 * 60000,
  );
  const socket = (
    await runOk("bash", [path.join(SCRIPTS_DIR, "control-plane.sh"), "socket", nodeOfRole("app")], {
      env,
      timeoutMs: 30000,
    })
  ).stdout.trim();
  const digest = (
    await runOk("bash", [images, "digest", socket, E2E_IMAGES[0]], { env, timeoutMs: 30000 })
  ).stdout.trim();
  return `mlops-inference@${digest}`;
}

/** The suite's own control plane: reused when running, else started clean from its state dir. */
async function ownControlPlane(
  env: Record<string, string>,
  scriptEnv: NodeJS.ProcessEnv,
): Promise<Omit<E2eContext, "toolchainMode">> {
  const controlPlane = path.join(SCRIPTS_DIR, "control-plane.sh");
  const status = await run("bash", [controlPlane, "status"], { env: scriptEnv, timeoutMs: 60000 });
  let started = false;
  if (status.code === 0) {
    process.stderr.write(
      "[e2e] control plane already running: reusing it (and leaving it running)\n",
    );
  } else {
    // Whatever is left in the suite's own state dir is from an earlier run: stop it, start clean.
    await runOk("bash", [controlPlane, "stop"], { env: scriptEnv, timeoutMs: 60000 });
    fs.rmSync(CONTROL_PLANE_ENV.MLOPS_STATE_DIR, { recursive: true, force: true });
    process.stderr.write("[e2e] starting the control plane\n");
    const start = await run("bash", [controlPlane, "start"], {
      env: scriptEnv,
      timeoutMs: CONTROL_PLANE_TIMEOUT_MS,
      stream: true,
    });
    recordTiming("control plane start", start.seconds, start.code === 0 ? undefined : "failed");
    if (start.code !== 0 || start.timedOut) {
      const logs = await run("bash", [controlPlane, "logs"], { env: scriptEnv, timeoutMs: 30000 });
      await run("bash", [controlPlane, "stop"], { env: scriptEnv, timeoutMs: 60000 });
      throw new Error(
        `[e2e] the control plane did not start:\n${tail(start.stderr, 20)}\n${tail(logs.stdout, 60)}`,
      );
    }
    started = true;
  }
  const kubeconfig = (
    await runOk("bash", [controlPlane, "kubeconfig"], { env: scriptEnv, timeoutMs: 30000 })
  ).stdout.trim();
  return { env: { ...env, ...CONTROL_PLANE_ENV }, kubeconfig, startedControlPlane: started };
}

/**
 * A kubeconfig file holding only `context` (as `npm run up` does for MLOPS_KUBE_CONTEXT), checked
 * to reach its API server, so every later step talks to that cluster whatever the current context.
 */
async function contextKubeconfig(context: string, env: NodeJS.ProcessEnv): Promise<string> {
  const view = await run(
    "kubectl",
    ["config", "view", "--minify", "--flatten", "--context", context, "-o", "yaml"],
    { env, timeoutMs: 30000 },
  );
  if (view.code !== 0) {
    throw new Error(
      `[e2e] MLOPS_E2E_KUBE_CONTEXT=${context}: kubectl cannot read that context (kubectl config get-contexts lists them):\n${tail(view.stderr)}`,
    );
  }
  const file = path.join(os.tmpdir(), `mlops-e2e-kubeconfig-${process.getuid?.() ?? 0}`);
  fs.writeFileSync(file, view.stdout, { mode: 0o600 });
  const probe = await run("kubectl", ["--kubeconfig", file, "get", "--raw", "/readyz"], {
    env,
    timeoutMs: 60000,
  });
  if (probe.code !== 0) {
    throw new Error(
      `[e2e] MLOPS_E2E_KUBE_CONTEXT=${context}: its API server is not ready:\n${tail(probe.stderr)}`,
    );
  }
  process.stderr.write(`[e2e] using kube context ${context} (MLOPS_E2E_KUBE_CONTEXT)\n`);
  return file;
}

/**
 * The variables `eval "$(scripts/toolchain/env.sh)"` exports, with their exact values (read back
 * from the shell, so no shell quoting is parsed here).
 */
async function toolchainEnv(baseEnv: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const envScript = path.join(SCRIPTS_DIR, "toolchain/env.sh");
  const printed = await runOk("bash", [envScript], { env: baseEnv, timeoutMs: 60000 });
  const names = [...printed.stdout.matchAll(/^export ([A-Za-z_][A-Za-z0-9_]*)=/gm)].map(
    (m) => m[1],
  );
  if (!names.includes("PATH")) {
    throw new Error(`[e2e] scripts/toolchain/env.sh printed no PATH:\n${printed.stdout}`);
  }
  const dump = await runOk("bash", ["-c", 'eval "$(bash "$1")" && env -0', "env", envScript], {
    env: baseEnv,
    timeoutMs: 60000,
  });
  const all = new Map(
    dump.stdout
      .split("\0")
      .filter((kv) => kv.includes("="))
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)] as const),
  );
  return Object.fromEntries(names.map((n) => [n, all.get(n) ?? ""]));
}
