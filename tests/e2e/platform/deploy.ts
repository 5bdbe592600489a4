/**
 * The first block: preview and up of the `local` config (rolling release, 1 replica), and
 * every object read back from the cluster.
 */
import { recordTiming } from "../support/context";
import {
  condition,
  find,
  get,
  kubectl,
  kubectlWithInput,
  list,
  waitFor,
  type KubeObject,
  deploymentContainer,
  envOf,
} from "../support/kube";
import { STACK_NAME, type Run } from "../support/stack";
import {
  type PlatformFixture,
  NS,
  APP_NODE,
  SCRAPER_NS,
  CONFIG_GROUP,
  LOCAL_OBJECTS,
  isObject,
  objectChanges,
  objectName,
} from "./fixture";

/** `kubectl apply --dry-run=server` of one object: the API server's verdict, nothing stored. */
async function serverDryRun(obj: KubeObject): Promise<{ code: number; stderr: string }> {
  const r = await kubectlWithInput(
    JSON.stringify(obj),
    "apply",
    "--dry-run=server",
    "-o",
    "name",
    "-f",
    "-",
  );
  return { code: r.code, stderr: r.stderr };
}

export function register(platform: PlatformFixture): void {
  describe("deploy: preview, up, and the cluster read back", () => {
    let firstPreview: Run;

    test("preview --diff lists the ConfigGroup and the create of every object in it, nothing else", async () => {
      firstPreview = await platform.preview("preview (first, empty stack)");
      const creates = firstPreview.steps.filter((s) => s.op === "create");
      expect(creates.some((s) => s.type === CONFIG_GROUP && s.name === "mlops-manifests")).toBe(
        true,
      );
      expect(
        creates
          .filter(isObject)
          .map((s) => `${s.type} ${objectName(s)}`)
          .sort(),
      ).toEqual(LOCAL_OBJECTS);
      // A first deployment only creates.
      expect(firstPreview.steps.filter((s) => s.op !== "create" && s.op !== "same")).toEqual([]);
      // The engine's summary counts resources, not its default providers.
      expect(firstPreview.changes.create).toBe(
        creates.filter((s) => !s.type.startsWith("pulumi:providers:")).length,
      );
      expect(firstPreview.stdout).toMatch(/\+ .*kubernetes:apps\/v1:Deployment/);
    });

    test("up creates what the preview listed", async () => {
      const r = await platform.up("up (create)");
      expect(r.changes.create).toBe(firstPreview.changes.create);
      // The same objects, by name, not only as many.
      expect(objectChanges(r)).toEqual(objectChanges(firstPreview));
      recordTiming("resources created", 0, `${r.changes.create} resources`);
    });

    test("Namespace, ServiceAccounts: created with the platform labels, tokens not automounted", async () => {
      const ns = await get("namespace", NS);
      expect(ns.metadata.labels).toMatchObject({ "app.kubernetes.io/part-of": "mlops-platform" });
      expect(ns.status.phase).toBe("Active");
      for (const name of ["inference", "training"]) {
        const sa = await get("serviceaccount", name, NS);
        expect(sa.automountServiceAccountToken).toBe(false);
        expect(sa.metadata.labels).toMatchObject({
          "app.kubernetes.io/instance": STACK_NAME,
          "app.kubernetes.io/managed-by": "pulumi",
        });
      }
    });

    test("Deployment inference: Available because real readiness probes passed, the pinned image, hardened", async () => {
      const d = await waitFor("Deployment inference Available", async () => {
        const obj = await get("deployment", "inference", NS);
        return condition(obj, "Available") === "True" ? obj : undefined;
      });
      expect(d.status.readyReplicas).toBeGreaterThanOrEqual(1);
      const c = deploymentContainer(d);
      expect(c.image).toBe("mlops-inference:0.1.0");
      expect(c.ports).toEqual([
        expect.objectContaining({ containerPort: 8080, name: "http" }),
        expect.objectContaining({ containerPort: 8081, name: "grpc" }),
      ]);
      expect(envOf(c)).toMatchObject({
        PORT: "8080",
        MODEL_PINS: "mpg-regressor=1,penguin-classifier=1",
      });
      expect(c.readinessProbe.httpGet).toMatchObject({ path: "/v2/health/ready", port: 8080 });
      expect(c.startupProbe.httpGet).toMatchObject({ path: "/v2/health/ready", port: 8080 });
      expect(c.livenessProbe.httpGet).toMatchObject({ path: "/v2/health/live", port: 8080 });
      expect(c.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(d.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(d.spec.template.spec.serviceAccountName).toBe("inference");
      expect(d.spec.selector.matchLabels).toMatchObject({ "mlops-platform/track": "stable" });
      // Its pods run on the general node, never on the training pool: the container started from
      // the image, and the kubelet marked it ready after probing the service's readiness route.
      const pods = await list("pods", ["-n", NS, "-l", "mlops-platform/track=stable"]);
      expect(pods.length).toBeGreaterThanOrEqual(1);
      for (const p of pods) {
        if (platform.ownCluster()) expect(p.spec.nodeName).toBe(APP_NODE);
        expect(p.status.phase).toBe("Running");
        expect(condition(p, "Ready")).toBe("True");
        const status = (p.status.containerStatuses as KubeObject[])[0];
        expect(status).toMatchObject({
          name: "inference",
          ready: true,
          started: true,
          restartCount: 0,
        });
        expect(status.state.running.startedAt).toEqual(expect.any(String));
        expect(status.imageID).toMatch(/sha256:[0-9a-f]{64}/);
      }
      // The kubelet ran the probes: the container's own log has the requests they made.
      const log = await kubectl("logs", "-n", NS, pods[0].metadata.name, "-c", "inference");
      expect(log).toMatch(/"route":"\/v2\/health\/ready","status":200/);
    });

    test("Service, Gateway, HTTPRoute, HPA route and scale the stable track", async () => {
      const svc = await get("service", "inference", NS);
      expect(svc.spec.type).toBe("NodePort");
      expect(svc.spec.ports).toEqual([
        expect.objectContaining({
          name: "http",
          port: 80,
          targetPort: 8080,
          nodePort: 30080,
          protocol: "TCP",
        }),
        expect.objectContaining({
          name: "grpc",
          port: 8081,
          targetPort: 8081,
          appProtocol: "kubernetes.io/h2c",
          protocol: "TCP",
        }),
      ]);
      expect(svc.spec.selector).toMatchObject({
        "app.kubernetes.io/instance": STACK_NAME,
        "mlops-platform/track": "stable",
      });

      // Admitted by the API server through the real Gateway API CRDs, which filled in their
      // defaults (the route's path match, the listener's allowed route kinds are the server's).
      const gateway = await get("gateway", "inference", NS);
      expect(gateway.spec.gatewayClassName).toBe("traefik");
      expect(gateway.spec.listeners).toEqual([
        {
          name: "https",
          hostname: "mlops.localtest.me",
          protocol: "HTTPS",
          port: 443,
          tls: {
            mode: "Terminate",
            certificateRefs: [
              { group: "", kind: "Secret", name: "mlops-tls", namespace: "traefik" },
            ],
          },
          allowedRoutes: { namespaces: { from: "Same" } },
        },
      ]);
      // Programmed by the local cluster's data plane, at an address of this machine.
      expect(condition(gateway, "Programmed")).toBe("True");
      expect(gateway.status.addresses).toEqual([expect.objectContaining({ value: "127.0.0.1" })]);
      const route = await get("httproute", "inference", NS);
      expect(route.spec.parentRefs).toEqual([
        {
          group: "gateway.networking.k8s.io",
          kind: "Gateway",
          name: "inference",
          sectionName: "https",
        },
      ]);
      expect(route.spec.hostnames).toEqual(["mlops.localtest.me"]);
      expect(route.spec.rules).toEqual([
        {
          matches: [{ path: { type: "PathPrefix", value: "/" } }],
          backendRefs: [{ group: "", kind: "Service", name: "inference", port: 80, weight: 1 }],
        },
      ]);

      const hpa = await get("hpa", "inference", NS);
      expect(hpa.spec).toMatchObject({
        minReplicas: 1,
        maxReplicas: 3,
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "inference" },
      });
      expect(hpa.spec.metrics).toEqual([
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
      ]);
      expect(await find("pdb", "inference", NS)).toBeUndefined();
    });

    test("CronJob training: tolerates the training taint and requires the training pool", async () => {
      const cj = await get("cronjob", "training", NS);
      expect(cj.spec.schedule).toBe("0 3 * * *");
      expect(cj.spec.suspend).toBe(false);
      expect(cj.spec.concurrencyPolicy).toBe("Forbid");
      const pod = cj.spec.jobTemplate.spec.template.spec;
      expect(pod.tolerations).toEqual([
        { key: "mlops-platform/pool", operator: "Equal", value: "training", effect: "NoSchedule" },
      ]);
      expect(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
        nodeSelectorTerms: [
          {
            matchExpressions: [
              { key: "mlops-platform/pool", operator: "In", values: ["training"] },
            ],
          },
        ],
      });
      expect(pod.containers[0].resources.requests).toEqual({ cpu: "500m", memory: "512Mi" });
      expect(pod.containers[0].command).toEqual(["node", "dist/train/main.js", "--out", "/models"]);
    });

    test("the API server validates Gateway API objects with the real CRDs (schema and CEL rules)", async () => {
      const route = await get("httproute", "inference", NS);
      const candidate = (edit: (spec: KubeObject) => void): KubeObject => {
        const spec = JSON.parse(JSON.stringify(route.spec)) as KubeObject;
        edit(spec);
        return {
          apiVersion: route.apiVersion,
          kind: "HTTPRoute",
          metadata: { name: "dry-run-route", namespace: NS },
          spec,
        };
      };
      // The rendered route as it is: admitted.
      expect(await serverDryRun(candidate(() => undefined))).toEqual({ code: 0, stderr: "" });
      // A weight outside the schema's bounds (0–1000000): refused, naming the field.
      const weight = await serverDryRun(
        candidate((spec) => {
          spec.rules[0].backendRefs[0].weight = -1;
        }),
      );
      expect(weight.code).not.toBe(0);
      expect(weight.stderr).toMatch(/spec\.rules\[0\]\.backendRefs\[0\]\.weight/);
      // A path prefix that is not an absolute path: refused by the CRD's CEL rule.
      const pathRule = await serverDryRun(
        candidate((spec) => {
          spec.rules[0].matches[0].path.value = "v2";
        }),
      );
      expect(pathRule.code).not.toBe(0);
      expect(pathRule.stderr).toMatch(/must be an absolute path/);
    });

    test("NetworkPolicies: only the Gateway's data plane (8080, 8081) and the scraper (8080) reach the pods; nothing reaches training; egress DNS only", async () => {
      const dnsOnly = [
        {
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ];
      const inference = await get("networkpolicy", "inference", NS);
      expect(inference.spec.policyTypes).toEqual(["Ingress", "Egress"]);
      expect(inference.spec.egress).toEqual(dnsOnly);
      expect(inference.spec.podSelector.matchLabels).toEqual({
        "app.kubernetes.io/name": "mlops-inference",
        "app.kubernetes.io/instance": STACK_NAME,
        "app.kubernetes.io/component": "inference",
      });
      const from = (ns: string) => [
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } },
      ];
      expect(inference.spec.ingress).toEqual([
        {
          from: from("traefik"),
          ports: [
            { protocol: "TCP", port: 8080 },
            { protocol: "TCP", port: 8081 },
          ],
        },
        { from: from(SCRAPER_NS), ports: [{ protocol: "TCP", port: 8080 }] },
      ]);
      const training = await get("networkpolicy", "training", NS);
      expect(training.spec.policyTypes).toEqual(["Ingress", "Egress"]);
      expect(training.spec.egress).toEqual(dnsOnly);
      expect(training.spec.ingress ?? []).toEqual([]);
      expect(training.spec.podSelector.matchLabels).toMatchObject({
        "app.kubernetes.io/component": "training",
      });
    });

    test("stack outputs describe the deployment", async () => {
      const out = await platform.stack.outputs();
      expect(out).toEqual({
        endpointUrl: "https://mlops.localtest.me/",
        caCertificate: expect.stringMatching(
          /^-----BEGIN CERTIFICATE-----\n[^]+-----END CERTIFICATE-----\n$/,
        ),
        serviceUrl: `http://inference.${NS}.svc.cluster.local:80`,
        nodePortUrl: "http://127.0.0.1:30080/",
        namespace: NS,
        imageRef: "mlops-inference:0.1.0",
        modelVersions: { "mpg-regressor": "1", "penguin-classifier": "1" },
        modelStoreUrl: `emptyDir://${NS}/training`,
        kubeconfig: "",
        registryLoginServer: "",
        trainingPool: { name: "", minCount: 0, maxCount: 0 },
        release: {
          strategy: "rolling",
          serving: "stable",
          canaryWeight: 0,
          tracks: { stable: "mlops-inference:0.1.0" },
        },
        authMode: "key",
        inferenceKeys: {
          primary: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
          secondary: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        },
      });
    });
  });
}
