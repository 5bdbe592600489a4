/**
 * The documented config errors: a raw `mlops` namespace and the exact message parseConfig must
 * throw for it. tests/unit/infra/config.test.ts and monitoring-config.test.ts assert the messages;
 * tests/unit/tools/schema.test.ts checks that the JSON Schema refuses each as well, where it can.
 */
export type ConfigErrorCase = [name: string, raw: Record<string, unknown>, message: string];

/** Minimal valid configs the cases (and the config tests) start from. */
export const DIGEST = "registry.example/mlops-inference@sha256:" + "a".repeat(64);
export const local = { environment: "local", image: { ref: "mlops-inference:0.1.0" } };
export const prod = {
  environment: "prod",
  target: "azure",
  image: { ref: DIGEST },
  app: { replicas: 3 },
};
const azure = { environment: "dev", target: "azure", image: { build: true } };

export const CONFIG_ERRORS: ConfigErrorCase[] = [
  [
    "unknown environment",
    { ...local, environment: "staging" },
    'mlops:environment: got "staging"; allowed: local, dev, prod',
  ],
  ["unknown target", { ...local, target: "gcp" }, 'mlops:target: got "gcp"; allowed: local, azure'],
  [
    "typo in a key",
    { ...local, app: { replica: 2 } },
    "mlops:app.replica: got 2; unknown key; allowed: app.namespace, app.replicas, app.autoscaling, app.resources, app.models, app.modelTraffic, app.modelShadow, app.serviceType, app.nodePort, app.terminationGracePeriodSeconds",
  ],
  [
    "unknown top-level key",
    { ...local, colour: "blue" },
    'mlops:colour: got "blue"; unknown key; allowed: environment, target, owner, tags, azure, image, app, ingress, training, release',
  ],
  [
    "replicas not a number",
    { ...local, app: { replicas: "two" } },
    'mlops:app.replicas: got "two"; expected a whole number from 1 to 100',
  ],
  [
    "replicas 0",
    { ...local, app: { replicas: 0 } },
    "mlops:app.replicas: got 0; expected a whole number from 1 to 100",
  ],
  [
    "prod with one replica",
    { ...prod, app: { replicas: 1 } },
    "mlops:app.replicas: got 1; prod needs at least 2 replicas",
  ],
  [
    "HPA ceiling under the floor",
    { ...local, app: { replicas: 4, autoscaling: { maxReplicas: 2 } } },
    "mlops:app.autoscaling.maxReplicas: got 2; must be at least app.replicas (4)",
  ],
  [
    "limit under request",
    { ...local, app: { resources: { cpuRequestMillis: 500, cpuLimitMillis: 100 } } },
    "mlops:app.resources.cpuLimitMillis: got 100; must be at least app.resources.cpuRequestMillis (500)",
  ],
  [
    "unknown model",
    { ...local, app: { models: { iris: "1" } } },
    'mlops:app.models.iris: got "1"; unknown model; the service ships mpg-regressor, penguin-classifier',
  ],
  [
    "missing image ref",
    { environment: "local" },
    "mlops:image.ref: got nothing; required when image.build is false: set repo:tag, or repo@sha256:<digest> in prod",
  ],
  [
    "latest tag",
    { ...local, image: { ref: "mlops-inference:latest" } },
    'mlops:image.ref: got "mlops-inference:latest"; pin a version tag or a digest, not "latest"',
  ],
  [
    "untagged image",
    { ...local, image: { ref: "mlops-inference" } },
    'mlops:image.ref: got "mlops-inference"; use <repo>:<tag> or <repo>@sha256:<64 hex>',
  ],
  [
    "prod by tag",
    { ...prod, image: { ref: "mlops-inference:1.0" } },
    'mlops:image.ref: got "mlops-inference:1.0"; prod deploys by digest: use <repo>@sha256:<64 hex>',
  ],
  [
    "ref with build",
    { ...local, image: { build: true, ref: "x:1" } },
    'mlops:image.ref: got "x:1"; leave it unset when image.build is true',
  ],
  [
    "prod without TLS",
    { ...prod, ingress: { tls: false } },
    "mlops:ingress.tls: got false; prod serves over TLS: set it to true",
  ],
  [
    "bad host",
    { ...local, ingress: { host: "Not A Host" } },
    'mlops:ingress.host: got "Not A Host"; expected a DNS host name',
  ],
  [
    "an old stack's IngressClass, now that the Gateway API is the default",
    { ...local, ingress: { className: "nginx" } },
    'mlops:ingress.className: got "nginx"; the IngressClass of ingress.api: ingress. The traffic layer is the Gateway API by default: remove ingress.className (the Gateway\'s class is ingress.gatewayClassName, default "envoy-gateway"), or set ingress.api: ingress with the class and ingress.controllerNamespace of the Ingress controller you run',
  ],
  [
    "unknown traffic API",
    { ...local, ingress: { api: "istio" } },
    'mlops:ingress.api: got "istio"; allowed: gateway, ingress',
  ],
  [
    "an Ingress without its class",
    { ...local, ingress: { api: "ingress", controllerNamespace: "traefik" } },
    "mlops:ingress.className: got nothing; required with ingress.api: ingress: the IngressClass of the controller you run",
  ],
  [
    "an Ingress without its controller's namespace",
    { ...local, ingress: { api: "ingress", className: "traefik" } },
    "mlops:ingress.controllerNamespace: got nothing; required with ingress.api: ingress: the namespace of that controller's pods (the NetworkPolicy admits it)",
  ],
  [
    "a GatewayClass with an Ingress",
    {
      ...local,
      ingress: {
        api: "ingress",
        className: "traefik",
        controllerNamespace: "traefik",
        gatewayClassName: "eg",
      },
    },
    'mlops:ingress.gatewayClassName: got "eg"; only used with ingress.api: gateway',
  ],
  [
    "a GatewayClass name that is no DNS name",
    { ...local, ingress: { gatewayClassName: "Envoy Gateway" } },
    'mlops:ingress.gatewayClassName: got "Envoy Gateway"; expected a GatewayClass name',
  ],
  [
    "bad schedule",
    { ...local, training: { schedule: "every day" } },
    'mlops:training.schedule: got "every day"; expected a cron expression of five fields (e.g. "0 3 * * *") or @daily/@weekly/...',
  ],
  [
    "training pool minimum above 0",
    { ...prod, azure: { trainingPool: { minCount: 1 } } },
    "mlops:azure.trainingPool.minCount: got 1; the training pool scales to zero when idle: it must be 0",
  ],
  [
    "training pool maximum 0",
    { ...prod, azure: { trainingPool: { maxCount: 0 } } },
    "mlops:azure.trainingPool.maxCount: got 0; at least 1, or the training job can never run",
  ],
  [
    "system pool at 0",
    { ...prod, azure: { systemPool: { minCount: 0 } } },
    "mlops:azure.systemPool.minCount: got 0; the system pool runs the cluster's add-ons and never scales to 0: use 1 or more",
  ],
  [
    "bad VM size",
    { ...prod, azure: { systemPool: { vmSize: "big" } } },
    'mlops:azure.systemPool.vmSize: got "big"; expected an Azure VM size such as "Standard_D4s_v5"',
  ],
  [
    "azure settings on a local target",
    { ...local, azure: {} },
    'mlops:azure: got {}; only allowed when mlops:target is "azure"',
  ],
  [
    "prod on a local target",
    { ...prod, target: "local" },
    'mlops:target: got "local"; a prod stack must target "azure" (local clusters are for the local and dev environments)',
  ],
  [
    "unknown release strategy",
    { ...local, release: { strategy: "yolo" } },
    'mlops:release.strategy: got "yolo"; allowed: rolling, canary, blueGreen',
  ],
  [
    "unknown service type",
    { ...local, app: { serviceType: "ExternalName" } },
    'mlops:app.serviceType: got "ExternalName"; allowed: ClusterIP, NodePort, LoadBalancer',
  ],
  [
    "a node port below the node-port range",
    { ...local, app: { serviceType: "NodePort", nodePort: 8080 } },
    "mlops:app.nodePort: got 8080; expected a whole number from 30000 to 32767",
  ],
  [
    "a node port on a ClusterIP Service",
    { ...local, app: { nodePort: 30080 } },
    "mlops:app.nodePort: got 30080; a ClusterIP Service has no node port: set app.serviceType to NodePort (or LoadBalancer)",
  ],
  [
    "A/B weights not adding up",
    { ...local, app: { modelTraffic: { "mpg-regressor": { "1": 90, "2": 5 } } } },
    'mlops:app.modelTraffic.mpg-regressor: got {"1":90,"2":5}; weights must add up to 100, not 95',
  ],
  [
    "A/B weight out of range",
    { ...local, app: { modelTraffic: { "mpg-regressor": { "1": 150, "2": -50 } } } },
    "mlops:app.modelTraffic.mpg-regressor.1: got 150; expected a whole number from 0 to 100",
  ],
  [
    "A/B on an unknown model",
    { ...local, app: { modelTraffic: { iris: { "1": 100 } } } },
    'mlops:app.modelTraffic.iris: got {"1":100}; unknown model; the service ships mpg-regressor, penguin-classifier',
  ],
  [
    "shadow of an unknown model",
    { ...local, app: { modelShadow: { iris: "2" } } },
    'mlops:app.modelShadow.iris: got "2"; unknown model; the service ships mpg-regressor, penguin-classifier',
  ],
  [
    "shadow of the serving version",
    { ...local, app: { modelShadow: { "mpg-regressor": "1" } } },
    'mlops:app.modelShadow.mpg-regressor: got "1"; this version already answers every request: shadow a candidate version instead',
  ],
  [
    "shadow of a version with all the traffic",
    {
      ...local,
      app: {
        modelTraffic: { "mpg-regressor": { "1": 0, "2": 100 } },
        modelShadow: { "mpg-regressor": "2" },
      },
    },
    'mlops:app.modelShadow.mpg-regressor: got "2"; this version already answers every request: shadow a candidate version instead',
  ],
  [
    "unknown AKS tier",
    { ...prod, azure: { tier: "Gold" } },
    'mlops:azure.tier: got "Gold"; allowed: Free, Standard, Premium',
  ],
  [
    "a zone the regions don't have",
    { ...prod, azure: { availabilityZones: ["1", "4"] } },
    'mlops:azure.availabilityZones: got ["1","4"]; expected a list of distinct zones from 1, 2, 3, or [] for none',
  ],
  [
    "a zone twice",
    { ...prod, azure: { availabilityZones: ["1", "1"] } },
    'mlops:azure.availabilityZones: got ["1","1"]; expected a list of distinct zones from 1, 2, 3, or [] for none',
  ],
  [
    "an interactive kubelogin mode",
    { ...prod, azure: { kubeloginMode: "interactive" } },
    'mlops:azure.kubeloginMode: got "interactive"; allowed: azurecli, workloadidentity, spn, msi, devicecode',
  ],
  [
    "unknown deployer principal type",
    { ...prod, azure: { deployerPrincipalType: "Group" } },
    'mlops:azure.deployerPrincipalType: got "Group"; allowed: ServicePrincipal, User',
  ],
  [
    "registry name with a hyphen",
    { ...prod, azure: { registry: { name: "mlops-acr" } } },
    'mlops:azure.registry.name: got "mlops-acr"; expected 5 to 50 lowercase letters or digits',
  ],
  [
    "name suffix too long",
    { ...prod, azure: { nameSuffix: "averyveryverylongsuffix" } },
    'mlops:azure.nameSuffix: got "averyveryverylongsuffix"; expected 4 to 12 lowercase letters or digits',
  ],
  [
    "the retired registrySku (the registry is the bootstrap's)",
    { ...prod, azure: { registrySku: "Premium" } },
    'mlops:azure.registrySku: got "Premium"; unknown key; allowed: azure.location, azure.kubernetesVersion, azure.systemPool, azure.trainingPool, azure.scaleDownUnneededMinutes, azure.mlWorkspace, azure.tier, azure.availabilityZones, azure.kubeloginMode, azure.deployerPrincipalType, azure.registry, azure.nameSuffix',
  ],
  [
    "the retired training TTL (history limits keep finished Jobs)",
    { ...local, training: { ttlSecondsAfterFinished: 3600 } },
    "mlops:training.ttlSecondsAfterFinished: got 3600; unknown key; allowed: training.schedule, training.suspend, training.cpuRequestMillis, training.memoryRequestMib, training.activeDeadlineSeconds, training.expectedDurationMinutes",
  ],
  [
    "boolean as text",
    { ...local, training: { suspend: "yes" } },
    'mlops:training.suspend: got "yes"; expected true or false',
  ],
];

export const MONITORING_CONFIG_ERRORS: ConfigErrorCase[] = [
  [
    "managed Prometheus off Azure",
    { ...local, monitoring: { scraper: "azure-managed" } },
    'mlops:monitoring.scraper: got "azure-managed"; AKS managed Prometheus needs mlops:target "azure"; use "prometheus-operator" or "none"',
  ],
  [
    "unknown scraper",
    { ...local, monitoring: { scraper: "datadog" } },
    'mlops:monitoring.scraper: got "datadog"; allowed: none, prometheus-operator, azure-managed',
  ],
  [
    "Grafana without managed Prometheus",
    { ...azure, monitoring: { scraper: "none", grafana: true } },
    'mlops:monitoring.grafana: got true; only allowed when monitoring.scraper is "azure-managed"',
  ],
  [
    "latency bound beyond the histogram",
    { ...local, monitoring: { latencyP99Millis: 2500 } },
    "mlops:monitoring.latencyP99Millis: got 2500; expected a whole number from 1 to 2499",
  ],
  [
    "PSI threshold not a number",
    { ...local, monitoring: { driftPsiThreshold: "high" } },
    'mlops:monitoring.driftPsiThreshold: got "high"; expected a number from 0.01 to 10',
  ],
  [
    "objective of 100 % (no error budget)",
    { ...azure, monitoring: { availabilityObjectivePercent: 100 } },
    "mlops:monitoring.availabilityObjectivePercent: got 100; expected a number from 90 to 99.99",
  ],
  [
    "not an action group id",
    { ...azure, monitoring: { actionGroupId: "oncall" } },
    'mlops:monitoring.actionGroupId: got "oncall"; expected an action group resource id',
  ],
  [
    "operator labels without the operator",
    { ...local, monitoring: { operatorLabels: { release: "kps" } } },
    'mlops:monitoring.operatorLabels: got {"release":"kps"}; only allowed when monitoring.scraper is "prometheus-operator"',
  ],
  [
    "an operator label value that is no label value",
    {
      ...local,
      monitoring: { scraper: "prometheus-operator", operatorLabels: { release: "a b" } },
    },
    'mlops:monitoring.operatorLabels.release: got "a b"; expected a Kubernetes label value (≤ 63 chars)',
  ],
  [
    "typo in a key",
    { ...local, monitoring: { driftThreshold: 0.3 } },
    "mlops:monitoring.driftThreshold: got 0.3; unknown key; allowed: monitoring.scraper, monitoring.scrapeIntervalSeconds",
  ],
];
