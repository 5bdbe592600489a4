// Mutation testing: `npm run test:mutation` (README "Mutation testing"); not part of .ci/run.
// MUTATION_SCOPE=stacks|policy|model|infra narrows both the mutated files and the jest suites run
// (jest.mutation.config.js); without it, every scope. Reports and each scope's incremental file go
// to reports/mutation/<scope>/ (ignored by git), so a re-run tests only the mutants a change touched.
const SCOPES = {
  stacks: ["stacks/promotion.ts", "stacks/preview-summary.ts"],
  policy: ["policy/**/*.ts"],
  model: ["service/src/model/**/*.ts"],
  infra: ["infra/**/*.ts"],
};
const scope = process.env.MUTATION_SCOPE ?? "all";
if (scope !== "all" && !(scope in SCOPES)) {
  throw new Error(
    `MUTATION_SCOPE=${scope} is not a scope; use one of ${Object.keys(SCOPES).join(", ")}.`,
  );
}
const dir = `reports/mutation/${scope}`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: scope === "all" ? Object.values(SCOPES).flat() : SCOPES[scope],
  testRunner: "jest",
  jest: { configFile: "jest.mutation.config.js" },
  coverageAnalysis: "perTest",
  // Mutants of module-level tables (static mutants) can only be tested by the whole suite, once
  // per mutant: hours on 2 cores. They are reported as ignored; `--ignoreStatic false` runs them.
  ignoreStatic: true,
  // 2 cores shared with the real-engine suite.
  concurrency: 1,
  // A mutant that loops forever costs this much beyond its tests' usual time.
  timeoutMS: 10000,
  incremental: true,
  incrementalFile: `${dir}/incremental.json`,
  reporters: ["html", "json", "clear-text", "progress"],
  htmlReporter: { fileName: `${dir}/index.html` },
  jsonReporter: { fileName: `${dir}/mutation.json` },
  clearTextReporter: { allowEmojis: false, logTests: false, reportScoreTable: true },
  thresholds: { high: 90, low: 80, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
