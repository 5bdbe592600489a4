import { TRAINING_TAINT } from "../../../infra/k8s/training-pool";
import {
  expandConfigGroups,
  findResource,
  IMPORTED_GATEWAY_IMAGE,
  MOCK_SUBSCRIPTION_ID,
  RecordedResource,
  runProgramWithOutputs,
  StackName,
} from "../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const runs = new Map<string, { resources: RecordedResource[]; outputs: Obj }>();
async function run(stack: StackName, overrides: Obj = {}) {
  const key = `${stack}:${JSON.stringify(overrides)}`;
  if (!runs.has(key)) {
    const r = await runProgramWithOutputs(stack, overrides);
    runs.set(key, { resources: expandConfigGroups(r.resources), outputs: r.outputs });
  }
  return runs.get(key)!;
}

const k8s = (resources: RecordedResource[], kind: string, name: string) =>
  resources.find(
    (r) => r.type.startsWith("kubernetes:") && r.inputs.kind === kind && r.name === name,
  )?.inputs as Obj | undefined;

function podSpecs(resources: RecordedResource[]): Array<[string, Obj]> {
  const out: Array<[string, Obj]> = [];
  for (const r of resources) {
    if (r.inputs.kind === "Deployment")
      out.push([`Deployment/${r.name}`, r.inputs.spec.template.spec]);
    if (r.inputs.kind === "CronJob")
      out.push([`CronJob/${r.name}`, r.inputs.spec.jobTemplate.spec.template.spec]);
  }
  return out;
}

/** What each stack file sets or defaults to at the edge, written out (not derived). */
const EDGE = {
  // The local cluster's Traefik in namespace traefik; a Prometheus in namespace monitoring.
  local: {
    host: "mlops.localtest.me",
    gatewayClassName: "traefik",
    dataPlane: "traefik",
    scraper: "monitoring",
  },
  // Envoy Gateway's proxies in its own namespace; AKS managed Prometheus scrapes from kube-system.
  dev: {
    host: "mlops-dev.example.com",
    gatewayClassName: "envoy-gateway",
    dataPlane: "envoy-gateway-system",
    scraper: "kube-system",
  },
  prod: {
    host: "mlops.example.com",
    gatewayClassName: "envoy-gateway",
    dataPlane: "envoy-gateway-system",
    scraper: "kube-system",
  },
} as const;

describe.each(["local", "dev", "prod"] as const)("stack %s", (stack) => {
  test("registers the app's Kubernetes objects", async () => {
    const { resources } = await run(stack);
    const kinds = resources
      .filter((r) => r.type.startsWith("kubernetes:") && r.inputs.kind)
      .map((r) => `${r.inputs.kind}/${r.name}`);
    expect(kinds).toEqual(
      expect.arrayContaining([
        "Namespace/mlops",
        "ServiceAccount/inference",
        "Deployment/inference",
        "Service/inference",
        "Gateway/inference",
        "HTTPRoute/inference",
        "HorizontalPodAutoscaler/inference",
        "NetworkPolicy/inference",
        "CronJob/training",
        "NetworkPolicy/training",
      ]),
    );
  });

  test("every component's type is mlops:<module>:<Type>", async () => {
    const { resources } = await run(stack);
    const components = resources.filter((r) => r.type.startsWith("mlops:"));
    expect(components.map((r) => r.type)).toContain("mlops:image:ServiceImage");
    for (const { type } of components) expect(type).toMatch(/^mlops:[a-z][a-z0-9]*:[A-Z]\w+$/);
  });

  test("every container has probes where it serves, resources and a locked-down security context", async () => {
    const { resources } = await run(stack);
    const specs = podSpecs(resources);
    expect(specs.map(([n]) => n).sort()).toEqual(["CronJob/training", "Deployment/inference"]);
    for (const [name, spec] of specs) {
      expect(spec.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(spec.hostNetwork).toBe(false);
      for (const c of spec.containers) {
        expect({ name, resources: Object.keys(c.resources).sort() }).toEqual({
          name,
          resources: ["limits", "requests"],
        });
        expect(Object.keys(c.resources.limits).sort()).toEqual(["cpu", "memory"]);
        expect(c.securityContext).toMatchObject({
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        if (name.startsWith("Deployment")) {
          expect(c.readinessProbe.httpGet).toMatchObject({ path: "/v2/health/ready", port: 8080 });
          expect(c.livenessProbe.httpGet).toMatchObject({ path: "/v2/health/live", port: 8080 });
          expect(c.startupProbe.httpGet).toMatchObject({ path: "/v2/health/ready", port: 8080 });
        }
      }
    }
  });

  test("the training job tolerates exactly the training taint and requires the training pool", async () => {
    const { resources } = await run(stack);
    const spec = k8s(resources, "CronJob", "training")!.spec.jobTemplate.spec.template.spec;
    expect(spec.tolerations).toEqual([{ ...TRAINING_TAINT, operator: "Equal" }]);
    expect(
      spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
    ).toEqual([
      {
        matchExpressions: [
          { key: TRAINING_TAINT.key, operator: "In", values: [TRAINING_TAINT.value] },
        ],
      },
    ]);
    // Nothing else tolerates it, so the pool can return to zero nodes.
    const inference = k8s(resources, "Deployment", "inference")!.spec.template.spec;
    expect(inference.tolerations ?? []).toEqual([]);
    if (stack !== "local") {
      const pool = findResource(resources, "azure-native:containerservice:AgentPool").inputs;
      expect(pool.nodeTaints).toEqual([
        `${spec.tolerations[0].key}=${spec.tolerations[0].value}:${spec.tolerations[0].effect}`,
      ]);
      expect(pool.nodeLabels).toEqual({ [TRAINING_TAINT.key]: TRAINING_TAINT.value });
    }
  });

  test("the Service and PDB select the Deployment's pods by their recommended labels", async () => {
    const { resources } = await run(stack);
    const deployment = k8s(resources, "Deployment", "inference")!;
    const selector = deployment.spec.selector.matchLabels;
    expect(selector).toEqual({
      "app.kubernetes.io/name": "mlops-inference",
      "app.kubernetes.io/instance": stack,
      "app.kubernetes.io/component": "inference",
      "mlops-platform/track": "stable",
    });
    expect(deployment.spec.template.metadata.labels).toMatchObject(selector);
    expect(k8s(resources, "Service", "inference")!.spec.selector).toEqual(selector);
    expect(k8s(resources, "HorizontalPodAutoscaler", "inference")!.spec.scaleTargetRef).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "inference",
    });
    // The HPA owns the replica count.
    expect(deployment.spec.replicas).toBeUndefined();
  });

  test("the NetworkPolicy admits only the Gateway's data plane and the metrics scraper", async () => {
    const { resources } = await run(stack);
    const np = k8s(resources, "NetworkPolicy", "inference")!;
    expect(np.spec.policyTypes).toEqual(["Ingress", "Egress"]);
    expect(
      np.spec.ingress.map(
        (rule: Obj) => rule.from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
      ),
    ).toEqual([EDGE[stack].dataPlane, EDGE[stack].scraper]);
    expect(k8s(resources, "NetworkPolicy", "training")!.spec.ingress).toEqual([]);
  });

  test("the namespace enforces the restricted Pod Security Standard (and warns and audits on it)", async () => {
    const { resources } = await run(stack);
    expect(k8s(resources, "Namespace", "mlops")!.metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
    });
  });

  test("egress: DNS for both workloads; HTTPS only where Azure's identity and storage need it", async () => {
    const { resources } = await run(stack);
    const dns = {
      ports: [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
    };
    const https = {
      to: [{ ipBlock: { cidr: "0.0.0.0/0" } }],
      ports: [{ protocol: "TCP", port: 443 }],
    };
    for (const name of ["inference", "training"]) {
      const np = k8s(resources, "NetworkPolicy", name)!;
      expect(np.spec.policyTypes).toContain("Egress");
      expect(np.spec.egress).toEqual(stack === "local" ? [dns] : [dns, https]);
    }
  });

  test("finished training Jobs are kept by the history limits, with no TTL deleting them first", async () => {
    const { resources } = await run(stack);
    const spec = k8s(resources, "CronJob", "training")!.spec;
    expect(spec.jobTemplate.spec.ttlSecondsAfterFinished).toBeUndefined();
    expect(spec.successfulJobsHistoryLimit).toBe(3);
    expect(spec.failedJobsHistoryLimit).toBe(3);
  });

  test("the app's Gateway and HTTPRoute: one listener for the host, the route on it to the Service", async () => {
    const { resources } = await run(stack);
    expect(resources.filter((r) => r.inputs.kind === "Ingress")).toEqual([]);
    const gateway = k8s(resources, "Gateway", "inference")!;
    const { host, gatewayClassName, dataPlane } = EDGE[stack];
    // Every stack serves HTTPS on one listener for its host, with the program's own certificate
    // in the data plane's namespace (the local one from the stack's CA).
    expect(gateway.spec).toEqual({
      gatewayClassName,
      listeners: [
        {
          name: "https",
          hostname: host,
          protocol: "HTTPS",
          port: 443,
          tls: {
            mode: "Terminate",
            certificateRefs: [
              { group: "", kind: "Secret", name: "mlops-tls", namespace: dataPlane },
            ],
          },
          allowedRoutes: { namespaces: { from: "Same" } },
        },
      ],
    });
    const route = k8s(resources, "HTTPRoute", "inference")!;
    expect(route.metadata.namespace).toBe(gateway.metadata.namespace);
    expect(route.spec).toEqual({
      parentRefs: [
        {
          group: "gateway.networking.k8s.io",
          kind: "Gateway",
          name: "inference",
          sectionName: "https",
        },
      ],
      hostnames: [host],
      rules: [
        {
          matches: [{ path: { type: "PathPrefix", value: "/" } }],
          backendRefs: [{ group: "", kind: "Service", name: "inference", port: 80 }],
        },
      ],
    });
  });

  test("up waits for the Gateway to be Programmed only where the program installs its controller (Azure)", async () => {
    const { resources } = await run(stack);
    const gateway = k8s(resources, "Gateway", "inference")!;
    const classes = resources.filter((r) => r.inputs.kind === "GatewayClass");
    const charts = resources.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart");
    if (stack === "local") {
      expect(gateway.metadata.annotations).toBeUndefined();
      expect(classes).toEqual([]);
      expect(charts).toEqual([]);
    } else {
      expect(gateway.metadata.annotations).toEqual({
        "pulumi.com/waitFor": "condition=Programmed",
        "pulumi.com/timeoutSeconds": "600",
      });
      expect(charts.map((c) => [c.inputs.chart, c.inputs.version, c.inputs.namespace])).toEqual([
        ["oci://docker.io/envoyproxy/gateway-crds-helm", "v1.9.0", undefined],
        ["oci://docker.io/envoyproxy/gateway-helm", "v1.9.0", "envoy-gateway-system"],
      ]);
      // The Gateway API's standard channel, from the CRD chart only.
      expect(charts[0].inputs.values).toEqual({
        crds: {
          gatewayAPI: { enabled: true, channel: "standard" },
          envoyGateway: { enabled: true },
        },
      });
      const values = charts[1].inputs.values;
      expect(values.crds).toEqual({ enabled: false });
      expect(values.commonLabels).toEqual({
        "app.kubernetes.io/part-of": "mlops-platform",
        "app.kubernetes.io/component": "gateway-controller",
      });
      // Every container the chart renders, and the certgen Job the program runs in place of the
      // chart's hook, gets requests and limits (k8s-container-resources).
      const certgen = resources.find((r) => r.type === "kubernetes:batch/v1:Job")!;
      for (const limits of [
        values.deployment.envoyGateway.resources,
        certgen.inputs.spec.template.spec.containers[0].resources,
      ]) {
        expect(Object.keys(limits.requests).sort()).toEqual(["cpu", "memory"]);
        expect(Object.keys(limits.limits).sort()).toEqual(["cpu", "memory"]);
      }
      if (stack === "prod") {
        // The prod policies' HA rules, and the controller by digest from the shared registry.
        expect(values.deployment.replicas).toBe(2);
        expect(
          (values.deployment.pod.topologySpreadConstraints as Obj[]).map((c) => [
            c.topologyKey,
            c.labelSelector.matchLabels,
          ]),
        ).toEqual([
          ["topology.kubernetes.io/zone", { "control-plane": "envoy-gateway" }],
          ["kubernetes.io/hostname", { "control-plane": "envoy-gateway" }],
        ]);
        expect(values.podDisruptionBudget).toEqual({ minAvailable: 0, maxUnavailable: 1 });
        expect(values.global.images.envoyGateway.image).toBe(IMPORTED_GATEWAY_IMAGE);
      } else {
        expect(values.deployment.replicas).toBe(1);
        expect(values.deployment.pod).toBeUndefined();
        expect(values.podDisruptionBudget).toBeUndefined();
        expect(values.global).toBeUndefined();
      }
      expect(classes.map((c) => [c.inputs.metadata.name, c.inputs.spec])).toEqual([
        ["envoy-gateway", { controllerName: "gateway.envoyproxy.io/gatewayclass-controller" }],
      ]);
      expect(classes[0].inputs.metadata.annotations["pulumi.com/waitFor"]).toBe(
        "condition=Accepted",
      );
    }
  });

  test("the service pins the configured model versions", async () => {
    const { resources, outputs } = await run(stack);
    const env = k8s(resources, "Deployment", "inference")!.spec.template.spec.containers[0]
      .env as Obj[];
    expect(env).toContainEqual({
      name: "MODEL_PINS",
      value: "mpg-regressor=1,penguin-classifier=1",
    });
    expect(outputs.modelVersions).toEqual({ "mpg-regressor": "1", "penguin-classifier": "1" });
  });
});

describe("per-environment differences", () => {
  test("every stack exports the same outputs; local's cloud ones are empty", async () => {
    const names = [
      "authMode",
      "caCertificate",
      "endpointUrl",
      "imageRef",
      "inferenceKeys",
      "kubeconfig",
      "modelStoreUrl",
      "modelVersions",
      "namespace",
      "nodePortUrl",
      "registryLoginServer",
      "release",
      "serviceUrl",
      "trainingPool",
    ];
    for (const stack of ["local", "dev", "prod"] as const) {
      expect([stack, Object.keys((await run(stack)).outputs).sort()]).toEqual([stack, names]);
    }
    expect((await run("local")).outputs).toMatchObject({
      modelStoreUrl: "emptyDir://mlops/training",
      kubeconfig: "",
      registryLoginServer: "",
      trainingPool: { name: "", minCount: 0, maxCount: 0 },
    });
  });

  test("local: no Azure resource, no PDB, no spread; HTTPS with a certificate from the stack's CA", async () => {
    const { resources, outputs } = await run("local");
    expect(resources.filter((r) => r.type.startsWith("azure-native:"))).toEqual([]);
    expect(k8s(resources, "PodDisruptionBudget", "inference")).toBeUndefined();
    expect(
      k8s(resources, "Deployment", "inference")!.spec.template.spec.topologySpreadConstraints,
    ).toBeUndefined();
    expect(k8s(resources, "Gateway", "inference")!.spec.listeners[0].protocol).toBe("HTTPS");
    expect(outputs.endpointUrl).toBe("https://mlops.localtest.me/");
    // The stack's CA and serving certificate (dynamic resources), the listener's Secret and the
    // ReferenceGrant in the data plane's namespace; the CA is the caCertificate output.
    const certs = resources.filter((r) => r.type === "pulumi-nodejs:dynamic:Resource");
    expect(certs.map((r) => [r.name, r.inputs.isCa, r.inputs.dnsName])).toEqual([
      ["mlops-ca-ca", true, undefined],
      ["mlops-ca-cert", false, "mlops.localtest.me"],
    ]);
    const secret = findResource(resources, "kubernetes:core/v1:Secret", "mlops-ca-secret").inputs;
    expect(secret.metadata).toMatchObject({ name: "mlops-tls", namespace: "traefik" });
    expect(secret.type).toBe("kubernetes.io/tls");
    const grant = findResource(
      resources,
      "kubernetes:gateway.networking.k8s.io/v1beta1:ReferenceGrant",
      "mlops-ca-grant",
    ).inputs;
    expect(grant.spec).toEqual({
      from: [{ group: "gateway.networking.k8s.io", kind: "Gateway", namespace: "mlops" }],
      to: [{ group: "", kind: "Secret", name: "mlops-tls" }],
    });
    expect(outputs.imageRef).toBe("mlops-inference:0.1.0");
    expect(outputs.release).toEqual({
      strategy: "rolling",
      serving: "stable",
      canaryWeight: 0,
      tracks: { stable: "mlops-inference:0.1.0" },
    });
    expect(
      k8s(resources, "CronJob", "training")!.spec.jobTemplate.spec.template.spec.volumes,
    ).toContainEqual({
      name: "models",
      emptyDir: { sizeLimit: "1024Mi" },
    });
  });

  test("prod: HPA floor 3, a PDB and zone + host spread, TLS, image by digest", async () => {
    const { resources, outputs } = await run("prod");
    expect(k8s(resources, "HorizontalPodAutoscaler", "inference")!.spec).toMatchObject({
      minReplicas: 3,
      maxReplicas: 10,
    });
    expect(k8s(resources, "PodDisruptionBudget", "inference")!.spec).toEqual({
      maxUnavailable: 1,
      selector: {
        matchLabels: k8s(resources, "Deployment", "inference")!.spec.selector.matchLabels,
      },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    });
    const spread = k8s(resources, "Deployment", "inference")!.spec.template.spec
      .topologySpreadConstraints as Obj[];
    expect(spread.map((s) => s.topologyKey)).toEqual([
      "topology.kubernetes.io/zone",
      "kubernetes.io/hostname",
    ]);
    expect(
      (k8s(resources, "Gateway", "inference")!.spec.listeners as Obj[]).map((l) => l.protocol),
    ).toEqual(["HTTPS"]);
    expect(outputs.endpointUrl).toBe("https://mlops.example.com/");
    const image = k8s(resources, "Deployment", "inference")!.spec.template.spec.containers[0]
      .image as string;
    expect(image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(outputs.imageRef).toBe(image);
    expect(resources.filter((r) => r.type === "docker:index/image:Image")).toEqual([]);
  });

  test("dev: builds service/Dockerfile and pushes it to the registry; pods run the pushed digest", async () => {
    const { resources, outputs } = await run("dev");
    const image = findResource(resources, "docker:index/image:Image").inputs;
    expect(image.build).toMatchObject({
      dockerfile: expect.stringMatching(/service\/Dockerfile$/),
      platform: "linux/amd64",
    });
    expect(image.imageName).toMatch(/^mlopsacr0f901435\.azurecr\.io\/mlops-inference:/);
    expect(image.skipPush).toBe(false);
    expect(outputs.imageRef).toMatch(/^mlopsacr0f901435\.azurecr\.io\/mlops-inference@sha256:/);
    expect(k8s(resources, "Deployment", "inference")!.spec.template.spec.containers[0].image).toBe(
      outputs.imageRef,
    );
  });
});

describe.each(["dev", "prod"] as const)("Azure foundation (%s)", (stack) => {
  test("AKS: managed identity, no local accounts, Azure RBAC, workload identity; system pool never at 0", async () => {
    const { resources } = await run(stack);
    const aks = findResource(resources, "azure-native:containerservice:ManagedCluster").inputs;
    expect(aks).toMatchObject({
      identity: { type: "SystemAssigned" },
      disableLocalAccounts: true,
      aadProfile: { managed: true, enableAzureRBAC: true },
      oidcIssuerProfile: { enabled: true },
      securityProfile: { workloadIdentity: { enabled: true } },
      autoScalerProfile: { scaleDownUnneededTime: "5m" },
    });
    expect(aks.agentPoolProfiles).toHaveLength(1);
    expect(aks.agentPoolProfiles[0]).toMatchObject({ mode: "System", enableAutoScaling: true });
    expect(aks.agentPoolProfiles[0].minCount).toBeGreaterThanOrEqual(1);
  });

  test("the training pool is a separate autoscaled AgentPool with minimum 0", async () => {
    const { resources, outputs } = await run(stack);
    const pool = findResource(resources, "azure-native:containerservice:AgentPool").inputs;
    expect(pool).toMatchObject({
      agentPoolName: "training",
      mode: "User",
      enableAutoScaling: true,
      minCount: 0,
      count: 0,
    });
    expect(pool.resourceName).toBe("mlops-cluster-aks");
    expect(outputs.trainingPool).toEqual({
      name: "training",
      minCount: 0,
      maxCount: stack === "prod" ? 3 : 2,
    });
  });

  test("the shared registry (bootstrap): no ACR of its own; AcrPull for the kubelet identity on it", async () => {
    const { resources, outputs } = await run(stack);
    expect(resources.filter((r) => r.type === "azure-native:containerregistry:Registry")).toEqual(
      [],
    );
    const pull = findResource(
      resources,
      "azure-native:authorization:RoleAssignment",
      "mlops-registry-acr-pull",
    ).inputs;
    expect(pull).toEqual({
      principalId: "kubelet-object-id",
      principalType: "ServicePrincipal",
      roleDefinitionId: `/subscriptions/${MOCK_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d`,
      scope: `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/mlops-platform-shared/providers/Microsoft.ContainerRegistry/registries/mlopsacr0f901435`,
    });
    // The same registry for dev and prod: what dev pushed is what prod pulls.
    expect(outputs.registryLoginServer).toBe("mlopsacr0f901435.azurecr.io");
  });

  test("model store: no public blob access, TLS 1.2, reached through workload identity", async () => {
    const { resources, outputs } = await run(stack);
    expect(findResource(resources, "azure-native:storage:StorageAccount").inputs).toMatchObject({
      allowBlobPublicAccess: false,
      minimumTlsVersion: "TLS1_2",
      enableHttpsTrafficOnly: true,
    });
    expect(findResource(resources, "azure-native:storage:BlobContainer").inputs.publicAccess).toBe(
      "None",
    );
    const subjects = resources
      .filter((r) => r.type === "azure-native:managedidentity:FederatedIdentityCredential")
      .map((r) => r.inputs.subject)
      .sort();
    expect(subjects).toEqual([
      "system:serviceaccount:mlops:inference",
      "system:serviceaccount:mlops:training",
    ]);
    const sa = k8s(resources, "ServiceAccount", "training")!;
    expect(sa.metadata.annotations).toEqual({
      "azure.workload.identity/client-id": "model-store-client-id",
    });
    expect(
      k8s(resources, "PersistentVolume", `mlops-model-store`)!.spec.csi.volumeAttributes,
    ).toMatchObject({
      containerName: "models",
      clientID: "model-store-client-id",
    });
    const account = findResource(resources, "azure-native:storage:StorageAccount").inputs
      .accountName as string;
    expect(account).toMatch(/^mlopsmodels[0-9a-f]{8}$/);
    expect(outputs.modelStoreUrl).toBe(`https://${account}.blob.core.windows.net/models`);
  });

  test("every Azure resource that takes tags carries environment and owner", async () => {
    const { resources } = await run(stack);
    const tagged = resources.filter(
      (r) => r.type.startsWith("azure-native:") && r.inputs.tags !== undefined,
    );
    expect(tagged.length).toBeGreaterThanOrEqual(5);
    for (const r of tagged)
      expect(r.inputs.tags).toMatchObject({ environment: stack, owner: "platform-team" });
  });
});

describe("optional Azure ML workspace", () => {
  test("off by default", async () => {
    const { resources } = await run("dev");
    expect(
      resources.filter((r) => r.type.startsWith("azure-native:machinelearningservices:")),
    ).toEqual([]);
  });

  test("on: a workspace and an AmlCompute cluster with 0 minimum nodes", async () => {
    const { stackConfig } = await import("../../support/program");
    const azure = { ...(stackConfig("dev").azure as Obj), mlWorkspace: true };
    const { resources } = await run("dev", { azure });
    findResource(resources, "azure-native:machinelearningservices:Workspace");
    const compute = findResource(resources, "azure-native:machinelearningservices:Compute").inputs;
    expect(compute.properties).toMatchObject({
      computeType: "AmlCompute",
      properties: { scaleSettings: { minNodeCount: 0, maxNodeCount: 2 } },
    });
  });
});

test("invalid config fails before any resource is registered", async () => {
  await expect(run("local", { app: { replicas: 0 } })).rejects.toThrow(
    "mlops:app.replicas: got 0; expected a whole number from 1 to 100",
  );
});
