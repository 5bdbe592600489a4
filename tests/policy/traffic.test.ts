import {
  container,
  deployment,
  edit,
  gateway,
  httpRoute,
  ingress,
  POD_LABELS,
  service,
} from "./fixtures";
import { RunOptions, StubResource, validateResource, validateStack } from "./harness";
import { resourcePolicy, stackPolicy } from "./policies";

const violations = async (name: string, r: StubResource, options: RunOptions = { stack: "prod" }) =>
  (await validateResource(resourcePolicy(name), r, options)).violations;

/** A canary track: its Deployment (pods labelled track canary) and its Service. */
function canaryTrack(): StubResource[] {
  const labels = { ...POD_LABELS, "mlops-platform/track": "canary" };
  return [
    edit(
      edit(deployment("inference-canary"), "spec.template.metadata.labels", labels),
      "spec.selector.matchLabels",
      labels,
    ),
    edit(edit(service(), "metadata.name", "inference-canary"), "spec.selector", labels),
  ];
}

describe("k8s-no-retired-ingress-annotations", () => {
  it("flags any Kubernetes object with ingress-nginx annotations, naming them", async () => {
    const canary = edit(ingress(), "metadata.annotations", {
      "nginx.ingress.kubernetes.io/canary": "true",
      "nginx.ingress.kubernetes.io/canary-weight": "10",
      "pulumi.com/skipAwait": "true",
    });
    expect(await violations("k8s-no-retired-ingress-annotations", canary)).toEqual([
      "carries annotations of the retired ingress-nginx controller " +
        "(nginx.ingress.kubernetes.io/canary, nginx.ingress.kubernetes.io/canary-weight): " +
        "route with the Gateway API instead",
    ]);
    const svc = edit(service(), "metadata.annotations", {
      "nginx.ingress.kubernetes.io/backend-protocol": "GRPC",
    });
    expect(await violations("k8s-no-retired-ingress-annotations", svc)).toHaveLength(1);
  });

  it("passes other annotations and objects without any", async () => {
    const ok = edit(ingress(), "metadata.annotations", { "pulumi.com/skipAwait": "true" });
    expect(await violations("k8s-no-retired-ingress-annotations", ok)).toEqual([]);
    expect(await violations("k8s-no-retired-ingress-annotations", httpRoute())).toEqual([]);
  });
});

describe("k8s-httproute-same-namespace", () => {
  it("passes references without a namespace or with the route's own", async () => {
    const own = edit(httpRoute(), "spec.rules.0.backendRefs.0.namespace", "mlops");
    expect(await violations("k8s-httproute-same-namespace", own)).toEqual([]);
    expect(await violations("k8s-httproute-same-namespace", httpRoute())).toEqual([]);
  });

  it("flags a backend and a parent in another namespace, each by name", async () => {
    const r = edit(
      edit(httpRoute(), "spec.rules.0.backendRefs.0.namespace", "payments"),
      "spec.parentRefs.0.namespace",
      "shared-gateways",
    );
    expect(await violations("k8s-httproute-same-namespace", r)).toEqual([
      'parentRef inference is in namespace "shared-gateways", not the route\'s own namespace "mlops"',
      'backendRef inference is in namespace "payments", not the route\'s own namespace "mlops"',
    ]);
  });
});

describe("k8s-gateway-https", () => {
  it("passes an HTTPS listener that terminates TLS with a certificate", async () => {
    expect(await violations("k8s-gateway-https", gateway())).toEqual([]);
  });

  it("flags an HTTP listener in prod, and a listener without a certificate", async () => {
    const http = edit(gateway(), "spec.listeners.0", { name: "http", protocol: "HTTP", port: 80 });
    expect(await violations("k8s-gateway-https", http)).toEqual([
      "listener http is HTTP: prod serves HTTPS only",
    ]);
    const noCert = edit(gateway(), "spec.listeners.0.tls.certificateRefs", []);
    expect(await violations("k8s-gateway-https", noCert)).toEqual([
      "listener https does not terminate TLS with a certificate (tls.certificateRefs)",
    ]);
    const passthrough = edit(gateway(), "spec.listeners.0.tls.mode", "Passthrough");
    expect(await violations("k8s-gateway-https", passthrough)).toHaveLength(1);
  });

  it("does not apply outside prod", async () => {
    const http = edit(gateway(), "spec.listeners.0", { name: "http", protocol: "HTTP", port: 80 });
    const outcome = await validateResource(resourcePolicy("k8s-gateway-https"), http, {
      stack: "dev",
    });
    expect(outcome.violations).toEqual([]);
    expect(outcome.notApplicable).toBe("HTTPS is required in prod only");
  });
});

describe("k8s-httproute-backends (stack)", () => {
  const run = (resources: StubResource[]) =>
    validateStack(stackPolicy("k8s-httproute-backends"), resources, { stack: "prod" });
  const urn = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::inference";

  it("passes a canary split whose two Services select deployed tracks", async () => {
    const route = httpRoute([
      ["inference", 90],
      ["inference-canary", 10],
    ]);
    expect(await run([deployment(), service(), ...canaryTrack(), route])).toEqual({
      violations: [],
    });
  });

  it("flags weights outside 0–100, naming the backend and the value", async () => {
    const route = httpRoute([
      ["inference", 101],
      ["inference-canary", -1],
    ]);
    expect(await run([deployment(), service(), ...canaryTrack(), route])).toEqual({
      violations: [
        {
          resource: urn,
          message: "HTTPRoute mlops/inference: backend inference has weight 101: expected 0–100",
        },
        {
          resource: urn,
          message:
            "HTTPRoute mlops/inference: backend inference-canary has weight -1: expected 0–100",
        },
      ],
    });
  });

  it("flags a canary backend whose Service is not in the stack, or selects no Deployment", async () => {
    const route = httpRoute([
      ["inference", 90],
      ["inference-canary", 10],
    ]);
    expect(await run([deployment(), service(), route])).toEqual({
      violations: [
        {
          resource: urn,
          message:
            "HTTPRoute mlops/inference: backend Service mlops/inference-canary is not part of this stack",
        },
      ],
    });
    const [, canaryService] = canaryTrack();
    expect(await run([deployment(), service(), canaryService, route])).toEqual({
      violations: [
        {
          resource: urn,
          message:
            "HTTPRoute mlops/inference: backend Service mlops/inference-canary selects the pods of no Deployment of this stack",
        },
      ],
    });
  });
});

describe("traffic policies at their boundaries", () => {
  const run = (resources: StubResource[]) =>
    validateStack(stackPolicy("k8s-httproute-backends"), resources, { stack: "prod" });
  const urn = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::inference";

  it("weights 0 and 100 are allowed; 10.5 and a string are not", async () => {
    const ok = httpRoute([
      ["inference", 100],
      ["inference-canary", 0],
    ]);
    expect(await run([deployment(), service(), ...canaryTrack(), ok])).toEqual({ violations: [] });
    const bad = edit(
      httpRoute([
        ["inference", 89.5],
        ["inference-canary", 10],
      ]),
      "spec.rules.0.backendRefs.1.weight",
      "10",
    );
    expect((await run([deployment(), service(), ...canaryTrack(), bad])).violations).toEqual([
      {
        resource: urn,
        message: "HTTPRoute mlops/inference: backend inference has weight 89.5: expected 0–100",
      },
      {
        resource: urn,
        message:
          'HTTPRoute mlops/inference: backend inference-canary has weight "10": expected 0–100',
      },
    ]);
  });

  it("a backend of another kind is not looked up as a Service; one in another namespace is", async () => {
    const other = edit(httpRoute(), "spec.rules.0.backendRefs.0.kind", "ServiceImport");
    expect(await run([other])).toEqual({ violations: [] });
    const elsewhere = edit(httpRoute(), "spec.rules.0.backendRefs.0.namespace", "payments");
    expect(await run([deployment(), service(), elsewhere])).toEqual({
      violations: [
        {
          resource: urn,
          message:
            "HTTPRoute mlops/inference: backend Service payments/inference is not part of this stack",
        },
      ],
    });
  });

  it("a prod Gateway without listeners is refused", async () => {
    expect(await violations("k8s-gateway-https", edit(gateway(), "spec.listeners", []))).toEqual([
      "Gateway has no listener",
    ]);
  });
});

describe("k8s-prod-authenticated-inference (stack)", () => {
  const run = (resources: StubResource[], stack: "prod" | "dev" = "prod") =>
    validateStack(stackPolicy("k8s-prod-authenticated-inference"), resources, { stack });
  const withAuthMode = (mode: string) =>
    edit(deployment(), "spec.template.spec.containers", [
      { ...container(), env: [{ name: "AUTH_MODE", value: mode }] },
    ]);
  const securityPolicy = (spec: Record<string, unknown>, target = "inference"): StubResource => ({
    type: "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy",
    name: "inference",
    props: {
      apiVersion: "gateway.envoyproxy.io/v1alpha1",
      kind: "SecurityPolicy",
      metadata: { name: "inference", namespace: "mlops" },
      spec: {
        targetRefs: [{ group: "gateway.networking.k8s.io", kind: "HTTPRoute", name: target }],
        ...spec,
      },
    },
  });
  const route = () => httpRoute();
  const keys = { apiKeyAuth: { credentialRefs: [{ name: "inference-key-primary" }] } };

  it("passes key or entra Deployments whose route a SecurityPolicy authenticates", async () => {
    for (const mode of ["key", "entra"]) {
      const outcome = await run([withAuthMode(mode), service(), route(), securityPolicy(keys)]);
      expect([mode, outcome.violations]).toEqual([mode, []]);
    }
    const jwt = securityPolicy({ jwt: { providers: [{ name: "entra" }] } });
    expect((await run([deployment(), service(), route(), jwt])).violations).toEqual([]);
  });

  it("refuses a prod Deployment that serves with AUTH_MODE none", async () => {
    const outcome = await run([withAuthMode("none"), service(), route(), securityPolicy(keys)]);
    expect(outcome.violations).toEqual([
      {
        message:
          'Deployment mlops/inference serves with AUTH_MODE "none": prod requires key or entra',
        resource: "kubernetes:apps/v1:Deployment::inference",
      },
    ]);
  });

  it("refuses a prod route that no authenticating SecurityPolicy targets", async () => {
    const message =
      "HTTPRoute mlops/inference is served without authentication: no SecurityPolicy with apiKeyAuth or jwt targets it";
    for (const resources of [
      [deployment(), service(), route()],
      [deployment(), service(), route(), securityPolicy(keys, "another-route")],
      [deployment(), service(), route(), securityPolicy({ cors: { allowOrigins: ["*"] } })],
    ]) {
      expect((await run(resources)).violations.map((v) => v.message)).toEqual([message]);
    }
  });

  it("does not apply outside prod", async () => {
    expect((await run([withAuthMode("none"), service(), route()], "dev")).violations).toEqual([]);
  });
});
