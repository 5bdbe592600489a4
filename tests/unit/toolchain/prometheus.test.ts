/**
 * scripts/toolchain/prometheus.sh without building anything: its version and cache layout come
 * from the tools module's go.mod, it reports what is missing, and a warm cache builds nothing.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REPO_ROOT } from "../../support/program";

const SCRIPT = path.join(REPO_ROOT, "scripts/toolchain/prometheus.sh");
let cache: string;

const run = (...args: string[]) =>
  spawnSync("bash", [SCRIPT, ...args], {
    encoding: "utf8",
    env: { ...process.env, MLOPS_TOOLCHAIN_CACHE: cache },
  });

beforeEach(() => {
  cache = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-prom-"));
});
afterEach(() => fs.rmSync(cache, { recursive: true, force: true }));

test("the tools module pins Prometheus 3.16.0 (module v0.316.0) with a go.sum", () => {
  const gomod = fs.readFileSync(
    path.join(REPO_ROOT, "scripts/toolchain/prometheus/go.mod"),
    "utf8",
  );
  expect(gomod).toMatch(/^require github\.com\/prometheus\/prometheus v0\.316\.0$/m);
  const gosum = fs.readFileSync(
    path.join(REPO_ROOT, "scripts/toolchain/prometheus/go.sum"),
    "utf8",
  );
  expect(gosum).toMatch(/^github\.com\/prometheus\/prometheus v0\.316\.0 h1:/m);
});

test("--print-bin-dir: one directory per Prometheus version in the toolchain cache", () => {
  const r = run("--print-bin-dir");
  expect(r.status).toBe(0);
  expect(r.stdout).toBe(`${cache}/prometheus-v3.16.0/bin\n`);
});

test("--check names what is missing and how to build it", () => {
  const r = run("--check", "promtool");
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(
    "not built yet: promtool (run scripts/toolchain/prometheus.sh promtool)",
  );
  expect(run("--check").stderr).toContain("not built yet: promtool prometheus");
});

test("a warm cache builds nothing and reports each binary's version", () => {
  const bin = path.join(cache, "prometheus-v3.16.0/bin");
  fs.mkdirSync(bin, { recursive: true });
  for (const name of ["promtool", "prometheus"]) {
    fs.writeFileSync(
      path.join(bin, name),
      `#!/bin/sh\necho "${name}, version 3.16.0 (stand-in)"\n`,
      {
        mode: 0o755,
      },
    );
  }
  // Without `go` on PATH: a build would fail, so success means nothing was built.
  const r = spawnSync("bash", [SCRIPT, "all"], {
    encoding: "utf8",
    env: {
      ...process.env,
      MLOPS_TOOLCHAIN_CACHE: cache,
      PATH: path.dirname(process.execPath) + ":/usr/bin:/bin",
    },
  });
  expect(r.status).toBe(0);
  expect(r.stderr).toContain("cached  promtool: promtool, version 3.16.0 (stand-in)");
  expect(r.stderr).toContain("cached  prometheus: prometheus, version 3.16.0 (stand-in)");
  expect(r.stderr).not.toContain("building");
});

test("an unknown argument is refused with the accepted ones", () => {
  const r = run("promql");
  expect(r.status).toBe(1);
  expect(r.stderr).toContain(
    "unknown argument 'promql' (expected --check, --print-bin-dir, all, promtool or prometheus)",
  );
});
