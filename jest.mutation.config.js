/**
 * The jest config Stryker runs (stryker.config.mjs): the projects of jest.config.js whose tests
 * load the mutated files in jest's own process, narrowed to the scope in MUTATION_SCOPE, so the
 * initial run and each mutant's run start only what can kill a mutant of that scope.
 */
const base = require("./jest.config.js");

/** Test files of each scope, by the start of their names; a project not named runs none. */
const SCOPES = {
  // promotion.ts and preview-summary.ts are loaded only by their own unit suites.
  stacks: { unit: ["promot", "preview-summary"] },
  // Not program.test.ts: it runs the whole program under mocks for every stack (seconds per test),
  // which made a policy mutant's run 10 s; the policy suites check each policy input by input.
  policy: { policy: ["azure", "config", "kubernetes", "levels", "traffic"] },
  // The suites that test the model code directly, without a server or training: math, inputs,
  // the artifact contract and the store, the predictor's edges, the A/B router. The route,
  // property, closed-form HTTP, artifact-loading, training and A/B-process suites train the bundled
  // models or start servers for every mutant's run: with them the scope ran 10 mutants a minute
  // on 2 cores.
  model: {
    service: ["ab-router", "artifact-contract", "closed-form-edges", "inputs", "math"],
  },
  // infra/config.ts is also loaded by the policy suites (stack settings, the program under mocks).
  infra: { unit: null, policy: null },
  all: { unit: null, policy: null, service: null },
};

/** Suites that load none of the mutated files in jest's process: they read workflow files, build
 * toolchains, or run the service in a child process. */
const NOT_IN_PROCESS = [
  "/tests/unit/dockerfile\\.test\\.ts$",
  "/tests/unit/smoke-port-forward\\.test\\.ts$",
  "/tests/unit/toolchain\\.test\\.ts$",
  "/tests/unit/toolchain-prometheus\\.test\\.ts$",
  "/tests/unit/workflows\\.test\\.ts$",
  "/tests/service/process\\.test\\.ts$",
  "/tests/service/serve\\.test\\.ts$",
];

const scopeName = process.env.MUTATION_SCOPE ?? "all";
const scope = SCOPES[scopeName];
if (scope === undefined) {
  throw new Error(
    `MUTATION_SCOPE=${scopeName} is not a scope; use one of ${Object.keys(SCOPES).join(", ")}.`,
  );
}

const projects = base.projects
  .filter((project) => project.displayName in scope)
  .map((project) => {
    const only = scope[project.displayName];
    return {
      ...project,
      testPathIgnorePatterns: ["/node_modules/", ...NOT_IN_PROCESS],
      ...(only === null
        ? {}
        : { testRegex: `/tests/${project.displayName}/(${only.join("|")})[^/]*\\.test\\.ts$` }),
    };
  });

// A single project is given as the config itself: under Stryker, jest found no test in a
// `projects` list of one inline project.
const { projects: _all, ...shared } = base;
/** @type {import('jest').Config} */
module.exports = projects.length === 1 ? { ...shared, ...projects[0] } : { ...shared, projects };
