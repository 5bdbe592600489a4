/**
 * Before tests/e2e/autoscaling.e2e.test.ts (the `e2e-autoscaling` project): build or reuse what
 * its control plane runs — the Kubernetes binaries, the kwok controller and Karpenter's kwok
 * provider with its CRDs — through scripts/toolchain/build.sh (a warm cache answers in seconds).
 * It starts nothing: the test file starts and stops its own plane. Without the toolchain the
 * project FAILS here; it never skips.
 */
import * as path from "node:path";
import { SCRIPTS_DIR } from "./support/context";
import { run, tail } from "./support/proc";

export const AUTOSCALING_TARGETS = ["kubernetes", "kwok", "karpenter"] as const;

export default async function autoscalingSetup(): Promise<void> {
  process.stderr.write(
    `\n[autoscaling] toolchain: scripts/toolchain/build.sh ${AUTOSCALING_TARGETS.join(" ")}\n`,
  );
  const build = await run(
    "bash",
    [path.join(SCRIPTS_DIR, "toolchain/build.sh"), ...AUTOSCALING_TARGETS],
    // Cold: Kubernetes ~15 min, kwok ~6, Karpenter ~5 on 2 cores (README, Performance).
    { timeoutMs: 60 * 60000, stream: true },
  );
  if (build.code !== 0 || build.timedOut) {
    throw new Error(
      `[autoscaling] scripts/toolchain/build.sh ${AUTOSCALING_TARGETS.join(" ")} ${build.timedOut ? "timed out" : `exited ${build.code}`}: ` +
        `the autoscaling scenario cannot run without it:\n${tail(build.stderr, 25)}`,
    );
  }
}
