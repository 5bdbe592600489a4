/**
 * Before the monitoring suite: build promtool from the Go module proxy, or find it cached
 * (scripts/toolchain/prometheus.sh). A cold build takes minutes on 2 cores; a warm cache, under
 * a second. Without Go or the proxy the suite FAILS here: it never skips.
 */
import { spawn } from "node:child_process";
import { PROMETHEUS_SH } from "./promtool";

const BUILD_TIMEOUT_MS = 40 * 60 * 1000;

export default async function globalSetup(): Promise<void> {
  process.stderr.write(`\n[monitoring] promtool: scripts/toolchain/prometheus.sh promtool\n`);
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn("bash", [PROMETHEUS_SH, "promtool"], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), BUILD_TIMEOUT_MS);
    child.on("error", reject);
    child.on("exit", (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  if (code !== 0) {
    throw new Error(
      `scripts/toolchain/prometheus.sh promtool failed (exit ${code}): the monitoring suite needs promtool (Go and the Go module proxy)`,
    );
  }
}
