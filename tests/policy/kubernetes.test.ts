import { policies } from "../../policy/policies";
import {
  container,
  deployment,
  DIGEST_IMAGE,
  edit,
  edits,
  gateway,
  hpa,
  httpRoute,
  ingress,
  pdb,
  POD_LABELS,
  RECOMMENDED,
  service,
  trainingCronJob,
  TRAINING_TOLERATION,
} from "./fixtures";
import { RunOptions, StubResource, validateResource, validateStack } from "./harness";
import { resourcePolicy, stackPolicy } from "./policies";

const check = (name: string, r: StubResource, options: RunOptions = { stack: "prod" }) =>
  validateResource(resourcePolicy(name), r, options);

const violations = async (name: string, r: StubResource, options?: RunOptions) =>
  (await check(name, r, options)).violations;

const CONTAINER = "spec.template.spec.containers.0";
const POD = "spec.template.spec";
const JOB_POD = "spec.jobTemplate.spec.template.spec";

const compliant = [
  deployment(),
  trainingCronJob(),
  service(),
  ingress(),
  gateway(),
  httpRoute(),
  pdb(),
  hpa(),
];

describe("compliant Kubernetes objects", () => {
  const k8sResourcePolicies = policies.filter(
    (p) => p.name.startsWith("k8s-") && "validateResource" in p,
  );

  it.each(k8sResourcePolicies.map((p) => [p.name]))("%s reports nothing in prod", async (name) => {
    for (const r of compliant) {
      expect({ r: r.type, v: await violations(name, r) }).toEqual({ r: r.type, v: [] });
    }
  });
});

describe("k8s-container-resources", () => {
  it("names every missing request and limit", async () => {
    const r = edits(deployment(), {
      [`${CONTAINER}.resources.requests.cpu`]: undefined,
      [`${CONTAINER}.resources.limits`]: undefined,
    });
    expect(await violations("k8s-container-resources", r)).toEqual([
      'container "server" sets no resources.requests.cpu, resources.limits.cpu and resources.limits.memory',
    ]);
  });

  it("checks init containers and CronJob pods too", async () => {
    const bare: Record<string, unknown> = container("migrate");
    delete bare.resources;
    const r = edit(trainingCronJob(), `${JOB_POD}.initContainers`, [bare]);
    expect(await violations("k8s-container-resources", r)).toEqual([
      'init container "migrate" sets no resources.requests.cpu, resources.requests.memory, ' +
        "resources.limits.cpu and resources.limits.memory",
    ]);
  });

  it("ignores resources that are not workloads", async () => {
    expect(await check("k8s-container-resources", service())).toEqual({ violations: [] });
  });
});

describe("k8s-container-probes", () => {
  it("requires readiness and liveness probes on a Deployment's containers", async () => {
    const r = edits(deployment(), {
      [`${CONTAINER}.readinessProbe`]: undefined,
      [`${CONTAINER}.livenessProbe`]: undefined,
    });
    expect(await violations("k8s-container-probes", r)).toEqual([
      'container "server" has no readinessProbe and livenessProbe',
    ]);
  });

  it("does not apply to Jobs and CronJobs (they run to completion)", async () => {
    expect(await check("k8s-container-probes", trainingCronJob())).toEqual({
      violations: [],
      notApplicable: "a CronJob runs to completion; probes are for long-running workloads",
    });
  });
});

describe("container security context", () => {
  it("k8s-run-as-non-root: flags a container without runAsNonRoot", async () => {
    const r = edit(deployment(), `${CONTAINER}.securityContext.runAsNonRoot`, undefined);
    expect(await violations("k8s-run-as-non-root", r)).toEqual([
      'container "server" may run as root: set securityContext.runAsNonRoot: true on the pod or the container',
    ]);
  });

  it("k8s-run-as-non-root: accepts the pod-level setting, unless the container overrides it", async () => {
    const podLevel = edits(deployment(), {
      [`${CONTAINER}.securityContext.runAsNonRoot`]: undefined,
      [`${POD}.securityContext`]: { runAsNonRoot: true },
    });
    expect(await violations("k8s-run-as-non-root", podLevel)).toEqual([]);
    const overridden = edit(podLevel, `${CONTAINER}.securityContext.runAsNonRoot`, false);
    expect(await violations("k8s-run-as-non-root", overridden)).toEqual([
      'container "server" may run as root: set securityContext.runAsNonRoot: true on the pod or the container',
    ]);
  });

  it("k8s-no-privilege-escalation", async () => {
    const r = edit(deployment(), `${CONTAINER}.securityContext.allowPrivilegeEscalation`, true);
    expect(await violations("k8s-no-privilege-escalation", r)).toEqual([
      'container "server" does not set securityContext.allowPrivilegeEscalation: false',
    ]);
  });

  it("k8s-read-only-root-filesystem", async () => {
    const r = edit(deployment(), `${CONTAINER}.securityContext`, undefined);
    expect(await violations("k8s-read-only-root-filesystem", r)).toEqual([
      'container "server" does not set securityContext.readOnlyRootFilesystem: true',
    ]);
  });

  it("k8s-drop-all-capabilities", async () => {
    const r = edit(deployment(), `${CONTAINER}.securityContext.capabilities.drop`, ["NET_RAW"]);
    expect(await violations("k8s-drop-all-capabilities", r)).toEqual([
      'container "server" does not drop ALL capabilities (securityContext.capabilities.drop: ["ALL"])',
    ]);
  });

  it("k8s-no-privileged-containers", async () => {
    const r = edit(trainingCronJob(), `${JOB_POD}.containers.0.securityContext.privileged`, true);
    expect(await violations("k8s-no-privileged-containers", r)).toEqual([
      'container "train" is privileged (securityContext.privileged: true): it has every power of the node',
    ]);
  });
});

describe("node isolation", () => {
  it("k8s-no-host-namespaces: hostNetwork, hostPID and hostIPC", async () => {
    const r = edits(deployment(), { [`${POD}.hostNetwork`]: true, [`${POD}.hostPID`]: true });
    expect(await violations("k8s-no-host-namespaces", r)).toEqual([
      "pod sets hostNetwork: true and shares that namespace with the node",
      "pod sets hostPID: true and shares that namespace with the node",
    ]);
    const ipc = edit(deployment(), `${POD}.hostIPC`, false);
    expect(await violations("k8s-no-host-namespaces", ipc)).toEqual([]);
  });

  it("k8s-no-host-path-volumes", async () => {
    const r = edit(deployment(), `${POD}.volumes`, [
      { name: "tmp", emptyDir: {} },
      { name: "docker", hostPath: { path: "/var/run/docker.sock" } },
    ]);
    expect(await violations("k8s-no-host-path-volumes", r)).toEqual([
      'volume "docker" mounts the node path "/var/run/docker.sock" (hostPath)',
    ]);
  });
});

describe("images", () => {
  const withImage = (image: unknown) => edit(deployment(), `${CONTAINER}.image`, image);

  it("k8s-image-pinned: rejects latest and untagged images, accepts tags and digests", async () => {
    expect(await violations("k8s-image-pinned", withImage("nginx:latest"))).toEqual([
      'container "server" uses image "nginx:latest": pin a version tag or a digest, not latest',
    ]);
    expect(await violations("k8s-image-pinned", withImage("localhost:5000/nginx"))).toEqual([
      'container "server" uses image "localhost:5000/nginx" without a tag (that means latest)',
    ]);
    expect(await violations("k8s-image-pinned", withImage("localhost:5000/nginx:1.27"))).toEqual(
      [],
    );
    expect(await violations("k8s-image-pinned", withImage(DIGEST_IMAGE))).toEqual([]);
  });

  it("k8s-image-digest: prod requires a digest", async () => {
    expect(await violations("k8s-image-digest", withImage("mlops-inference:0.1.0"))).toEqual([
      'container "server" uses image "mlops-inference:0.1.0": this stack deploys by digest (repo@sha256:<64 hex>)',
    ]);
  });

  it("k8s-image-digest: skipped where requireDigest is off (local, dev)", async () => {
    for (const stack of ["local", "dev"] as const) {
      expect(
        await check("k8s-image-digest", withImage("mlops-inference:0.1.0"), { stack }),
      ).toEqual({ violations: [], notApplicable: "requireDigest is off for this stack" });
    }
  });

  it("skips, with a reason, an image not known yet at preview", async () => {
    // What mocks hand over for a computed value: not a string.
    const computed = withImage({ unknown: true });
    expect(await check("k8s-image-digest", computed)).toEqual({
      violations: [],
      notApplicable: "no container image is known yet (computed during the update)",
    });
  });

  it("lets the engine report an unknown image (sentinel) as 'can't run during preview'", async () => {
    const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    expect(await check("k8s-image-pinned", withImage(unknownString))).toEqual({
      violations: [],
      unknown:
        "string value at .spec.template.spec.containers.0.image can't be known during preview",
    });
  });
});

describe("k8s-no-load-balancer-service", () => {
  const lb = edit(service(), "spec.type", "LoadBalancer");

  it("forbids type LoadBalancer by default", async () => {
    expect(await violations("k8s-no-load-balancer-service", lb)).toEqual([
      "Service is of type LoadBalancer, which opens a public IP beside the Gateway: " +
        "use ClusterIP (or set allowLoadBalancer for this stack)",
    ]);
  });

  it("allows it when the stack sets allowLoadBalancer", async () => {
    const options = { stack: "dev", settings: { allowLoadBalancer: true } } as const;
    expect(await violations("k8s-no-load-balancer-service", lb, options)).toEqual([]);
  });
});

describe("k8s-no-default-namespace", () => {
  it("rejects reserved namespaces and a missing namespace", async () => {
    expect(
      await violations(
        "k8s-no-default-namespace",
        edit(service(), "metadata.namespace", "default"),
      ),
    ).toEqual(['is in the reserved namespace "default": use the app\'s own namespace']);
    expect(
      await violations(
        "k8s-no-default-namespace",
        edit(deployment(), "metadata.namespace", undefined),
      ),
    ).toEqual(["sets no metadata.namespace: it would land in the provider's default namespace"]);
  });
});

describe("k8s-ingress-tls", () => {
  it("requires spec.tls in prod", async () => {
    expect(await violations("k8s-ingress-tls", edit(ingress(), "spec.tls", undefined))).toEqual([
      "Ingress has no spec.tls: prod serves HTTPS only",
    ]);
  });

  it("requires every host to be covered", async () => {
    const r = edit(ingress(), "spec.rules", [
      { host: "mlops.example.com" },
      { host: "admin.example.com" },
    ]);
    expect(await violations("k8s-ingress-tls", r)).toEqual([
      'host "admin.example.com" is not listed in spec.tls[].hosts: prod serves HTTPS only',
    ]);
  });

  it("is not enforced in dev", async () => {
    const r = edit(ingress(), "spec.tls", undefined);
    expect(await check("k8s-ingress-tls", r, { stack: "dev" })).toEqual({
      violations: [],
      notApplicable: "TLS is required in prod only",
    });
  });
});

describe("k8s-recommended-labels", () => {
  it("names the missing labels", async () => {
    const r = edit(deployment(), "metadata.labels", {
      "app.kubernetes.io/name": "inference",
      "app.kubernetes.io/component": "server",
    });
    expect(await violations("k8s-recommended-labels", r)).toEqual([
      "metadata.labels lacks app.kubernetes.io/instance, app.kubernetes.io/part-of and app.kubernetes.io/managed-by",
    ]);
  });
});

describe("training placement", () => {
  it("k8s-training-on-training-pool: a training CronJob must tolerate and select the pool", async () => {
    const r = edits(trainingCronJob(), {
      [`${JOB_POD}.tolerations`]: undefined,
      [`${JOB_POD}.nodeSelector`]: { "kubernetes.io/os": "linux" },
    });
    expect(await violations("k8s-training-on-training-pool", r)).toEqual([
      "training pod does not tolerate the training taint mlops-platform/pool=training:NoSchedule",
      "training pod does not select the training pool: set nodeSelector mlops-platform/pool: training " +
        "(or a required node affinity on that label)",
    ]);
  });

  it("k8s-training-on-training-pool: a required node affinity on the pool label also selects it", async () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            {
              matchExpressions: [
                { key: "mlops-platform/pool", operator: "In", values: ["training"] },
              ],
            },
          ],
        },
      },
    };
    const r = edits(trainingCronJob(), {
      [`${JOB_POD}.nodeSelector`]: undefined,
      [`${JOB_POD}.affinity`]: affinity,
      [`${JOB_POD}.tolerations`]: [{ key: "mlops-platform/pool", operator: "Exists" }],
    });
    expect(await violations("k8s-training-on-training-pool", r)).toEqual([]);
  });

  it("k8s-training-on-training-pool: a toleration of another effect does not count", async () => {
    const r = edit(trainingCronJob(), `${JOB_POD}.tolerations`, [
      { ...TRAINING_TOLERATION, effect: "NoExecute" },
    ]);
    expect(await violations("k8s-training-on-training-pool", r)).toEqual([
      "training pod does not tolerate the training taint mlops-platform/pool=training:NoSchedule",
    ]);
  });

  it("k8s-training-on-training-pool: a Job is training when its pod template says so", async () => {
    const job: StubResource = {
      type: "kubernetes:batch/v1:Job",
      name: "train-now",
      props: {
        metadata: { name: "train-now", namespace: "mlops" },
        spec: {
          template: {
            metadata: { labels: { "app.kubernetes.io/component": "training" } },
            spec: { containers: [container("train")] },
          },
        },
      },
    };
    expect(await violations("k8s-training-on-training-pool", job)).toEqual([
      "training pod does not tolerate the training taint mlops-platform/pool=training:NoSchedule",
      "training pod does not select the training pool: set nodeSelector mlops-platform/pool: training " +
        "(or a required node affinity on that label)",
    ]);
    expect(await check("k8s-training-on-training-pool", deployment())).toEqual({
      violations: [],
      notApplicable: "not a training workload",
    });
  });

  it("k8s-training-taint-reserved: a non-training workload must not tolerate the taint", async () => {
    const r = edit(deployment(), `${POD}.tolerations`, [TRAINING_TOLERATION]);
    const message =
      "pod tolerates the training taint mlops-platform/pool=training:NoSchedule but is not a " +
      "training workload: it would keep the training pool from scaling to zero";
    expect(await violations("k8s-training-taint-reserved", r)).toEqual([message]);
    // An empty key with operator Exists tolerates every taint, the training one included.
    const everything = edit(deployment(), `${POD}.tolerations`, [{ operator: "Exists" }]);
    expect(await violations("k8s-training-taint-reserved", everything)).toEqual([message]);
  });

  it("k8s-training-taint-reserved: DaemonSets are exempt", async () => {
    const ds = { ...edit(deployment(), `${POD}.tolerations`, [{ operator: "Exists" }]) };
    const daemonSet = { ...ds, type: "kubernetes:apps/v1:DaemonSet" };
    expect(await check("k8s-training-taint-reserved", daemonSet)).toEqual({
      violations: [],
      notApplicable: "DaemonSet pods do not keep a node up",
    });
  });
});

describe("k8s-prod-topology-spread", () => {
  it("requires topologySpreadConstraints on a prod Deployment", async () => {
    const r = edit(deployment(), `${POD}.topologySpreadConstraints`, undefined);
    expect(await violations("k8s-prod-topology-spread", r)).toEqual([
      "prod Deployment has no spec.template.spec.topologySpreadConstraints: its replicas may all land on one node",
    ]);
  });

  it("requires the constraint to select the Deployment's own pods", async () => {
    const r = edit(deployment(), `${POD}.topologySpreadConstraints.0.labelSelector`, {
      matchLabels: { "app.kubernetes.io/name": "other" },
    });
    expect(await violations("k8s-prod-topology-spread", r)).toEqual([
      'topologySpreadConstraints[0] (topologyKey "kubernetes.io/hostname") does not select the Deployment\'s own pods',
    ]);
  });

  it("is not enforced in local", async () => {
    const r = edit(deployment(), `${POD}.topologySpreadConstraints`, undefined);
    expect(await check("k8s-prod-topology-spread", r, { stack: "local" })).toEqual({
      violations: [],
      notApplicable: "spreading is required in prod only",
    });
  });
});

describe("k8s-prod-min-replicas (stack)", () => {
  const run = (resources: StubResource[], stack: "local" | "prod" = "prod") =>
    validateStack(stackPolicy("k8s-prod-min-replicas"), resources, { stack });
  const at = "kubernetes:apps/v1:Deployment::inference";

  it("passes a Deployment of 3 replicas", async () => {
    expect(await run([deployment()])).toEqual({ violations: [] });
  });

  it("flags spec.replicas below the floor", async () => {
    expect(await run([edit(deployment(), "spec.replicas", 1)])).toEqual({
      violations: [
        {
          resource: at,
          message: "Deployment mlops/inference runs 1 replica(s): prod needs at least 2",
        },
      ],
    });
  });

  it("flags an unset spec.replicas without an HPA", async () => {
    expect((await run([edit(deployment(), "spec.replicas", undefined)])).violations).toEqual([
      {
        resource: at,
        message:
          "Deployment mlops/inference sets no spec.replicas (Kubernetes runs 1) and no " +
          "HorizontalPodAutoscaler scales it: prod needs at least 2",
      },
    ]);
  });

  it("uses the HPA's minReplicas as the floor when an HPA scales the Deployment", async () => {
    const noReplicas = edit(deployment(), "spec.replicas", undefined);
    expect(await run([noReplicas, hpa(2)])).toEqual({ violations: [] });
    expect((await run([deployment(), hpa(1)])).violations).toEqual([
      {
        resource: at,
        message:
          "Deployment mlops/inference can scale down to 1 replica(s) " +
          "(HorizontalPodAutoscaler mlops/inference minReplicas): prod needs at least 2",
      },
    ]);
  });

  it("is not enforced in local", async () => {
    expect(await run([edit(deployment(), "spec.replicas", 1)], "local")).toEqual({
      violations: [],
      notApplicable: "replica floor is for prod only",
    });
  });
});

describe("k8s-prod-pdb-coverage (stack)", () => {
  const run = (resources: StubResource[]) =>
    validateStack(stackPolicy("k8s-prod-pdb-coverage"), resources, { stack: "prod" });
  const uncovered = {
    resource: "kubernetes:apps/v1:Deployment::inference",
    message:
      'Deployment mlops/inference is not covered by a PodDisruptionBudget (none in namespace "mlops" selects its pod labels)',
  };

  it("passes when a PDB in the namespace selects the pod labels", async () => {
    expect(await run([deployment(), pdb()])).toEqual({ violations: [] });
    const byExpression = edit(pdb(), "spec.selector", {
      matchExpressions: [{ key: "app.kubernetes.io/name", operator: "In", values: ["inference"] }],
    });
    expect(await run([deployment(), byExpression])).toEqual({ violations: [] });
  });

  it("flags a Deployment without a PDB", async () => {
    expect(await run([deployment(), service()])).toEqual({ violations: [uncovered] });
  });

  it("flags a PDB of another namespace or selector", async () => {
    expect(await run([deployment(), edit(pdb(), "metadata.namespace", "other")])).toEqual({
      violations: [uncovered],
    });
    const other = edit(pdb(), "spec.selector.matchLabels", { ...POD_LABELS, tier: "web" });
    expect(await run([deployment(), other])).toEqual({ violations: [uncovered] });
  });

  it("ignores Deployments' object labels (only pod labels count)", async () => {
    const byObjectLabels = edit(pdb(), "spec.selector.matchLabels", {
      "app.kubernetes.io/part-of": RECOMMENDED["app.kubernetes.io/part-of"],
    });
    expect(await run([deployment(), byObjectLabels])).toEqual({ violations: [uncovered] });
  });
});
