/**
 * The jest config Stryker runs (stryker.config.mjs): the projects of jest.config.js whose tests
 * load the mutated files in jest's own process, narrowed to the scope in MUTATION_SCOPE, so the
 * initial run and each mutant's run start only what can kill a mutant of that scope.
 */
const base = require("./jest.config.js");

/** Test files of each scope, by the start of their paths under the project's folder (regular
 * expressions); a project not named runs none. */
const SCOPES = {
  // promotion.ts and preview-summary.ts are loaded only by their own unit suites.
  tools: { unit: ["tools/promot", "tools/preview-summary"] },
  // Not program.test.ts: it runs the whole program under mocks for every stack (seconds per test),
  // which made a policy mutant's run 10 s; the policy suites check each policy input by input.
  policy: { policy: ["azure", "config", "kubernetes", "levels", "traffic"] },
  // The suites that test the model code directly, without a server or training: math, inputs,
  // client errors, the artifact contract and the store, the predictor's edges, the A/B router.
  // The route, property, closed-form HTTP, artifact-loading, training and A/B-process suites
  // train the bundled models or start servers for every mutant's run: with them the scope ran 10
  // mutants a minute on 2 cores.
  model: {
    service: ["ab-router", "artifact-contract", "closed-form-edges", "errors", "inputs", "math"],
  },
  // infra/config.ts is also loaded by the policy suites (stack settings, the program under mocks).
  // infra's parts run each static mutant against every suite of the part (stryker.config.mjs), so
  // each part runs the suites that load its files, not the whole unit and policy projects:
  // the config's parse, defaults, errors and JSON Schema, and the bundled models' pins;
  "infra-config": {
    unit: ["infra/config", "tools/schema", "infra/monitoring-config", "infra/models"],
    policy: ["config"],
  },
  // the manifests (security fields, release strategies, synth, the program under mocks);
  "infra-k8s": {
    unit: [
      "infra/k8s/manifest-security",
      "infra/k8s/release",
      "tools/synth",
      "stacks/program",
      "infra/k8s/labels",
      "infra/k8s/training-chart",
      "infra/k8s/inference-chart",
    ],
  },
  // the Azure components each built on its own under mocks (tests/unit/infra/azure/) and
  // the Azure stacks' program under mocks (stacks/azure.test.ts). Not stacks/program.test.ts: it would add 4.5 s to
  // each mutant's run (it also loads @pulumi/azure-native);
  "infra-azure": { unit: ["infra/azure/", "stacks/azure"] },
  // the monitoring chart, rules, dashboard and files, tested as functions (not the program
  // suite, stacks/monitoring.test.ts, which would triple each mutant's run).
  "infra-monitoring": { unit: ["infra/monitoring/", "infra/monitoring-config"] },
};

/** Suites that load none of the mutated files in jest's process: they read workflow files, build
 * toolchains, or run the service in a child process. */
const NOT_IN_PROCESS = [
  "/tests/unit/toolchain/dockerfile\\.test\\.ts$",
  "/tests/unit/workflows/smoke-port-forward\\.test\\.ts$",
  "/tests/unit/toolchain/toolchain\\.test\\.ts$",
  "/tests/unit/toolchain/prometheus\\.test\\.ts$",
  "/tests/unit/workflows/workflows\\.test\\.ts$",
  "/tests/service/process\\.test\\.ts$",
  "/tests/service/serve\\.test\\.ts$",
];

const scopeName = process.env.MUTATION_SCOPE ?? "";
const scope = SCOPES[scopeName];
if (scope === undefined) {
  throw new Error(
    `MUTATION_SCOPE=${scopeName} is not a scope; use one of ${Object.keys(SCOPES).join(", ")}.`,
  );
}

const projects = base.projects.filter((project) => project.displayName in scope);
const tests = projects.map((project) => {
  const only = scope[project.displayName];
  return `${project.displayName}/${only === null ? "" : `(${only.join("|")})`}`;
});

// One inline config whose roots and testRegex cover the scope's projects (they share one transform
// and environment): under Stryker's jest runner, jest found no test in a `projects` list, of one
// inline project or of two.
const { projects: _all, ...shared } = base;
/** @type {import('jest').Config} */
module.exports = {
  ...shared,
  testEnvironment: "node",
  transform: projects[0].transform,
  roots: projects.map((project) => project.roots).flat(),
  testRegex: `/tests/(${tests.join("|")})[^/]*\\.test\\.ts$`,
  testPathIgnorePatterns: ["/node_modules/", ...NOT_IN_PROCESS],
};
