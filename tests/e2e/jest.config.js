/**
 * The real-engine suite: `npm run test:e2e` (always --runInBand: one stack, one cluster), two
 * projects, each with its own globalSetup (jest runs a project's only when one of its tests runs):
 *
 * - `e2e`: the platform on the suite's own cluster with real nodes. globalSetup builds or reuses
 *   the toolchain and starts that cluster; globalTeardown stops it and prints the timings.
 * - `e2e-autoscaling`: tests/e2e/autoscaling.e2e.test.ts, the training pool from zero and back
 *   under Karpenter, on an API-only control plane the test file starts and stops itself.
 *   globalSetup only builds or reuses the toolchain it needs (kubernetes, kwok, karpenter), so
 *   `--selectProjects e2e-autoscaling` (npm run test:e2e:autoscaling) never starts the real nodes.
 */
const path = require("node:path");

const root = path.resolve(__dirname, "../..");
// Type-checking is `npm run typecheck`; jest only transpiles.
const tsJest = ["ts-jest", { tsconfig: path.join(root, "tsconfig.json"), isolatedModules: true }];
const AUTOSCALING = "**/tests/e2e/autoscaling.e2e.test.ts";
const shared = {
  rootDir: root,
  testEnvironment: "node",
  roots: ["<rootDir>/tests/e2e"],
  transform: { "^.+\\.ts$": tsJest },
};

/** @type {import('jest').Config} */
module.exports = {
  // Each step is bounded by its own timeout; this is the ceiling of one test (a Pulumi up or
  // destroy on a busy 2-core machine, with the provider's own await timeouts below it).
  testTimeout: 15 * 60 * 1000,
  maxWorkers: 1,
  // A failed step must not let the next ones run against a half-deployed stack unnoticed.
  bail: false,
  verbose: true,
  projects: [
    {
      ...shared,
      displayName: "e2e",
      testMatch: ["**/*.e2e.test.ts"],
      testPathIgnorePatterns: ["/node_modules/", "/tests/e2e/autoscaling\\.e2e\\.test\\.ts$"],
      globalSetup: "<rootDir>/tests/e2e/global-setup.ts",
      globalTeardown: "<rootDir>/tests/e2e/global-teardown.ts",
    },
    {
      ...shared,
      displayName: "e2e-autoscaling",
      testMatch: [AUTOSCALING],
      globalSetup: "<rootDir>/tests/e2e/autoscaling-setup.ts",
    },
  ],
};
