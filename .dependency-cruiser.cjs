// The import graph of the inference service and of the infrastructure code, checked by
// `npm run lint` (dependency-cruiser): no circle anywhere in service/, the layers of
// service/README.md ("Module map") import downwards only, and infra/k8s knows no platform config.
// Paths are relative to the directory depcruise runs in (the repository root).
// tests/service/import-graph.test.ts runs the same command on a fixture that breaks each rule.
// dependency-cruiser rather than ESLint's import rules: it is built for this one job (a rule is
// a from/to pair of path patterns, circles are a rule of their own), follows TypeScript's
// type-only imports, and runs in two seconds; eslint-plugin-import's no-cycle is, by its own
// documentation, expensive, and it needs an extra resolver to follow TypeScript files.

/** The two transports' adapters and the files that wire them (HTTP app, process). */
const ADAPTERS = "^service/src/(routes/|grpc/|app\\.ts$|server\\.ts$)";
/** The HTTP and gRPC frameworks: only the adapters and the wiring may use them. */
const TRANSPORTS = "(^|/)node_modules/(fastify|@fastify/|find-my-way|@grpc/)";

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "A circle of imports (type-only ones too) means two modules are one concern: move what " +
        "both need into a module both can import (as model/errors.ts serves input.ts and predictor.ts).",
      from: { path: "^service/" },
      to: { circular: true },
    },
    {
      name: "grpc-and-protocol-not-into-http",
      severity: "error",
      comment:
        "gRPC and the protocol layer are served by the core (service/src/core), not by the HTTP " +
        "adapter: import what both transports need from core/ instead of routes/ or app.ts.",
      from: { path: "^service/src/(grpc|protocol)/" },
      to: { path: "^service/src/(routes/|app\\.ts$)" },
    },
    {
      name: "http-not-into-grpc",
      severity: "error",
      comment: "The HTTP adapter does not use the gRPC one; what both need lives in core/.",
      from: { path: "^service/src/routes/" },
      to: { path: "^service/src/grpc/" },
    },
    {
      name: "below-the-adapters",
      severity: "error",
      comment:
        "The core, the protocol layer, the model and the metrics know no transport: they import " +
        "neither an adapter nor the HTTP or gRPC framework.",
      from: { path: "^service/src/(core|protocol|model|metrics)/" },
      to: { path: [ADAPTERS, TRANSPORTS] },
    },
    {
      name: "model-at-the-bottom",
      severity: "error",
      comment: "service/src/model (artifacts, prediction, drift, A/B) imports only itself.",
      from: { path: "^service/src/model/" },
      to: { path: "^service/", pathNot: "^service/src/model/" },
    },
    {
      name: "k8s-not-into-config",
      severity: "error",
      comment:
        "infra/k8s's charts and components take their own props, and the caller maps the config " +
        "to them (infra/manifests.ts, stacks/platform.ts): declare the shape a module reads beside " +
        "it, and a constant with the module that owns it, instead of importing infra/config.ts.",
      from: { path: "^infra/k8s/" },
      to: { path: "^infra/config\\.ts$" },
    },
    {
      name: "server-is-the-entry",
      severity: "error",
      comment: "server.ts is the process (env, listen, shutdown): nothing imports it.",
      from: {},
      to: { path: "^service/src/server\\.ts$" },
    },
  ],
  options: {
    // Type-only imports are edges too: a circle of types is still a circle.
    tsPreCompilationDeps: true,
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^service/(dist|models|public|node_modules)/" },
  },
};
