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
  // The copy of a MLOPS_E2E_KUBE_CONTEXT's credentials does not outlive the run.
  if (context?.kubeconfigIsCopy) fs.rmSync(context.kubeconfig, { force: true });
  removeContext();
  const timings = readTimings();
  const line = timings
    .map((t) => `${t.name} ${t.seconds}s${t.note ? ` (${t.note})` : ""}`)
    .join("; ");
  process.stderr.write(`\n[e2e] timings: ${line || "none recorded"}\n[e2e] (${TIMINGS_FILE})\n`);
}
