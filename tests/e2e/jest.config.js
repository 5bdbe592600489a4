/**
 * The real-engine suite: `npm run test:e2e` (always --runInBand: one stack, one cluster).
 * globalSetup builds or reuses the toolchain and starts the suite's own control plane;
 * globalTeardown stops it (when the suite started it) and prints the timings.
 */
const path = require("node:path");

const root = path.resolve(__dirname, "../..");
// Type-checking is `npm run typecheck`; jest only transpiles.
const tsJest = ["ts-jest", { tsconfig: path.join(root, "tsconfig.json"), isolatedModules: true }];

/** @type {import('jest').Config} */
module.exports = {
  rootDir: root,
  displayName: "e2e",
  testEnvironment: "node",
  roots: ["<rootDir>/tests/e2e"],
  testMatch: ["**/*.e2e.test.ts"],
  transform: { "^.+\\.ts$": tsJest },
  globalSetup: "<rootDir>/tests/e2e/global-setup.ts",
  globalTeardown: "<rootDir>/tests/e2e/global-teardown.ts",
  // Each step is bounded by its own timeout; this is the ceiling of one test (a Pulumi up or
  // destroy on a busy 2-core machine, with the provider's own await timeouts below it).
  testTimeout: 15 * 60 * 1000,
  maxWorkers: 1,
  // A failed step must not let the next ones run against a half-deployed stack unnoticed.
  bail: false,
  verbose: true,
};
