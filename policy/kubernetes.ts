/**
 * Kubernetes policies. They read the manifests as Pulumi sees them: the inputs of
 * `kubernetes:<group>/<version>:<Kind>` resources, including the objects a
 * `kubernetes:yaml/v2:ConfigGroup` registers.
 */
import type {
  PolicyResource,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { settingsFor } from "./config";
import { GATEWAY, HTTP_ROUTE } from "./traffic";
import { resourcePolicy, stackPolicy, StackViolation, workloadPolicy } from "./rules";
import { at, isRecord, list, listing, num, Props, rec, str, stringMap } from "./values";
import {
  Container,
  containersOf,
  DEPLOYMENT,
  HPA,
  imagePin,
  INGRESS,
  isTraining,
  objectRef,
  PDB,
  selectorMatches,
  selectsPool,
  SERVICE,
  Taint,
  tolerates,
  WORKLOAD_TYPES,
  workloadOf,
} from "./workloads";

const eachContainer = (
  containers: readonly Container[],
  problem: (c: Container) => string | undefined,
): string[] =>
  containers.flatMap((c) => {
    const p = problem(c);
    return p === undefined ? [] : [`${c.label} ${p}`];
  });

const securityContext = (c: Container): Props => rec(c.spec.securityContext);

const isQuantity = (v: unknown): boolean =>
  (typeof v === "string" && v.length > 0) || typeof v === "number";

export const containerResources = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-container-resources",
      description: "Every container sets CPU and memory requests and limits.",
      enforcementLevel: "mandatory",
      remediationSteps:
        "Set resources.requests.{cpu,memory} and resources.limits.{cpu,memory} on each container.",
    },
    (w) =>
      eachContainer(containersOf(w.podSpec), (c) => {
        const missing = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"]
          .filter((path) => !isQuantity(at(c.spec.resources, ...path.split("."))))
          .map((path) => `resources.${path}`);
        return missing.length === 0 ? undefined : `sets no ${listing(missing)}`;
      }),
  );

export const containerProbes = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-container-probes",
      description:
        "Every container of a long-running workload (Deployment, StatefulSet, DaemonSet) has a " +
        "readiness and a liveness probe.",
      enforcementLevel: "mandatory",
      remediationSteps: "Add readinessProbe and livenessProbe to each container.",
    },
    (w, ctx) => {
      if (!w.longRunning) {
        ctx.notApplicable(`a ${w.kind} runs to completion; probes are for long-running workloads`);
      }
      return eachContainer(
        containersOf(w.podSpec).filter((c) => !c.init),
        (c) => {
          const missing = ["readinessProbe", "livenessProbe"].filter((p) => !isRecord(c.spec[p]));
          return missing.length === 0 ? undefined : `has no ${listing(missing)}`;
        },
      );
    },
  );

export const runAsNonRoot = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-run-as-non-root",
      description: "Containers run as a non-root user (runAsNonRoot on the pod or the container).",
      enforcementLevel: "mandatory",
      remediationSteps: "Set securityContext.runAsNonRoot: true on the pod spec or each container.",
    },
    (w) => {
      const podLevel = at(w.podSpec, "securityContext", "runAsNonRoot") === true;
      return eachContainer(containersOf(w.podSpec), (c) => {
        const own = securityContext(c).runAsNonRoot;
        return own === true || (podLevel && own !== false)
          ? undefined
          : "may run as root: set securityContext.runAsNonRoot: true on the pod or the container";
      });
    },
  );

export const noPrivilegeEscalation = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-no-privilege-escalation",
      description: "Containers set allowPrivilegeEscalation: false.",
      enforcementLevel: "mandatory",
      remediationSteps: "Set securityContext.allowPrivilegeEscalation: false on each container.",
    },
    (w) =>
      eachContainer(containersOf(w.podSpec), (c) =>
        securityContext(c).allowPrivilegeEscalation === false
          ? undefined
          : "does not set securityContext.allowPrivilegeEscalation: false",
      ),
  );

export const readOnlyRootFilesystem = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-read-only-root-filesystem",
      description: "Containers mount their root filesystem read-only.",
      enforcementLevel: "mandatory",
      remediationSteps:
        "Set securityContext.readOnlyRootFilesystem: true; mount an emptyDir where the process writes.",
    },
    (w) =>
      eachContainer(containersOf(w.podSpec), (c) =>
        securityContext(c).readOnlyRootFilesystem === true
          ? undefined
          : "does not set securityContext.readOnlyRootFilesystem: true",
      ),
  );

export const dropAllCapabilities = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-drop-all-capabilities",
      description: "Containers drop every Linux capability.",
      enforcementLevel: "mandatory",
      remediationSteps: 'Set securityContext.capabilities.drop: ["ALL"] on each container.',
    },
    (w) =>
      eachContainer(containersOf(w.podSpec), (c) =>
        list(at(securityContext(c), "capabilities", "drop")).includes("ALL")
          ? undefined
          : 'does not drop ALL capabilities (securityContext.capabilities.drop: ["ALL"])',
      ),
  );

export const noPrivilegedContainers = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-no-privileged-containers",
      description: "No container runs privileged.",
      enforcementLevel: "mandatory",
      remediationSteps: "Remove securityContext.privileged: true.",
    },
    (w) =>
      eachContainer(containersOf(w.podSpec), (c) =>
        securityContext(c).privileged === true
          ? "is privileged (securityContext.privileged: true): it has every power of the node"
          : undefined,
      ),
  );

export const noHostNamespaces = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-no-host-namespaces",
      description: "Pods do not share the node's network, PID or IPC namespace.",
      enforcementLevel: "mandatory",
      remediationSteps: "Remove hostNetwork, hostPID and hostIPC from the pod spec.",
    },
    (w) =>
      ["hostNetwork", "hostPID", "hostIPC"]
        .filter((field) => w.podSpec[field] === true)
        .map((field) => `pod sets ${field}: true and shares that namespace with the node`),
  );

export const noHostPathVolumes = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-no-host-path-volumes",
      description: "Pods mount no hostPath volume (node filesystem).",
      enforcementLevel: "mandatory",
      remediationSteps: "Use an emptyDir, a ConfigMap/Secret or a PersistentVolumeClaim instead.",
    },
    (w) =>
      list(w.podSpec.volumes)
        .map(rec)
        .filter((v) => v.hostPath !== undefined)
        .map(
          (v) =>
            `volume "${str(v.name) ?? "?"}" mounts the node path ` +
            `${JSON.stringify(str(at(v.hostPath, "path")) ?? "?")} (hostPath)`,
        ),
  );

/** Containers whose image is known; skips (with a reason) when none is known yet. */
function knownImages(
  containers: readonly Container[],
  notApplicable: (reason: string) => never,
): { c: Container; image: string }[] {
  const known = containers.flatMap((c) => {
    const image = str(c.spec.image);
    return image === undefined ? [] : [{ c, image }];
  });
  if (known.length === 0 && containers.length > 0) {
    notApplicable("no container image is known yet (computed during the update)");
  }
  return known;
}

export const imageTagPinned = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-image-pinned",
      description: 'Images name a version: no "latest" tag and no untagged image.',
      enforcementLevel: "mandatory",
      remediationSteps: "Use repo:<version> or repo@sha256:<digest>.",
    },
    (w, ctx) =>
      knownImages(containersOf(w.podSpec), ctx.notApplicable).flatMap(({ c, image }) => {
        switch (imagePin(image)) {
          case "latest":
            return [`${c.label} uses image "${image}": pin a version tag or a digest, not latest`];
          case "none":
            return [`${c.label} uses image "${image}" without a tag (that means latest)`];
          default:
            return [];
        }
      }),
  );

export const imageDigest = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-image-digest",
      description: "When requireDigest is on (prod), images are pinned by digest.",
      enforcementLevel: "mandatory",
      remediationSteps: "Deploy repo@sha256:<digest> (promote the digest that ran in dev).",
    },
    (w, ctx) => {
      if (!ctx.settings.requireDigest) ctx.notApplicable("requireDigest is off for this stack");
      return knownImages(containersOf(w.podSpec), ctx.notApplicable)
        .filter(({ image }) => imagePin(image) !== "digest")
        .map(
          ({ c, image }) =>
            `${c.label} uses image "${image}": this stack deploys by digest (repo@sha256:<64 hex>)`,
        );
    },
    settingsFor("requireDigest"),
  );

export const noLoadBalancerService = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "k8s-no-load-balancer-service",
      description:
        "No Service of type LoadBalancer (a public IP beside the Gateway) unless allowLoadBalancer.",
      enforcementLevel: "mandatory",
      remediationSteps: "Use type ClusterIP and route through the Gateway (or Ingress).",
    },
    [SERVICE],
    ({ props, settings }) =>
      at(props, "spec", "type") === "LoadBalancer" && !settings.allowLoadBalancer
        ? [
            "Service is of type LoadBalancer, which opens a public IP beside the Gateway: " +
              "use ClusterIP (or set allowLoadBalancer for this stack)",
          ]
        : [],
    settingsFor("allowLoadBalancer"),
  );

const RESERVED_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

export const noDefaultNamespace = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "k8s-no-default-namespace",
      description:
        "Workloads, Services, Ingresses, Gateways and HTTPRoutes live in the app's own namespace, " +
        "never in default or kube-*.",
      enforcementLevel: "mandatory",
      remediationSteps: "Set metadata.namespace to the app's namespace.",
    },
    [...Object.keys(WORKLOAD_TYPES), SERVICE, INGRESS, GATEWAY, HTTP_ROUTE],
    ({ props }) => {
      const namespace = rec(props.metadata).namespace;
      if (namespace === undefined) {
        return ["sets no metadata.namespace: it would land in the provider's default namespace"];
      }
      const ns = str(namespace);
      return ns !== undefined && RESERVED_NAMESPACES.includes(ns)
        ? [`is in the reserved namespace "${ns}": use the app's own namespace`]
        : [];
    },
  );

export const ingressTls = (): ResourceValidationPolicy =>
  resourcePolicy(
    {
      name: "k8s-ingress-tls",
      description: "In prod, an Ingress terminates TLS for every host it serves.",
      enforcementLevel: "mandatory",
      remediationSteps: "Add spec.tls with the host and the certificate Secret.",
    },
    [INGRESS],
    ({ props, settings, notApplicable }) => {
      if (settings.environment !== "prod") notApplicable("TLS is required in prod only");
      const tls = list(at(props, "spec", "tls")).map(rec);
      if (tls.length === 0) return ["Ingress has no spec.tls: prod serves HTTPS only"];
      const covered = new Set(tls.flatMap((t) => list(t.hosts)));
      return list(at(props, "spec", "rules"))
        .map((r) => str(rec(r).host))
        .filter((host): host is string => host !== undefined && !covered.has(host))
        .map((host) => `host "${host}" is not listed in spec.tls[].hosts: prod serves HTTPS only`);
    },
    settingsFor("environment"),
  );

export const recommendedLabels = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-recommended-labels",
      description:
        "Workloads carry the recommended labels (app.kubernetes.io/name, instance, component, " +
        "part-of, managed-by) on their metadata.",
      enforcementLevel: "mandatory",
      remediationSteps: "Add the missing labels to metadata.labels.",
    },
    (w, { settings }) => {
      const labels = stringMap(w.metadata.labels);
      const missing = settings.recommendedLabels.filter((l) => !labels[l]);
      return missing.length === 0 ? [] : [`metadata.labels lacks ${listing(missing)}`];
    },
    settingsFor("recommendedLabels"),
  );

const trainingSettings = settingsFor(
  "trainingPoolLabelKey",
  "trainingPoolLabelValue",
  "trainingTaintEffect",
);

function taintOf(s: {
  trainingPoolLabelKey: string;
  trainingPoolLabelValue: string;
  trainingTaintEffect: string;
}): Taint & { text: string } {
  const taint = {
    key: s.trainingPoolLabelKey,
    value: s.trainingPoolLabelValue,
    effect: s.trainingTaintEffect,
  };
  return { ...taint, text: `${taint.key}=${taint.value}:${taint.effect}` };
}

export const trainingOnTrainingPool = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-training-on-training-pool",
      description:
        "Training workloads (app.kubernetes.io/component: training) tolerate the training taint " +
        "and select the training pool, so they run there and nowhere else.",
      enforcementLevel: "mandatory",
      remediationSteps:
        "Add the toleration of the training taint and a nodeSelector on the training pool label.",
    },
    (w, { settings, notApplicable }) => {
      if (!isTraining(w)) notApplicable("not a training workload");
      const taint = taintOf(settings);
      const key = settings.trainingPoolLabelKey;
      const value = settings.trainingPoolLabelValue;
      const out: string[] = [];
      if (!list(w.podSpec.tolerations).some((t) => tolerates(t, taint))) {
        out.push(`training pod does not tolerate the training taint ${taint.text}`);
      }
      if (!selectsPool(w.podSpec, key, value)) {
        out.push(
          `training pod does not select the training pool: set nodeSelector ${key}: ${value} ` +
            "(or a required node affinity on that label)",
        );
      }
      return out;
    },
    trainingSettings,
  );

export const trainingTaintReserved = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-training-taint-reserved",
      description:
        "Only training workloads tolerate the training taint, so the training pool can scale " +
        "back to zero. DaemonSets are exempt (the autoscaler ignores their pods).",
      enforcementLevel: "mandatory",
      remediationSteps: "Remove the toleration, or label the workload as a training component.",
    },
    (w, { settings, notApplicable }) => {
      if (isTraining(w)) notApplicable("a training workload");
      if (w.kind === "DaemonSet") notApplicable("DaemonSet pods do not keep a node up");
      const taint = taintOf(settings);
      return list(w.podSpec.tolerations).some((t) => tolerates(t, taint))
        ? [
            `pod tolerates the training taint ${taint.text} but is not a training workload: ` +
              "it would keep the training pool from scaling to zero",
          ]
        : [];
    },
    trainingSettings,
  );

export const prodTopologySpread = (): ResourceValidationPolicy =>
  workloadPolicy(
    {
      name: "k8s-prod-topology-spread",
      description:
        "In prod, a Deployment spreads its replicas with topologySpreadConstraints that select " +
        "its own pods.",
      enforcementLevel: "mandatory",
      remediationSteps:
        "Add topologySpreadConstraints (e.g. over kubernetes.io/hostname) whose labelSelector " +
        "matches the pod template labels.",
    },
    (w, { settings, notApplicable }) => {
      if (settings.environment !== "prod") notApplicable("spreading is required in prod only");
      if (w.kind !== "Deployment") notApplicable("applies to Deployments");
      const constraints = list(w.podSpec.topologySpreadConstraints).map(rec);
      if (constraints.length === 0) {
        return [
          "prod Deployment has no spec.template.spec.topologySpreadConstraints: " +
            "its replicas may all land on one node",
        ];
      }
      const podLabels = stringMap(w.podMetadata.labels);
      return constraints.flatMap((c, i) =>
        selectorMatches(c.labelSelector, podLabels)
          ? []
          : [
              `topologySpreadConstraints[${i}] (topologyKey ${JSON.stringify(c.topologyKey)}) ` +
                "does not select the Deployment's own pods",
            ],
      );
    },
    settingsFor("environment"),
  );

const refText = (props: Props): string => {
  const { namespace, name } = objectRef(props);
  return `${namespace}/${name}`;
};

const HPA_TYPES = [HPA, "kubernetes:autoscaling/v1:HorizontalPodAutoscaler"];

/** The HPA that scales Deployment `props`, if any (same namespace, scaleTargetRef by name). */
function hpaOf(resources: readonly PolicyResource[], props: Props): Props | undefined {
  const target = objectRef(props);
  return resources
    .filter((r) => HPA_TYPES.includes(r.type))
    .map((r) => r.props as Props)
    .find((hpa) => {
      const ref = rec(at(hpa, "spec", "scaleTargetRef"));
      return (
        objectRef(hpa).namespace === target.namespace &&
        ref.kind === "Deployment" &&
        ref.name === target.name
      );
    });
}

export const prodMinReplicas = (): StackValidationPolicy =>
  stackPolicy(
    {
      name: "k8s-prod-min-replicas",
      description:
        "In prod, a Deployment never runs fewer than minProdReplicas replicas: its spec.replicas, " +
        "or the minReplicas of the HorizontalPodAutoscaler that scales it.",
      enforcementLevel: "mandatory",
      remediationSteps: "Raise spec.replicas, or the HPA's minReplicas, to minProdReplicas.",
    },
    (resources, settings, args) => {
      if (settings.environment !== "prod") args.notApplicable("replica floor is for prod only");
      const min = settings.minProdReplicas;
      const out: StackViolation[] = [];
      for (const r of resources.filter((r) => r.type === DEPLOYMENT)) {
        const props = r.props as Props;
        const hpa = hpaOf(resources, props);
        const need = `prod needs at least ${min}`;
        if (hpa !== undefined) {
          const floor = at(hpa, "spec", "minReplicas") ?? 1;
          if (num(floor) !== undefined && (floor as number) < min) {
            out.push({
              urn: r.urn,
              message:
                `Deployment ${refText(props)} can scale down to ${floor} replica(s) ` +
                `(HorizontalPodAutoscaler ${refText(hpa)} minReplicas): ${need}`,
            });
          }
          continue;
        }
        const replicas = at(props, "spec", "replicas");
        if (replicas === undefined) {
          out.push({
            urn: r.urn,
            message:
              `Deployment ${refText(props)} sets no spec.replicas (Kubernetes runs 1) and no ` +
              `HorizontalPodAutoscaler scales it: ${need}`,
          });
        } else if (num(replicas) !== undefined && (replicas as number) < min) {
          out.push({
            urn: r.urn,
            message: `Deployment ${refText(props)} runs ${replicas} replica(s): ${need}`,
          });
        }
      }
      return out;
    },
    settingsFor("environment", "minProdReplicas"),
  );

export const prodDisruptionBudget = (): StackValidationPolicy =>
  stackPolicy(
    {
      name: "k8s-prod-pdb-coverage",
      description:
        "In prod, every Deployment is covered by a PodDisruptionBudget in its namespace whose " +
        "selector matches its pod labels, so node drains keep it serving.",
      enforcementLevel: "mandatory",
      remediationSteps: "Add a PodDisruptionBudget selecting the Deployment's pod labels.",
    },
    (resources, settings, args) => {
      if (settings.environment !== "prod") args.notApplicable("PDBs are required in prod only");
      const pdbs = resources.filter((r) => r.type === PDB).map((r) => r.props as Props);
      return resources
        .filter((r) => r.type === DEPLOYMENT)
        .flatMap((r) => {
          const props = r.props as Props;
          const w = workloadOf(r.type, props);
          const podLabels = stringMap(w?.podMetadata.labels);
          const { namespace } = objectRef(props);
          const covered = pdbs.some(
            (pdb) =>
              objectRef(pdb).namespace === namespace &&
              selectorMatches(at(pdb, "spec", "selector"), podLabels),
          );
          return covered
            ? []
            : [
                {
                  urn: r.urn,
                  message:
                    `Deployment ${refText(props)} is not covered by a PodDisruptionBudget ` +
                    `(none in namespace "${namespace}" selects its pod labels)`,
                },
              ];
        });
    },
    settingsFor("environment"),
  );

/** Every Kubernetes policy of the pack. */
export const kubernetesPolicies = (): (ResourceValidationPolicy | StackValidationPolicy)[] => [
  containerResources(),
  containerProbes(),
  runAsNonRoot(),
  noPrivilegeEscalation(),
  readOnlyRootFilesystem(),
  dropAllCapabilities(),
  noPrivilegedContainers(),
  noHostNamespaces(),
  noHostPathVolumes(),
  imageTagPinned(),
  imageDigest(),
  noLoadBalancerService(),
  noDefaultNamespace(),
  ingressTls(),
  recommendedLabels(),
  trainingOnTrainingPool(),
  trainingTaintReserved(),
  prodTopologySpread(),
  prodMinReplicas(),
  prodDisruptionBudget(),
];
