/**
 * The real nodes' disk check (scripts/control-plane/node.sh `node_disk_space`, over lib.sh's
 * `require_free_space`): below the kubelets' eviction threshold the nodes delete the side-loaded
 * images, so start refuses to begin without what a run writes above 1% of the filesystem, and
 * says how much it needs and has, where.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");

function bash(script: string, env: Record<string, string> = {}) {
  const r = spawnSync(
    "bash",
    ["-c", `set -euo pipefail\nsource scripts/toolchain/lib.sh\n${script}`],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      encoding: "utf8",
      timeout: 30000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Size and free MiB of the filesystem holding `dir`, as df reports them. */
function df(dir: string): { size: number; avail: number } {
  const line = spawnSync("df", ["-Pm", dir], { encoding: "utf8" }).stdout.trim().split("\n")[1];
  const f = line.split(/\s+/);
  return { size: Number(f[1]), avail: Number(f[3]) };
}

let state: string;
beforeAll(() => {
  state = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-free-space-"));
});
afterAll(() => fs.rmSync(state, { recursive: true, force: true }));

describe("require_free_space", () => {
  test("passes with less than what is free, for a directory that does not exist yet", () => {
    const r = bash(`require_free_space "${state}/not/yet" 1 "a run"; echo ok`);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("ok");
  });

  test("exits 1 naming the filesystem's directory, both figures and what needs the space", () => {
    const r = bash(`require_free_space "${state}/not/yet" 100000000 "a run"; echo reached`);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain("reached");
    expect(r.stderr).toMatch(
      new RegExp(
        `ERROR: a run needs 100000000 MiB free on the filesystem of ${state}; it has \\d+ MiB`,
      ),
    );
    expect(r.stderr).toContain("MLOPS_STATE_DIR");
  });
});

describe("node_disk_space (real nodes)", () => {
  const nodes = (env: Record<string, string>) =>
    bash(`STATE="${state}"\nsource scripts/control-plane/node.sh\nnode_disk_space; echo ok`, env);

  test("what a run writes must be free above 1% of the filesystem: exactly what is free is too little", () => {
    const { size, avail } = df(state);
    const r = nodes({ MLOPS_NODE_FREE_MIB: String(avail) });
    expect(r.code).toBe(1);
    const need = Number(/needs (\d+) MiB/.exec(r.stderr)?.[1]);
    // The margin is the eviction threshold: 1% of the filesystem (df may move a little between reads).
    expect(Math.abs(need - avail - Math.floor(size / 100))).toBeLessThanOrEqual(64);
    expect(r.stderr).toContain("eviction threshold");
  });

  test("with nothing to write beyond the threshold it passes here (this machine has more than 1% free)", () => {
    const r = nodes({ MLOPS_NODE_FREE_MIB: "0" });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("a size that is not a whole number of MiB exits 2 naming the variable", () => {
    const r = nodes({ MLOPS_NODE_FREE_MIB: "4G" });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("MLOPS_NODE_FREE_MIB must be a whole number of MiB; got '4G'");
  });
});
