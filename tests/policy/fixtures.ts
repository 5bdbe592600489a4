/**
 * Compliant resources (every policy passes on each, in prod) and `edit` to derive a violating
 * one from them: `edit(deployment(), "spec.replicas", 1)`. A value of `undefined` deletes the key.
 */
import type { StubResource } from "./harness";

export const DIGEST_IMAGE = `mlopsplatform.azurecr.io/mlops-inference@sha256:${"a".repeat(64)}`;

export const RECOMMENDED = {
  "app.kubernetes.io/name": "inference",
  "app.kubernetes.io/instance": "mlops",
  "app.kubernetes.io/component": "server",
  "app.kubernetes.io/part-of": "mlops-platform",
  "app.kubernetes.io/managed-by": "pulumi",
};

export const POD_LABELS = {
  "app.kubernetes.io/name": "inference",
  "app.kubernetes.io/instance": "mlops",
};

export const TRAINING_LABELS = {
  ...RECOMMENDED,
  "app.kubernetes.io/name": "trainer",
  "app.kubernetes.io/component": "training",
};

export const TRAINING_TOLERATION = {
  key: "mlops-platform/pool",
  operator: "Equal",
  value: "training",
  effect: "NoSchedule",
};

export function container(name = "server") {
  return {
    name,
    image: DIGEST_IMAGE,
    resources: {
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "1", memory: "512Mi" },
    },
    readinessProbe: { httpGet: { path: "/v2/health/ready", port: 8080 } },
    livenessProbe: { httpGet: { path: "/v2/health/live", port: 8080 } },
    securityContext: {
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    },
  };
}

export function deployment(name = "inference"): StubResource {
  return {
    type: "kubernetes:apps/v1:Deployment",
    name,
    props: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: "mlops", labels: RECOMMENDED },
      spec: {
        replicas: 3,
        selector: { matchLabels: POD_LABELS },
        template: {
          metadata: { labels: POD_LABELS },
          spec: {
            containers: [container()],
            topologySpreadConstraints: [
              {
                maxSkew: 1,
                topologyKey: "kubernetes.io/hostname",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: { matchLabels: POD_LABELS },
              },
            ],
          },
        },
      },
    },
  };
}

/** The training CronJob: on the training pool, no probes (it runs to completion). */
export function trainingCronJob(): StubResource {
  const trainer: Record<string, unknown> = container("train");
  delete trainer.readinessProbe;
  delete trainer.livenessProbe;
  return {
    type: "kubernetes:batch/v1:CronJob",
    name: "training",
    props: {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "training", namespace: "mlops", labels: TRAINING_LABELS },
      spec: {
        schedule: "0 3 * * *",
        jobTemplate: {
          spec: {
            template: {
              metadata: { labels: TRAINING_LABELS },
              spec: {
                restartPolicy: "Never",
                containers: [trainer],
                nodeSelector: { "mlops-platform/pool": "training" },
                tolerations: [TRAINING_TOLERATION],
              },
            },
          },
        },
      },
    },
  };
}

export function service(): StubResource {
  return {
    type: "kubernetes:core/v1:Service",
    name: "inference",
    props: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "inference", namespace: "mlops", labels: RECOMMENDED },
      spec: { type: "ClusterIP", selector: POD_LABELS, ports: [{ port: 80, targetPort: 8080 }] },
    },
  };
}

export function ingress(): StubResource {
  return {
    type: "kubernetes:networking.k8s.io/v1:Ingress",
    name: "inference",
    props: {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: { name: "inference", namespace: "mlops" },
      spec: {
        ingressClassName: "traefik",
        tls: [{ hosts: ["mlops.example.com"], secretName: "mlops-tls" }],
        rules: [{ host: "mlops.example.com", http: { paths: [] } }],
      },
    },
  };
}

export function gateway(): StubResource {
  return {
    type: "kubernetes:gateway.networking.k8s.io/v1:Gateway",
    name: "inference",
    props: {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "Gateway",
      metadata: { name: "inference", namespace: "mlops" },
      spec: {
        gatewayClassName: "envoy-gateway",
        listeners: [
          {
            name: "https",
            hostname: "mlops.example.com",
            protocol: "HTTPS",
            port: 443,
            tls: { mode: "Terminate", certificateRefs: [{ kind: "Secret", name: "mlops-tls" }] },
            allowedRoutes: { namespaces: { from: "Same" } },
          },
        ],
      },
    },
  };
}

/** The app's route: `backends` as [Service name, weight?] pairs. */
export function httpRoute(
  backends: readonly (readonly [string, number?])[] = [["inference"]],
): StubResource {
  return {
    type: "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute",
    name: "inference",
    props: {
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: { name: "inference", namespace: "mlops" },
      spec: {
        parentRefs: [{ name: "inference", sectionName: "https" }],
        hostnames: ["mlops.example.com"],
        rules: [
          {
            backendRefs: backends.map(([name, weight]) => ({
              kind: "Service",
              name,
              port: 80,
              ...(weight === undefined ? {} : { weight }),
            })),
          },
        ],
      },
    },
  };
}

export function pdb(): StubResource {
  return {
    type: "kubernetes:policy/v1:PodDisruptionBudget",
    name: "inference",
    props: {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "inference", namespace: "mlops" },
      spec: { minAvailable: 1, selector: { matchLabels: POD_LABELS } },
    },
  };
}

export function hpa(minReplicas = 3): StubResource {
  return {
    type: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    name: "inference",
    props: {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: { name: "inference", namespace: "mlops" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "inference" },
        minReplicas,
        maxReplicas: 10,
      },
    },
  };
}

export const TAGS = { environment: "prod", owner: "platform-team" };

export function registry(): StubResource {
  return {
    type: "azure-native:containerregistry:Registry",
    name: "registry",
    props: {
      resourceGroupName: "rg",
      sku: { name: "Premium" },
      adminUserEnabled: false,
      tags: TAGS,
    },
  };
}

export function systemProfile() {
  return {
    name: "system",
    mode: "System",
    vmSize: "Standard_D4s_v5",
    enableAutoScaling: true,
    count: 2,
    minCount: 2,
    maxCount: 5,
    availabilityZones: ["1", "2", "3"],
  };
}

export function cluster(): StubResource {
  return {
    type: "azure-native:containerservice:ManagedCluster",
    name: "cluster",
    props: {
      resourceGroupName: "rg",
      sku: { name: "Base", tier: "Standard" },
      disableLocalAccounts: true,
      aadProfile: { managed: true, enableAzureRBAC: true },
      agentPoolProfiles: [systemProfile()],
      tags: TAGS,
    },
  };
}

export function trainingPool(): StubResource {
  return {
    type: "azure-native:containerservice:AgentPool",
    name: "training",
    props: {
      resourceGroupName: "rg",
      resourceName: "cluster",
      agentPoolName: "training",
      mode: "User",
      vmSize: "Standard_D8s_v5",
      enableAutoScaling: true,
      count: 0,
      minCount: 0,
      maxCount: 3,
      nodeTaints: ["mlops-platform/pool=training:NoSchedule"],
      nodeLabels: { "mlops-platform/pool": "training" },
      availabilityZones: ["1", "2", "3"],
      tags: TAGS,
    },
  };
}

export function storageAccount(): StubResource {
  return {
    type: "azure-native:storage:StorageAccount",
    name: "artifacts",
    props: {
      resourceGroupName: "rg",
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
      allowBlobPublicAccess: false,
      minimumTlsVersion: "TLS1_2",
      tags: TAGS,
    },
  };
}

export function publicIp(): StubResource {
  return {
    type: "azure-native:network:PublicIPAddress",
    name: "ingress-ip",
    props: {
      resourceGroupName: "rg",
      sku: { name: "Standard" },
      publicIPAllocationMethod: "Static",
      tags: { ...TAGS, role: "ingress" },
    },
  };
}

/** A deep copy of `resource` with the value at `path` (dot-separated, from `props`) replaced. */
export function edit(resource: StubResource, path: string, value: unknown): StubResource {
  // JSON, not structuredClone: jest's structuredClone builds objects of another realm, which
  // the engine's unknown-checking proxy (an `instanceof Object` test) would not wrap.
  const copy = JSON.parse(JSON.stringify(resource)) as StubResource;
  const keys = path.split(".");
  let target: Record<string, unknown> = copy.props;
  for (const key of keys.slice(0, -1)) {
    const next = target[key];
    if (typeof next !== "object" || next === null) {
      throw new Error(`edit: ${path} does not exist in ${resource.type}`);
    }
    target = next as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

/** `edit` applied several times. */
export function edits(resource: StubResource, changes: Record<string, unknown>): StubResource {
  return Object.entries(changes).reduce((r, [path, value]) => edit(r, path, value), resource);
}
