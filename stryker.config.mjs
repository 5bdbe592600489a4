// Mutation testing: `npm run test:mutation` (scripts/mutation.sh, README "Mutation testing"); not
// part of .ci/run. One run mutates one scope, named in MUTATION_SCOPE, and runs that scope's jest
// suites (jest.mutation.config.js); scripts/mutation.sh runs the scopes in turn. Reports and each
// scope's incremental file go to reports/mutation/<scope>/ (ignored by git), so a re-run tests
// only the mutants a change touched.
const SCOPES = {
  tools: ["tools/promotion.ts", "tools/preview-summary.ts"],
  policy: ["policy/**/*.ts"],
  model: ["service/src/model/**/*.ts"],
  // infra/ in four parts, each with its own suites, report and incremental file.
  "infra-config": ["infra/config.ts", "infra/models.ts"],
  // The charts and the app component, with the config-to-props adapter that renders them.
  "infra-k8s": ["infra/k8s/**/*.ts", "infra/manifests.ts"],
  // The image build and push (infra/image.ts) is run by the program, as the Azure code is.
  "infra-azure": ["infra/azure/**/*.ts", "infra/image.ts"],
  "infra-monitoring": ["infra/monitoring/**/*.ts"],
};
const scope = process.env.MUTATION_SCOPE;
if (!(scope in SCOPES)) {
  throw new Error(
    `MUTATION_SCOPE=${scope ?? ""} is not a scope; use one of ${Object.keys(SCOPES).join(", ")} ` +
      "(npm run test:mutation runs each in turn).",
  );
}
const dir = `reports/mutation/${scope}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: SCOPES[scope],
  testRunner: "jest",
  // Not only the suites jest's static import graph relates to a mutated file: the program suites
  // load stacks/index with require() inside jest.isolateModules, which that graph does not follow,
  // so with findRelatedTests they never ran (every mutant of infra/k8s/app.ts had no coverage).
  jest: { configFile: "jest.mutation.config.js", enableFindRelatedTests: false },
  // perTest: a mutant runs only the tests that executed it. Not in infra-k8s and infra-azure:
  // their program suites run the program once per stack and share that run between tests (a Map
  // of promises), so only the first test of a stack would be counted as covering what the run
  // executed, and a mutant would meet only that test. There each mutant runs every suite of its
  // part.
  coverageAnalysis: ["infra-k8s", "infra-azure"].includes(scope) ? "all" : "perTest",
  // Mutants of module-level tables (static mutants) can only be tested by reloading and running
  // every suite of the scope, once per mutant. In tools, policy and model they are reported as
  // ignored (`--ignoreStatic false` runs them); there a mutant covered both at load and by tests
  // ("hybrid") runs in those tests only, so its score is a lower bound.
  //
  // infra's parts run them: their suites build charts and programs once per describe block, so
  // most of their mutants are hybrid, and hot-swapped into a test they would meet objects the
  // describe block built unmutated. Measured that way, infra/k8s/security.ts scored 10 %; with
  // each static or hybrid mutant reloaded and run against all of the part's suites, 100 %.
  ignoreStatic: !scope.startsWith("infra-"),
  // 2 cores; `npm run test:mutation -- --concurrency 2` on an otherwise idle machine.
  concurrency: 1,
  // A mutant that loops forever costs this much beyond its tests' usual time.
  timeoutMS: 10000,
  incremental: true,
  incrementalFile: `${dir}/incremental.json`,
  reporters: ["html", "json", "clear-text", "progress"],
  htmlReporter: { fileName: `${dir}/index.html` },
  jsonReporter: { fileName: `${dir}/mutation.json` },
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true },
  // A scope under 80 % fails its run (the bar of the README's table).
  thresholds: { high: 90, low: 80, break: 80 },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
