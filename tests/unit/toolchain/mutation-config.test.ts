/**
 * The mutation-testing setup (README "Mutation testing"): every scoped file is in exactly one
 * scope, each scope runs suites that exist, infra's parts run every suite of the part for each
 * mutant, and a wrong MUTATION_SCOPE is refused with the list of scopes. Stryker itself is not run
 * here (a scope takes minutes to an hour: `npm run test:mutation`).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const SCOPES = [
  "tools",
  "policy",
  "model",
  "infra-config",
  "infra-k8s",
  "infra-azure",
  "infra-monitoring",
];

/** stryker.config.mjs's options for a scope, read by node (the file is an ES module). */
function strykerOptions(scope: string | undefined) {
  const env = { ...process.env };
  delete env.MUTATION_SCOPE;
  if (scope !== undefined) env.MUTATION_SCOPE = scope;
  return spawnSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      'const { default: o } = await import("./stryker.config.mjs"); console.log(JSON.stringify(o));',
    ],
    { cwd: ROOT, env, encoding: "utf8" },
  );
}

/** The test files jest.mutation.config.js selects for a scope. */
function suites(scope: string): string[] {
  const r = spawnSync(
    process.execPath,
    [
      path.join(ROOT, "node_modules/jest/bin/jest.js"),
      "--config",
      "jest.mutation.config.js",
      "--listTests",
    ],
    { cwd: ROOT, env: { ...process.env, MUTATION_SCOPE: scope }, encoding: "utf8" },
  );
  expect(r.status).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .map((f) => path.relative(ROOT, f))
    .sort();
}

/** Files under `dir` ending in .ts, relative to the repo. */
function tsFiles(dir: string): string[] {
  return (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts"))
    .map((f) => path.join(dir, f))
    .sort();
}

/** Whether a scope's `mutate` glob (a path or `dir/**\/*.ts`) names a file. */
const matches = (glob: string, file: string) =>
  glob.endsWith("/**/*.ts") ? file.startsWith(glob.slice(0, -"**/*.ts".length)) : glob === file;

describe("stryker.config.mjs", () => {
  const options = Object.fromEntries(
    SCOPES.map((scope) => {
      const r = strykerOptions(scope);
      expect(r.stderr).toBe("");
      return [scope, JSON.parse(r.stdout)];
    }),
  );

  test("every file of infra/, policy/, service/src/model/ and the promotion and preview tools is mutated by exactly one scope", () => {
    const files = [
      ...tsFiles("infra"),
      ...tsFiles("policy"),
      ...tsFiles("service/src/model"),
      "tools/promotion.ts",
      "tools/preview-summary.ts",
    ];
    for (const file of files) {
      const owners = SCOPES.filter((s) =>
        (options[s].mutate as string[]).some((g) => matches(g, file)),
      );
      expect([file, owners.length]).toEqual([file, 1]);
    }
  });

  test("infra's parts run static mutants; the parts with shared program runs run each mutant against every suite", () => {
    for (const scope of SCOPES) {
      const infra = scope.startsWith("infra-");
      const sharedRuns = scope === "infra-k8s" || scope === "infra-azure";
      expect([scope, options[scope].coverageAnalysis, options[scope].ignoreStatic]).toEqual([
        scope,
        sharedRuns ? "all" : "perTest",
        !infra,
      ]);
      expect(options[scope].jest.enableFindRelatedTests).toBe(false);
      expect(options[scope].thresholds.break).toBe(80);
      expect(options[scope].incrementalFile).toBe(`reports/mutation/${scope}/incremental.json`);
    }
  });

  test("no scope, or an unknown one, is refused with the list of scopes", () => {
    for (const scope of [undefined, "infra", "everything"]) {
      const r = strykerOptions(scope);
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(
        `MUTATION_SCOPE=${scope ?? ""} is not a scope; use one of ${SCOPES.join(", ")}`,
      );
    }
  });
});

describe("jest.mutation.config.js", () => {
  test.each([
    [
      "infra-k8s",
      [
        "unit/infra/k8s/manifest-security",
        "unit/stacks/program",
        "unit/infra/k8s/release",
        "unit/tools/synth",
      ],
    ],
    ["infra-azure", ["unit/stacks/azure", "unit/infra/azure/components"]],
    ["infra-monitoring", ["unit/infra/monitoring/rules", "unit/infra/monitoring-config"]],
    ["infra-config", ["policy/config", "unit/infra/config", "unit/tools/schema"]],
    ["policy", ["policy/kubernetes", "policy/levels", "policy/traffic"]],
  ])("%s runs its suites, and none that load nothing in process", (scope, expected) => {
    const files = suites(scope);
    for (const suite of expected) expect(files).toContain(`tests/${suite}.test.ts`);
    expect(files.filter((f) => /workflows|toolchain|dockerfile|process|serve\./.test(f))).toEqual(
      [],
    );
  });
});

describe("scripts/mutation.sh", () => {
  test("an unknown scope in MUTATION_SCOPE: exit 2, naming it and the scopes, before any run", () => {
    const r = spawnSync(path.join(ROOT, "scripts/mutation.sh"), [], {
      cwd: ROOT,
      env: { ...process.env, MUTATION_SCOPE: "policy,infra" },
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `mutation: MUTATION_SCOPE names "infra", which is not a scope; use one or more of: ${SCOPES.join(" ")}\n`,
    );
    expect(r.stdout).toBe("");
  });
});
