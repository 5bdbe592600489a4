/**
 * The import-graph check of `npm run lint` (dependency-cruiser, .dependency-cruiser.cjs), run as
 * the lint script runs it: clean on the service and the infrastructure code as they are, and
 * failing, naming each rule, on tests/fixtures/import-graph, a service and infra tree that breaks
 * every rule once.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const BIN = path.join(ROOT, "node_modules/dependency-cruiser/bin/dependency-cruise.mjs");

/** The `depcruise ...` step of the root lint script, as its arguments. */
function lintArgs(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const step = (pkg.scripts.lint as string)
    .split("&&")
    .map((s) => s.trim())
    .find((s) => s.startsWith("depcruise "));
  if (step === undefined) throw new Error(`no depcruise step in the lint script`);
  return step.split(/\s+/).slice(1);
}

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

/** Runs the lint step in `cwd` (its config always the repository's), with extra arguments. */
function depcruise(cwd: string, extra: string[] = []) {
  const args = lintArgs().map((a) =>
    a.endsWith(".dependency-cruiser.cjs") ? path.join(ROOT, a) : a,
  );
  return spawnSync(process.execPath, [BIN, ...args, ...extra], { cwd, encoding: "utf8" });
}

/**
 * The lint step's exit status (as `npm run lint` runs it: the `err` report exits with the number
 * of errors), and the violations it finds, from its JSON report.
 */
function check(cwd: string): { status: number | null; violations: string[] } {
  const status = depcruise(cwd).status;
  const run = depcruise(cwd, ["--output-type", "json"]);
  if (run.stdout === "") throw new Error(`depcruise wrote nothing: ${run.stderr}`);
  const result = JSON.parse(run.stdout) as { summary: { violations: Violation[] } };
  return {
    status,
    violations: result.summary.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort(),
  };
}

it("the lint script cruises the whole service workspace and infra/ with the repository's rules", () => {
  expect(lintArgs()).toEqual(["--config", ".dependency-cruiser.cjs", "service", "infra"]);
});

it("the service's import graph has no circle and imports downwards only; infra/k8s imports no config", () => {
  expect(check(ROOT)).toEqual({ status: 0, violations: [] });
});

it("a circle, gRPC or the protocol importing HTTP, a chart importing the config, and every other rule broken fail the check", () => {
  const { status, violations } = check(path.join(ROOT, "tests/fixtures/import-graph"));
  expect(violations).toEqual(
    [
      "no-circular: service/src/model/input.ts -> service/src/model/predictor.ts",
      "grpc-and-protocol-not-into-http: service/src/grpc/server.ts -> service/src/routes/v2.ts",
      "grpc-and-protocol-not-into-http: service/src/protocol/infer.ts -> service/src/app.ts",
      "http-not-into-grpc: service/src/routes/v1.ts -> service/src/grpc/server.ts",
      "below-the-adapters: service/src/protocol/infer.ts -> service/src/app.ts",
      expect.stringMatching(
        /^below-the-adapters: service\/src\/core\/inference\.ts -> (\.\.\/)+node_modules\/fastify\//,
      ),
      "model-at-the-bottom: service/src/model/store.ts -> service/src/core/inference.ts",
      "server-is-the-entry: service/src/routes/ops.ts -> service/src/server.ts",
      // Not infra/manifests.ts -> infra/config.ts: the adapter outside infra/k8s may read it.
      "k8s-not-into-config: infra/k8s/chart.ts -> infra/config.ts",
    ].sort(),
  );
  // depcruise exits with the number of errors: `npm run lint` fails.
  expect(status).toBe(9);
});
