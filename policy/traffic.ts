/**
 * Traffic-layer policies: the Gateway API objects (Gateway, HTTPRoute) and what no object may
 * carry any more (the annotations of the retired ingress-nginx controller).
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { settingsFor } from "./config";
import { resourcePolicy, stackPolicy, StackViolation } from "./rules";
import { at, isRecord, list, num, Props, rec, str, stringMap } from "./values";
import { DEPLOYMENT, objectRef, SERVICE, selectorMatches, workloadOf } from "./workloads";

export const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
export const HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
export const GRPC_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:GRPCRoute";

/** The annotation prefix of ingress-nginx, retired in March 2026 (no fixes since). */
export const RETIRED_ANNOTATION_PREFIX = "nginx.ingress.kubernetes.io/";

export const noRetiredControllerAnnotations = (): ResourceValidationPolicy => ({
  name: "k8s-no-retired-ingress-annotations",
  description:
    "No object carries annotations of the retired ingress-nginx controller " +
    `(${RETIRED_ANNOTATION_PREFIX}*): nothing maintained reads them.`,
  enforcementLevel: "mandatory",
  remediationSteps:
    "Route with the Gateway API (mlops:ingress.api gateway): a canary is an HTTPRoute's " +
    "backendRefs weights, not annotations (docs/traffic.md).",
  validateResource: (args, reportViolation) => {
    if (!args.type.startsWith("kubernetes:")) return;
    const retired = Object.keys(stringMap(at(args.props, "metadata", "annotations"))).filter((k) =>
      k.startsWith(RETIRED_ANNOTATION_PREFIX),
    );
    if (retired.length > 0) {
      reportViolation(
        `carries annotations of the retired ingress-nginx controller (${retired.join(", ")}): ` +
          "route with the Gateway API instead",
      );
    }
  },
});

/** The namespace a Gateway API reference points into: its own, or the referrer's by default. */
const refNamespace = (ref: Props, own: string): string => str(ref.namespace) ?? own;

export const httpRouteSameNamespace = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "k8s-httproute-same-namespace",
      description:
        "An HTTPRoute attaches to Gateways and sends traffic to Services of its own namespace " +
        "only (no cross-namespace reference, which would need a ReferenceGrant).",
      enforcementLevel: "mandatory",
      remediationSteps:
        "Drop the namespace of parentRefs and backendRefs, or move the route next to them.",
    },
    [HTTP_ROUTE],
    ({ props }) => {
      const own = objectRef(props).namespace;
      const parents = list(at(props, "spec", "parentRefs"))
        .map(rec)
        .filter((p) => refNamespace(p, own) !== own)
        .map((p) => `parentRef ${str(p.name)} is in namespace "${str(p.namespace)}"`);
      const backends = list(at(props, "spec", "rules"))
        .flatMap((r) => list(rec(r).backendRefs))
        .map(rec)
        .filter((b) => refNamespace(b, own) !== own)
        .map((b) => `backendRef ${str(b.name)} is in namespace "${str(b.namespace)}"`);
      return [...parents, ...backends].map((p) => `${p}, not the route's own namespace "${own}"`);
    },
  );

export const gatewayTls = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "k8s-gateway-https",
      description:
        "In prod, every listener of a Gateway is HTTPS and terminates TLS with a certificate.",
      enforcementLevel: "mandatory",
      remediationSteps:
        "Set mlops:ingress.tls true (listener protocol HTTPS, tls.mode Terminate, certificateRefs).",
    },
    [GATEWAY],
    ({ props, settings, notApplicable }) => {
      if (settings.environment !== "prod") notApplicable("HTTPS is required in prod only");
      const listeners = list(at(props, "spec", "listeners")).map(rec);
      if (listeners.length === 0) return ["Gateway has no listener"];
      return listeners.flatMap((l) => {
        const name = str(l.name) ?? "?";
        if (l.protocol !== "HTTPS") {
          return [
            `listener ${name} is ${str(l.protocol) ?? "of no protocol"}: prod serves HTTPS only`,
          ];
        }
        const tls = rec(l.tls);
        return (tls.mode ?? "Terminate") === "Terminate" && list(tls.certificateRefs).length > 0
          ? []
          : [`listener ${name} does not terminate TLS with a certificate (tls.certificateRefs)`];
      });
    },
    settingsFor("environment"),
  );

export const httpRouteBackends = (): StackValidationPolicy =>
  stackPolicy(
    {
      name: "k8s-httproute-backends",
      description:
        "Every weight of an HTTPRoute backend is a whole number from 0 to 100, and every backend " +
        "Service exists in the stack and selects the pods of one of its Deployments (a canary " +
        "route never points at a track that is not deployed).",
      enforcementLevel: "mandatory",
      remediationSteps:
        "Keep mlops:release.canary.weight within 0–100 and deploy the track the route names.",
    },
    (resources) => {
      const services = resources.filter((r) => r.type === SERVICE).map((r) => r.props as Props);
      const podLabels = resources
        .filter((r) => r.type === DEPLOYMENT)
        .map((r) => {
          const props = r.props as Props;
          return {
            namespace: objectRef(props).namespace,
            labels: stringMap(workloadOf(r.type, props)?.podMetadata.labels),
          };
        });
      const out: StackViolation[] = [];
      for (const r of resources.filter((x) => x.type === HTTP_ROUTE)) {
        const props = r.props as Props;
        const { namespace, name } = objectRef(props);
        const report = (message: string) =>
          out.push({ urn: r.urn, message: `HTTPRoute ${namespace}/${name}: ${message}` });
        for (const ref of list(at(props, "spec", "rules")).flatMap((x) =>
          list(rec(x).backendRefs),
        )) {
          const b = rec(ref);
          const target = str(b.name) ?? "?";
          if (b.weight !== undefined) {
            const w = num(b.weight);
            if (w === undefined || !Number.isInteger(w) || w < 0 || w > 100) {
              report(`backend ${target} has weight ${JSON.stringify(b.weight)}: expected 0–100`);
            }
          }
          if ((str(b.kind) ?? "Service") !== "Service") continue;
          const ns = refNamespace(b, namespace);
          const service = services.find(
            (s) => objectRef(s).namespace === ns && objectRef(s).name === target,
          );
          if (service === undefined) {
            report(`backend Service ${ns}/${target} is not part of this stack`);
            continue;
          }
          const selector = at(service, "spec", "selector");
          const selects =
            isRecord(selector) &&
            podLabels.some(
              (d) =>
                d.namespace === ns &&
                selectorMatches({ matchLabels: stringMap(selector) }, d.labels),
            );
          if (!selects) {
            report(
              `backend Service ${ns}/${target} selects the pods of no Deployment of this stack`,
            );
          }
        }
      }
      return out;
    },
  );

export const SECURITY_POLICY = "kubernetes:gateway.envoyproxy.io/v1alpha1:SecurityPolicy";
/** The service's authentication modes that check a credential (AUTH_MODE). */
const AUTHENTICATED_MODES = ["key", "entra"];

/** The AUTH_MODE of a Deployment's containers: what the service is told to check. */
function authModes(props: Props): (string | undefined)[] {
  const containers = list(at(props, "spec", "template", "spec", "containers")).map(rec);
  return containers.map((c) => {
    const env = list(c.env)
      .map(rec)
      .find((e) => e.name === "AUTH_MODE");
    // The service's own default is `key`: a container without the variable still checks keys.
    return env === undefined ? "key" : str(env.value);
  });
}

export const prodAuthenticatedRoutes = (): StackValidationPolicy =>
  stackPolicy(
    {
      name: "k8s-prod-authenticated-inference",
      description:
        "In prod, nobody scores the models anonymously: every inference Deployment checks a " +
        "credential (AUTH_MODE key or entra), and every HTTPRoute and GRPCRoute is the target of " +
        "a SecurityPolicy that authenticates (API keys or JWT) at the Gateway.",
      enforcementLevel: "mandatory",
      remediationSteps:
        'Set mlops:auth.mode to "key" (the default) or "entra"; the program renders the ' +
        "SecurityPolicy of the route (docs/traffic.md, Authentication).",
    },
    (resources, settings) => {
      if (settings.environment !== "prod") return [];
      const out: StackViolation[] = [];
      for (const r of resources.filter((x) => x.type === DEPLOYMENT)) {
        const { namespace, name } = objectRef(r.props as Props);
        const open = authModes(r.props as Props).filter(
          (m) => m === undefined || !AUTHENTICATED_MODES.includes(m),
        );
        if (open.length > 0) {
          out.push({
            urn: r.urn,
            message: `Deployment ${namespace}/${name} serves with AUTH_MODE ${JSON.stringify(open[0] ?? "")}: prod requires key or entra`,
          });
        }
      }
      const protectedRoutes = new Set(
        resources
          .filter((x) => x.type === SECURITY_POLICY)
          .filter((x) => {
            const spec = rec(at(x.props as Props, "spec"));
            return isRecord(spec.apiKeyAuth) || isRecord(spec.jwt);
          })
          .flatMap((x) => {
            const ns = objectRef(x.props as Props).namespace;
            return list(at(x.props as Props, "spec", "targetRefs"))
              .map(rec)
              .map((t) => `${ns}/${str(t.kind)}/${str(t.name)}`);
          }),
      );
      for (const r of resources.filter((x) => x.type === HTTP_ROUTE || x.type === GRPC_ROUTE)) {
        const { namespace, name } = objectRef(r.props as Props);
        const kind = r.type === HTTP_ROUTE ? "HTTPRoute" : "GRPCRoute";
        if (!protectedRoutes.has(`${namespace}/${kind}/${name}`)) {
          out.push({
            urn: r.urn,
            message: `${kind} ${namespace}/${name} is served without authentication: no SecurityPolicy with apiKeyAuth or jwt targets it`,
          });
        }
      }
      return out;
    },
    settingsFor("environment"),
  );

/** Every traffic policy of the pack. */
export const trafficPolicies = (): (ResourceValidationPolicy | StackValidationPolicy)[] => [
  noRetiredControllerAnnotations(),
  httpRouteSameNamespace(),
  gatewayTls(),
  httpRouteBackends(),
  prodAuthenticatedRoutes(),
];
