/**
 * Envoy Gateway as the platform's manifests name it: the GatewayClass the Azure program installs
 * with the controller (infra/azure/gateway.ts) and the namespace the controller runs its Envoy
 * proxies in, which is the data plane's. The app's Gateway names the class and, for a
 * certificate that program issues, a Secret in that namespace (inference-chart.ts); the config's
 * defaults of `ingress.gatewayClassName` and `ingress.controllerNamespace` are these (infra/config.ts).
 */

/** The GatewayClass of the Envoy Gateway controller the Azure program installs, and the default
 * `ingress.gatewayClassName`. */
export const DEFAULT_GATEWAY_CLASS = "envoy-gateway";
/** Where Envoy Gateway runs its controller and its Envoy proxies: the data plane's namespace. */
export const ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system";
