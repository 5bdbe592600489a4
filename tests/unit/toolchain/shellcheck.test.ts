/**
 * scripts/toolchain/shellcheck.sh (the ShellCheck step of `npm run lint`): which files it checks,
 * and that a finding fails it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");
const SCRIPT = path.join(ROOT, "scripts/toolchain/shellcheck.sh");

function run(args: string[]) {
  const r = spawnSync("bash", [SCRIPT, ...args], { cwd: ROOT, encoding: "utf8", timeout: 300000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file under a directory, relative to the repository root. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)));
}

test("--list names every *.sh and every other sh/bash script of scripts/, .ci/ and .github/scripts/, nothing else", () => {
  const r = run(["--list"]);
  expect(r.code).toBe(0);
  const listed = r.stdout.trim().split("\n");
  const shFiles = [...filesUnder("scripts"), ...filesUnder(".github/scripts")].filter((f) =>
    f.endsWith(".sh"),
  );
  expect(listed).toEqual(expect.arrayContaining(shFiles));
  expect(listed).toEqual(
    expect.arrayContaining([
      ".ci/run",
      "scripts/toolchain/pulumi-analyzer-policy-nodejs",
      "scripts/toolchain/pulumi-resource-pulumi-nodejs",
    ]),
  );
  expect(listed).toHaveLength(shFiles.length + 3);
});

test("a script with a finding fails the step, naming the finding", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "shellcheck-"));
  try {
    const bad = path.join(dir, "bad.sh");
    fs.writeFileSync(bad, "#!/usr/bin/env bash\nrm -rf $1/cache\n");
    const good = path.join(dir, "good.sh");
    fs.writeFileSync(good, '#!/usr/bin/env bash\nrm -rf "$1/cache"\n');
    const failed = run([bad]);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("SC2086");
    expect(failed.stderr).toContain(
      "[shellcheck] ERROR: shellcheck found the problems above in the shell scripts",
    );
    const passed = run([good]);
    expect(passed.code).toBe(0);
    expect(passed.stderr).toMatch(/\[shellcheck\] 1 scripts clean \(\d+\.\d+\.\d+\)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
