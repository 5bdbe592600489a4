/**
 * After the real-engine suite: stop the control plane when globalSetup started it, and print the
 * timings of the run in one summary line (also in tests/e2e/.timings.json, git-ignored).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import {
  readContext,
  readTimings,
  removeContext,
  SCRIPTS_DIR,
  TIMINGS_FILE,
} from "./support/context";
import { run, tail } from "./support/proc";

export default async function globalTeardown(): Promise<void> {
  let context;
  try {
    context = readContext();
  } catch {
    context = undefined; // globalSetup failed before starting anything.
  }
  if (context?.startedControlPlane) {
    const stop = await run("bash", [path.join(SCRIPTS_DIR, "control-plane.sh"), "stop"], {
      env: { ...process.env, ...context.env },
      timeoutMs: 90000,
    });
    if (stop.code !== 0)
      process.stderr.write(`[e2e] control plane stop failed:\n${tail(stop.stderr)}\n`);
  }
  // Real nodes: stopping must leave nothing of them on this machine.
  let leftovers = "";
  if (context?.startedControlPlane) {
    const footprint = await run("bash", [path.join(SCRIPTS_DIR, "control-plane.sh"), "footprint"], {
      env: { ...process.env, ...context.env },
      timeoutMs: 60000,
    });
    leftovers = footprint.stdout.trim();
    process.stderr.write(
      `[e2e] after stop: ${leftovers ? `LEFT ON THIS MACHINE:\n${leftovers}` : "no process, container, mount, interface, iptables chain or cgroup of the nodes is left"}\n`,
    );
  }
  // The copy of a MLOPS_E2E_KUBE_CONTEXT's credentials does not outlive the run.
  if (context?.kubeconfigIsCopy) fs.rmSync(context.kubeconfig, { force: true });
  removeContext();
  const timings = readTimings();
  const line = timings
    .map((t) => `${t.name} ${t.seconds}s${t.note ? ` (${t.note})` : ""}`)
    .join("; ");
  process.stderr.write(`\n[e2e] timings: ${line || "none recorded"}\n[e2e] (${TIMINGS_FILE})\n`);
  if (leftovers) {
    throw new Error(`[e2e] scripts/control-plane.sh stop left this on the machine:\n${leftovers}`);
  }
}
