/** Unit, policy, monitoring and service suites. The real-engine suite has its own config (tests/e2e). */
// Type-checking is `npm run typecheck`; jest only transpiles.
const tsJest = ["ts-jest", { tsconfig: { isolatedModules: true } }];
/** jose (the service's JWT verifier) and cookie (light-my-request's) ship ES modules only: jest's CommonJS runtime needs them
 * transpiled (Node itself loads them with require). */
const esmOnly = {
  transform: {
    "^.+\\.ts$": tsJest,
    "/node_modules/(jose|cookie)/.+\\.js$": [
      "ts-jest",
      { tsconfig: { isolatedModules: true, allowJs: true } },
    ],
  },
  transformIgnorePatterns: ["/node_modules/(?!(jose|cookie)/)"],
};

/** @type {import('jest').Config} */
module.exports = {
  // Loading @pulumi/azure-native takes seconds on a busy 2-core machine.
  testTimeout: 120000,
  projects: [
    {
      displayName: "unit",
      testEnvironment: "node",
      roots: ["<rootDir>/tests/unit"],
      ...esmOnly,
    },
    {
      displayName: "policy",
      testEnvironment: "node",
      roots: ["<rootDir>/tests/policy"],
      transform: { "^.+\\.ts$": tsJest },
    },
    {
      // promtool on the alert rules; globalSetup builds promtool once (Go module proxy, cached).
      displayName: "monitoring",
      testEnvironment: "node",
      roots: ["<rootDir>/tests/monitoring"],
      transform: { "^.+\\.ts$": tsJest },
      globalSetup: "<rootDir>/tests/monitoring/global-setup.ts",
    },
    {
      displayName: "service",
      testEnvironment: "node",
      roots: ["<rootDir>/tests/service"],
      ...esmOnly,
    },
  ],
};
