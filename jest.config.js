/** Unit, policy and service suites. The real-engine suite has its own config (tests/e2e). */
const tsJest = ["ts-jest", { isolatedModules: true }];

/** @type {import('jest').Config} */
module.exports = {
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
