/**
 * scripts/control-plane.sh refuses, before doing anything, the node options that cannot work
 * together (exit 2 with the reason), and accepts the ones the autoscaling scenario uses.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = path.resolve(__dirname, "../../../scripts/control-plane.sh");

function run(env: Record<string, string>, command = "status") {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "cp-options-"));
  try {
    const r = spawnSync("bash", [SCRIPT, command], {
      env: { ...process.env, MLOPS_STATE_DIR: state, ...env },
      encoding: "utf8",
      timeout: 60000,
    });
    return { code: r.status, stderr: r.stderr, stdout: r.stdout };
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
}

test.each([
  [
    { MLOPS_NODES: "real", MLOPS_TRAINING_NODE: "none" },
    "MLOPS_TRAINING_NODE=none needs MLOPS_NODES=kwok",
  ],
  [{ MLOPS_NODES: "kwok", MLOPS_TRAINING_NODE: "zero" }, 'MLOPS_TRAINING_NODE: got "zero"'],
  [
    { MLOPS_NODES: "real", MLOPS_AUTOSCALER: "karpenter" },
    "MLOPS_AUTOSCALER=karpenter needs MLOPS_NODES=kwok",
  ],
  [
    { MLOPS_NODES: "kwok", MLOPS_AUTOSCALER: "cluster-autoscaler" },
    'MLOPS_AUTOSCALER: got "cluster-autoscaler"',
  ],
])("%o exits 2: %s", (env, reason) => {
  const r = run(env);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`[control-plane] ERROR: ${reason}`);
});

it("kwok nodes with no training node and Karpenter: status lists Karpenter as a component", () => {
  const r = run({
    MLOPS_NODES: "kwok",
    MLOPS_TRAINING_NODE: "none",
    MLOPS_AUTOSCALER: "karpenter",
  });
  // Nothing runs in an empty state dir: every component is reported stopped (exit 1).
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^karpenter +stopped$/m);
  expect(r.stdout).toMatch(/^kwok +stopped$/m);
});

it("without the autoscaler, Karpenter is no component", () => {
  const r = run({ MLOPS_NODES: "kwok" });
  expect(r.code).toBe(1);
  expect(r.stdout).not.toMatch(/karpenter/);
});
