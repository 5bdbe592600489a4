/**
 * promtool for the monitoring suite: scripts/toolchain/prometheus.sh builds it from the Go module
 * proxy into the toolchain cache (once), and this module finds and runs it.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

export const ROOT = path.resolve(__dirname, "..", "..");
export const PROMETHEUS_SH = path.join(ROOT, "scripts/toolchain/prometheus.sh");

/** The cache directory prometheus.sh builds into (it prints it without building anything). */
export function promBinDir(): string {
  const r = spawnSync("bash", [PROMETHEUS_SH, "--print-bin-dir"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`prometheus.sh --print-bin-dir failed: ${r.stderr}`);
  return r.stdout.trim();
}

export interface PromtoolResult {
  code: number | null;
  output: string;
}

/** Runs `promtool <args>` in `cwd` (its files are resolved from there). */
export function promtool(args: string[], cwd: string): PromtoolResult {
  const r = spawnSync(path.join(promBinDir(), "promtool"), args, {
    cwd,
    encoding: "utf8",
    timeout: 5 * 60 * 1000,
  });
  if (r.error) throw r.error;
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}
