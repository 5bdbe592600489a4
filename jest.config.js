/** Unit, policy and service suites. The real-engine suite has its own config (tests/e2e). */
// Type-checking is `npm run typecheck`; jest only transpiles.
const tsJest = ["ts-jest", { tsconfig: { isolatedModules: true } }];

/** @type {import('jest').Config} */
module.exports = {
  // Loading @pulumi/azure-native takes seconds on a busy 2-core machine.
  testTimeout: 120000,
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      roots: ["<rootDir>/tests/unit"],
      transform: { "^.+\\.ts$": tsJest },
    },
    {
      displayName: "policy",
      testEnvironment: "node",
      roots: ["<rootDir>/tests/policy"],
      transform: { "^.+\\.ts$": tsJest },
    },
    {
      displayName: "service",
      testEnvironment: "node",
      roots: ["<rootDir>/tests/service"],
      transform: { "^.+\\.ts$": tsJest },
    },
  ],
};
