/**
 * The real engine against a real cluster: the `local` stack's config as stack `e2e`, through the
 * Automation API, on the suite's own cluster with real nodes (kubelet + containerd: containers
 * run, probes are probed, kube-proxy routes the Service). Traffic goes to the Service's node port
 * on 127.0.0.1 only, bounded in count and time. Tests run in order: each builds on the state the
 * previous one left (one stack, one cluster), and afterAll always destroys what is left.
 *
 * The fixture (platform/fixture.ts) holds the stack and what the blocks hand on to each other, and
 * registers the beforeAll and afterAll; the blocks below run in the order they are written.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { parse as yamlParse } from "yaml";
import { parseConfig } from "../../infra/config";
import { monitoringFiles } from "../../infra/monitoring/files";
import { keySecretUrn } from "../../tools/keys";
import { pythonEnv } from "../support/python";
import {
  platformFixture,
  NS,
  APP_NODE,
  SCRAPER_NS,
  CONFIG_GROUP,
  LOCAL_OBJECTS,
  isObject,
  objectChanges,
  objectName,
  BASE,
  SECRET,
  D,
  HPA,
  PDB,
  CRON,
  SVC,
  ROUTE,
  GRPC_ROUTE,
  TRAINING_NODE,
} from "./platform/fixture";
import { recordTiming, REPO_ROOT, type E2eContext } from "./support/context";
import { gatewayRequest, splitThroughGateway } from "./support/gateway";
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
  allNamespacedObjects,
} from "./support/kube";
import { probePod } from "./support/probe";
import { runOk, run } from "./support/proc";
import { freePort, request, SERVICE_DIR, startService } from "./support/service";
import { STACK_NAME, type Run, changed, localConfig } from "./support/stack";
import {
  MPG_ROW,
  send,
  underLoad,
  useKey,
  report,
  credentialHeaders,
  versionsNow,
} from "./support/traffic";

const platform = platformFixture();

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

describe("deploy: preview, up, and the cluster read back", () => {
  let firstPreview: Run;

  test("preview --diff lists the ConfigGroup and the create of every object in it, nothing else", async () => {
    firstPreview = await platform.preview("preview (first, empty stack)");
    const creates = firstPreview.steps.filter((s) => s.op === "create");
    expect(creates.some((s) => s.type === CONFIG_GROUP && s.name === "mlops-manifests")).toBe(true);
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
          certificateRefs: [{ group: "", kind: "Secret", name: "mlops-tls", namespace: "traefik" }],
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
          matchExpressions: [{ key: "mlops-platform/pool", operator: "In", values: ["training"] }],
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

/** An RS256 JWT signed with `key` (node:crypto; what Entra ID issues, for the suite's issuer). */
function signJwt(key: crypto.KeyObject, claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const data = `${b64({ alg: "RS256", typ: "JWT", kid: "e2e" })}.${b64(claims)}`;
  return `${data}.${crypto.sign("sha256", Buffer.from(data), key).toString("base64url")}`;
}

describe("authentication on real pods: nobody scores anonymously", () => {
  let keys: { primary: string; secondary: string };
  const INFER_PATH = "/v2/models/mpg-regressor/infer";
  const infer = (authorization: string) =>
    send(BASE, INFER_PATH, { inputs: MPG_ROW }, 10000, { authorization });

  test("the generated keys reach the pods; from the host: no key 401, a wrong key 401, either key 200", async () => {
    keys = (await platform.stack.outputs()).inferenceKeys as typeof keys;
    platform.seenKeys.push(keys.primary, keys.secondary);
    const started = Date.now();
    await waitFor(
      "the key Secrets to reach the pods (the kubelet's next sync)",
      async () =>
        (await infer(`Bearer ${keys.primary}`).catch(() => undefined))?.status === 200
          ? true
          : undefined,
      120000,
      500,
    );
    const seconds = (Date.now() - started) / 1000;
    recordTiming("keys reached the pods", seconds);
    const none = await infer("");
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toEqual({
      error: "authentication required: send Authorization: Bearer <key or token>",
    });
    expect((await infer(`Bearer ${crypto.randomBytes(32).toString("base64url")}`)).status).toBe(
      401,
    );
    expect((await infer(`Bearer ${keys.secondary}`)).status).toBe(200);
    // The probes stay open for the kubelet.
    expect(
      (await send(BASE, "/v2/health/ready", undefined, 10000, { authorization: "" })).status,
    ).toBe(200);
    // Every later request of the suite sends the secondary key (the one never rotated).
    useKey(keys.secondary);
    process.stderr.write(
      `[e2e] keys reached the pods ${seconds.toFixed(1)} s after up; 401 without, 200 with\n`,
    );
  });

  test("from a pod in another namespace the NetworkPolicy admits (the scraper's), through the Service's cluster DNS name: 401, 401, 200", async () => {
    const url = `${(await platform.stack.outputs()).serviceUrl as string}${INFER_PATH}`;
    const script =
      `const go = (h) => fetch(process.env.URL, { method: "POST", headers: { "content-type": "application/json", ...h }, body: process.env.BODY }).then((r) => r.status);` +
      `Promise.all([go({}), go({ authorization: "Bearer " + "x".repeat(43) }), go({ authorization: "Bearer " + process.env.KEY })])` +
      `.then((s) => console.log(s.join(" ")), (e) => { console.error(e.message); process.exit(1); })`;
    // The key reaches the pod from a Secret (stdin to kubectl), never on a command line.
    const manifest = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: SCRAPER_NS } },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "client-key", namespace: SCRAPER_NS },
        stringData: { KEY: keys.primary },
      },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "client", namespace: SCRAPER_NS },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "client",
              image: "mlops-inference:0.1.0",
              imagePullPolicy: "IfNotPresent",
              command: ["node", "-e", script],
              env: [
                { name: "URL", value: url },
                { name: "BODY", value: JSON.stringify({ inputs: MPG_ROW }) },
              ],
              envFrom: [{ secretRef: { name: "client-key" } }],
            },
          ],
        },
      },
    ];
    try {
      const applied = await kubectlWithInput(
        manifest.map((m) => JSON.stringify(m)).join("\n"),
        "apply",
        "-f",
        "-",
      );
      expect(applied.code).toBe(0);
      await waitFor(
        "the client pod to finish",
        async () => {
          const pod = await get("pod", "client", SCRAPER_NS);
          return ["Succeeded", "Failed"].includes(pod.status.phase as string) ? pod : undefined;
        },
        120000,
        1000,
      );
      const printed = (await kubectl("logs", "-n", SCRAPER_NS, "client")).trim();
      expect(printed).toBe("401 401 200");
      process.stderr.write(
        `[e2e] from namespace ${SCRAPER_NS}: no key, wrong key, key -> ${printed}\n`,
      );
    } finally {
      await kubectl(
        "delete",
        "pod,secret",
        "client",
        "client-key",
        "-n",
        SCRAPER_NS,
        "--ignore-not-found",
      ).catch(() => undefined);
    }
  });

  test("Entra ID tokens against a JWKS issuer beside the service: valid 200; expired, another audience, another issuer 401; without the role 403", async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
    const jwk = {
      ...(publicKey.export({ format: "jwk" }) as object),
      kid: "e2e",
      alg: "RS256",
      use: "sig",
    };
    const issuer = "https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000e2/v2.0";
    const audience = "api://mlops-e2e";
    const ns = "e2e-entra";
    const labels = { app: "e2e-entra" };
    const jwksServer =
      `require("http").createServer((q, s) => { s.setHeader("content-type", "application/json"); s.end(process.env.JWKS); })` +
      `.listen(9000, "127.0.0.1")`;
    const manifest = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "entra", namespace: ns, labels },
        spec: {
          containers: [
            {
              name: "inference",
              image: "mlops-inference:0.1.0",
              imagePullPolicy: "IfNotPresent",
              env: Object.entries({
                PORT: "8080",
                HOST: "0.0.0.0",
                AUTH_MODE: "entra",
                AUTH_JWKS_URL: "http://127.0.0.1:9000/discovery/v2.0/keys",
                AUTH_ISSUER: issuer,
                AUTH_AUDIENCE: audience,
                AUTH_ROLE: "Score",
              }).map(([name, value]) => ({ name, value })),
              readinessProbe: {
                httpGet: { path: "/v2/health/ready", port: 8080 },
                periodSeconds: 1,
              },
            },
            {
              name: "issuer",
              image: "mlops-inference:0.1.0",
              imagePullPolicy: "IfNotPresent",
              command: ["node", "-e", jwksServer],
              env: [{ name: "JWKS", value: JSON.stringify({ keys: [jwk] }) }],
            },
          ],
        },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "entra", namespace: ns },
        spec: {
          type: "NodePort",
          selector: labels,
          ports: [{ port: 80, targetPort: 8080, nodePort: 30090 }],
        },
      },
    ];
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: issuer,
      aud: audience,
      iat: now,
      nbf: now,
      exp: now + 600,
      roles: ["Score"],
      oid: "e2e",
    };
    try {
      expect(
        (
          await kubectlWithInput(
            manifest.map((m) => JSON.stringify(m)).join("\n"),
            "apply",
            "-f",
            "-",
          )
        ).code,
      ).toBe(0);
      const entra = BASE.replace(":30080", ":30090");
      await waitFor(
        "the Entra-mode pod to be ready",
        async () =>
          (await send(entra, "/v2/health/ready").catch(() => undefined))?.status === 200
            ? true
            : undefined,
        120000,
        1000,
      );
      const call = async (token: string) => {
        const a = await send(entra, INFER_PATH, { inputs: MPG_ROW }, 10000, {
          authorization: `Bearer ${token}`,
        });
        return `${a.status} ${(JSON.parse(a.body) as { error?: string }).error ?? "ok"}`;
      };
      const results = {
        valid: await call(signJwt(privateKey, claims)),
        expired: await call(
          signJwt(privateKey, { ...claims, iat: now - 7200, nbf: now - 7200, exp: now - 3600 }),
        ),
        audience: await call(signJwt(privateKey, { ...claims, aud: "api://another-app" })),
        issuer: await call(signJwt(privateKey, { ...claims, iss: "https://issuer.example/" })),
        role: await call(signJwt(privateKey, { ...claims, roles: ["Reader"] })),
        forged: await call(
          signJwt(crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey, claims),
        ),
      };
      process.stderr.write(`[e2e] Entra tokens on a real pod: ${JSON.stringify(results)}\n`);
      expect(results).toEqual({
        valid: "200 ok",
        expired: "401 the token has expired",
        audience: "401 the token's aud claim is not accepted here",
        issuer: "401 the token's iss claim is not accepted here",
        role: '403 the token does not hold the app role "Score" (roles claim: ["Reader"])',
        forged: "401 the token's signature is not valid",
      });
    } finally {
      await kubectl("delete", "namespace", ns, "--wait=false").catch(() => undefined);
    }
  });

  test("rotation under load: the primary is replaced while clients hold the secondary; 0 failed, 0 refused; the old primary is refused after", async () => {
    const state = await platform.stack.api.exportStack();
    // What `npm run keys -- rotate primary` replaces.
    const urn = keySecretUrn(STACK_NAME, state.deployment?.resources ?? [], "primary");
    const old = keys.primary;
    const { result, traffic } = await underLoad(BASE, () => platform.stack.up({ replace: [urn] }), {
      workers: 4,
      maxRequests: 20000,
      maxSeconds: 300,
      tailMs: 3000,
    });
    report("key rotation (primary replaced, clients on the secondary)", traffic);
    // Only the primary key's Secret changes (delete-before-replace: its name is fixed).
    expect([...new Set(changed(result.steps).map((l) => l.slice(l.indexOf(" ") + 1)))]).toEqual([
      `${SECRET} mlops-key-primary`,
    ]);
    expect(traffic.failed).toBe(0);
    expect(traffic.requests).toBeGreaterThan(0);
    const rotated = (await platform.stack.outputs()).inferenceKeys as typeof keys;
    platform.seenKeys.push(rotated.primary);
    expect(rotated.secondary).toBe(keys.secondary);
    expect(rotated.primary).not.toBe(old);
    const started = Date.now();
    await waitFor(
      "the new primary to work and the old one to be refused",
      async () =>
        (await infer(`Bearer ${rotated.primary}`)).status === 200 &&
        (await infer(`Bearer ${old}`)).status === 401
          ? true
          : undefined,
      120000,
      500,
    );
    process.stderr.write(
      `[e2e] rotation: ${traffic.requests} requests with the secondary key, ${traffic.failed} failed; the new primary answered ${((Date.now() - started) / 1000).toFixed(1)} s after up\n`,
    );
    keys = rotated;
  });
});

describe("real traffic: the deployed pods serve from the cluster", () => {
  test("through the Service from the host: ready, and each model's answer equals the same code and data run locally", async () => {
    const out = await platform.stack.outputs();
    expect(out.nodePortUrl).toBe(BASE);
    await waitFor(
      `${BASE}v2/health/ready to answer 200 through the Service`,
      async () =>
        (await send(BASE, "/v2/health/ready").catch(() => undefined))?.status === 200
          ? true
          : undefined,
      60000,
      500,
    );
    // The expected answers: the service built and trained here (deterministic training on the
    // same data), run as a local process with the Deployment's own environment.
    await runOk("npm", ["run", "build", "-w", "service"], { cwd: REPO_ROOT, timeoutMs: 300000 });
    const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-models-"));
    try {
      await runOk(
        process.execPath,
        [path.join(SERVICE_DIR, "dist/train/main.js"), "--out", modelDir],
        {
          cwd: SERVICE_DIR,
          timeoutMs: 300000,
        },
      );
      const env = envOf(deploymentContainer(await get("deployment", "inference", NS)));
      // The same code and models; the local copy checks no key (its answers are compared).
      platform.service = startService(
        { ...env, AUTH_MODE: "none", MODEL_DIR: modelDir, LOG_LEVEL: "warn" },
        await freePort(),
      );
      const local = `http://127.0.0.1:${platform.service.port}/`;
      await waitFor(
        "the local service to be ready",
        async () =>
          (await request(platform.service!.port, `${local}v2/health/ready`)).status === 200
            ? true
            : undefined,
        30000,
        250,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nservice output:\n${platform.service?.output()}`);
      });

      const models = out.modelVersions as Record<string, string>;
      expect(Object.keys(models).sort()).toEqual(["mpg-regressor", "penguin-classifier"]);
      const answers: string[] = [];
      for (const [name, version] of Object.entries(models)) {
        const meta = await send(BASE, `/v2/models/${name}`);
        expect(meta.status).toBe(200);
        const metadata = JSON.parse(meta.body) as KubeObject;
        expect(metadata.versions).toContain(version);
        // One row from the model's own metadata (training minimum, first category), and for the
        // regressor also the known car of the smoke test.
        const rows = [
          (metadata.inputs as KubeObject[]).map((i) => ({
            name: i.name,
            shape: [1],
            datatype: i.datatype,
            data: [i.datatype === "BYTES" ? i.parameters.categories[0] : i.parameters.training_min],
          })),
          ...(name === "mpg-regressor" ? [MPG_ROW] : []),
        ];
        for (const inputs of rows) {
          const body = { id: `e2e-${name}`, inputs };
          const fromPod = await send(BASE, `/v2/models/${name}/infer`, body);
          expect(fromPod.status).toBe(200);
          const podAnswer = JSON.parse(fromPod.body) as KubeObject;
          expect(podAnswer).toMatchObject({
            model_name: name,
            model_version: version,
            id: `e2e-${name}`,
          });
          const localAnswer = await request(
            platform.service.port,
            `${local}v2/models/${name}/infer`,
            {
              method: "POST",
              body,
            },
          );
          expect(localAnswer.status).toBe(200);
          expect(podAnswer.outputs).toEqual(localAnswer.body.outputs);
          const predict = (podAnswer.outputs as KubeObject[]).find((o) => o.name === "predict");
          answers.push(`${name} ${JSON.stringify(predict!.data)}`);
        }
      }
      const car = answers.find((a) => a.startsWith("mpg-regressor")) ?? "";
      process.stderr.write(
        `[e2e] answers from the pods (equal to the local run): ${answers.join("; ")}\n`,
      );
      recordTiming("inference through the Service", 0, car);
      expect(await platform.service.stop()).toBe(0);
      platform.service = undefined;
    } finally {
      fs.rmSync(modelDir, { recursive: true, force: true });
    }
  });

  test("in-cluster DNS: from a pod of the scraper's namespace, the serviceUrl output resolves and answers", async () => {
    const url = (await platform.stack.outputs()).serviceUrl as string;
    const script =
      `require("dns").promises.lookup(new URL(${JSON.stringify(url)}).hostname)` +
      `.then((a) => fetch(${JSON.stringify(`${url}/v2/health/ready`)}).then((r) => console.log(a.address, r.status)))` +
      `.catch((e) => { console.error(e.message); process.exit(1); })`;
    // From the scraper's namespace: the one besides the data plane the NetworkPolicy admits.
    await probePod(SCRAPER_NS);
    const printed = (
      await kubectl("exec", "-n", SCRAPER_NS, "probe", "--", "node", "-e", script)
    ).trim();
    const svc = await get("service", "inference", NS);
    expect(printed).toBe(`${svc.spec.clusterIP} 200`);
  });

  test("Pod Security: the namespace enforces restricted, and every pod of the stack was admitted", async () => {
    const ns = await get("namespace", NS);
    expect(ns.metadata.labels).toMatchObject({
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
    });
    // Admission refusals show as FailedCreate events naming PodSecurity (a FailedCreate for a
    // ServiceAccount the ReplicaSet saw before it existed is retried, not a refusal).
    const failed = await list("events", ["-n", NS, "--field-selector", "reason=FailedCreate"]);
    const refused = failed.map((e) => e.message as string).filter((m) => /PodSecurity/.test(m));
    expect(refused).toEqual([]);
    const d = await get("deployment", "inference", NS);
    const pods = await list("pods", ["-n", NS, "-l", "mlops-platform/track=stable"]);
    expect(pods.filter((p) => p.status.phase === "Running").length).toBe(d.status.replicas);
  });
});

/** A namespace the NetworkPolicy admits nowhere. */
const OTHER_NS = "e2e-netpol";

/** From `namespace`/`pod`: a TCP connection to ip:port within 3 s. "connected", "timeout" (a
 * dropped SYN: refused by a policy) or "error <code>" (e.g. ECONNREFUSED: reached, nothing
 * listening). */
async function connectFrom(
  namespace: string,
  pod: string,
  ip: string,
  port: number,
  container = "probe",
): Promise<string> {
  const script =
    `const s = require("net").connect({ host: process.argv[1], port: +process.argv[2], timeout: 3000 });` +
    `s.on("connect", () => { console.log("connected"); s.destroy(); });` +
    `s.on("timeout", () => { console.log("timeout"); s.destroy(); });` +
    `s.on("error", (e) => console.log("error " + e.code));`;
  return (
    await kubectl(
      "exec",
      "-n",
      namespace,
      pod,
      "-c",
      container,
      "--",
      "node",
      "-e",
      script,
      ip,
      String(port),
    )
  ).trim();
}

describe("the edge on real pods: the Traefik data plane, TLS from the stack's CA, gRPC, enforced NetworkPolicies", () => {
  // The probe pods outside the stack (the scraper's namespace, another one) go with the describe.
  afterAll(async () => {
    await kubectl(
      "delete",
      "pod",
      "probe",
      "-n",
      SCRAPER_NS,
      "--ignore-not-found",
      "--wait=true",
    ).catch(() => undefined);
    await kubectl("delete", "namespace", OTHER_NS, "--ignore-not-found", "--wait=true").catch(
      () => undefined,
    );
  });
  test("through the Gateway: HTTPS verified against the stack's CA (refused without it); the host's paths routed to the service", async () => {
    const gateway = await platform.edge();
    expect(gateway).toMatchObject({
      address: "127.0.0.1",
      host: "mlops.localtest.me",
      port: 443,
    });
    const gw = await get("gateway", "inference", NS);
    expect(gw.spec.gatewayClassName).toBe("traefik");
    expect(condition(gw, "Programmed")).toBe("True");
    // The listener's certificate: issued for the host by the stack's CA, which the stack made.
    const secret = await get("secret", "mlops-tls", "traefik");
    const cert = new crypto.X509Certificate(Buffer.from(secret.data["tls.crt"], "base64"));
    const ca = new crypto.X509Certificate(gateway.ca!);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe("DNS:mlops.localtest.me");
    expect(ca.ca).toBe(true);
    const days = (Date.parse(cert.validTo) - Date.now()) / 86400000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
    // Another CA's trust refuses the chain: the client checks the certificate for real.
    const other = await gatewayRequest(gateway, "/v2/health/ready", {
      ca: cert.toString(),
    }).catch((e: Error & { code?: string }) => e.code ?? e.message);
    expect(other).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/);
    const auth = credentialHeaders();
    const paths: Record<string, number> = {};
    for (const [p, headers] of [
      ["/v2/health/ready", {}],
      ["/v2", auth],
      ["/v2/models/mpg-regressor", auth],
      ["/docs", {}],
      ["/openapi.json", {}],
      ["/v2/models/mpg-regressor/infer", {}],
    ] as const) {
      paths[p] = (
        await gatewayRequest(gateway, p, {
          headers,
          ...(p.endsWith("/infer") ? { body: { inputs: MPG_ROW } } : {}),
        })
      ).status;
    }
    process.stderr.write(`[e2e] through the Gateway (HTTPS, stack CA): ${JSON.stringify(paths)}\n`);
    // Every path of the host reaches the service; without the key an inference is refused there.
    expect(paths).toEqual({
      "/v2/health/ready": 200,
      "/v2": 200,
      "/v2/models/mpg-regressor": 200,
      "/docs": 200,
      "/openapi.json": 200,
      "/v2/models/mpg-regressor/infer": 401,
    });
    const answer = await gatewayRequest(gateway, "/v2/models/mpg-regressor/infer", {
      body: { inputs: MPG_ROW },
      headers: auth,
    });
    const direct = await send(BASE, "/v2/models/mpg-regressor/infer", { inputs: MPG_ROW });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body).outputs).toEqual(JSON.parse(direct.body).outputs);
  });

  test("unmodified tritonclient.grpc through the Gateway (TLS, the GRPCRoute) answers as it does on the Service's gRPC port", async () => {
    const gateway = await platform.edge();
    const python = await pythonEnv();
    const script = path.join(REPO_ROOT, "tests/service/python/triton_grpc.py");
    const caFile = path.join(os.tmpdir(), `e2e-stack-ca-${process.pid}.pem`);
    fs.writeFileSync(caFile, gateway.ca!);
    const key = credentialHeaders().authorization.replace(/^Bearer /, "");
    const svc = await get("service", "inference", NS);
    const grpcPort = (svc.spec.ports as KubeObject[]).find((p) => p.name === "grpc")!;
    expect(grpcPort).toMatchObject({ port: 8081, appProtocol: "kubernetes.io/h2c" });
    const runScript = async (target: string, env: Record<string, string>) => {
      const r = await run(python, [script, target], {
        timeoutMs: 300000,
        env: { ...process.env, INFERENCE_KEY: key, ...env },
      });
      if (r.code !== 0) throw new Error(`triton_grpc.py ${target} exited ${r.code}:\n${r.stderr}`);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      // Cumulative counters differ between two runs; everything else must be equal.
      delete out.statistics;
      delete out.statistics_all;
      return out;
    };
    try {
      const through = await runScript(`${gateway.address}:443`, {
        TRITON_TLS_CA: caFile,
        TRITON_TLS_HOST: gateway.host,
      });
      const direct = await runScript(`127.0.0.1:${grpcPort.nodePort}`, {});
      expect(through.ready).toBe(true);
      expect(
        (through.infer as Record<string, { mpg: number[] }>)["None"].mpg.length,
      ).toBeGreaterThan(0);
      expect(through).toEqual(direct);
      process.stderr.write(
        `[e2e] tritonclient.grpc through the Gateway (TLS, GRPCRoute): ${Object.keys(through).length} checks equal to the Service's gRPC port\n`,
      );
    } finally {
      fs.rmSync(caFile, { force: true });
    }
  });

  test("NetworkPolicies enforced: another namespace is refused, the data plane and the scraper admitted, nothing reaches training, inference pods reach DNS only", async () => {
    const pod = (await list("pod", ["-n", NS, "-l", "app.kubernetes.io/component=inference"]))[0];
    const inferenceIp = pod.status.podIP as string;
    const otherIp = await probePod(OTHER_NS);
    const scraperIp = await probePod(SCRAPER_NS);
    const training = await get("networkpolicy", "training", NS);
    const listen = (port: number): Record<string, unknown> => ({
      containers: [
        {
          name: "probe",
          image: "mlops-inference:0.1.0",
          imagePullPolicy: "IfNotPresent",
          command: [
            "node",
            "-e",
            `require("net").createServer((s) => s.end("hi")).listen(${port})`,
          ],
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ["ALL"] },
          },
        },
      ],
    });
    const pool = {
      nodeSelector: { "mlops-platform/pool": "training" },
      tolerations: [
        {
          key: "mlops-platform/pool",
          operator: "Equal",
          value: "training",
          effect: "NoSchedule",
        },
      ],
    };
    try {
      // A listener the training policy selects (its labels), and the same listener unselected.
      const trainingIp = await probePod(
        NS,
        "e2e-training-listener",
        { ...listen(9000), ...pool },
        training.spec.podSelector.matchLabels,
      );
      const controlIp = await probePod(NS, "e2e-control-listener", { ...listen(9000), ...pool });
      const started = Date.now();
      const seen = {
        "other namespace -> inference:8080": await connectFrom(
          OTHER_NS,
          "probe",
          inferenceIp,
          8080,
        ),
        "other namespace -> inference:8081": await connectFrom(
          OTHER_NS,
          "probe",
          inferenceIp,
          8081,
        ),
        "scraper -> inference:8080": await connectFrom(SCRAPER_NS, "probe", inferenceIp, 8080),
        "scraper -> inference:8081": await connectFrom(SCRAPER_NS, "probe", inferenceIp, 8081),
        "scraper -> training listener:9000": await connectFrom(
          SCRAPER_NS,
          "probe",
          trainingIp,
          9000,
        ),
        "scraper -> unselected listener:9000": await connectFrom(
          SCRAPER_NS,
          "probe",
          controlIp,
          9000,
        ),
        "other namespace -> scraper pod:9 (no listener)": await connectFrom(
          OTHER_NS,
          "probe",
          scraperIp,
          9,
        ),
        "inference -> other namespace pod:9": await connectFrom(
          NS,
          pod.metadata.name,
          otherIp,
          9,
          "inference",
        ),
        "inference -> the API server (node address)": await connectFrom(
          NS,
          pod.metadata.name,
          "10.244.0.1",
          6443,
          "inference",
        ),
      };
      const dns = (
        await kubectl(
          "exec",
          "-n",
          NS,
          pod.metadata.name,
          "-c",
          "inference",
          "--",
          "node",
          "-e",
          `require("dns").promises.lookup("inference.${NS}.svc.cluster.local").then((a) => console.log(a.address))`,
        )
      ).trim();
      const seconds = (Date.now() - started) / 1000;
      process.stderr.write(
        `[e2e] NetworkPolicy enforcement (kube-network-policies), ${seconds.toFixed(1)} s:\n` +
          Object.entries(seen)
            .map(([k, v]) => `  ${k}: ${v}`)
            .join("\n") +
          `\n  inference -> DNS: ${dns}\n`,
      );
      recordTiming("NetworkPolicy probes", seconds, JSON.stringify(seen));
      expect(seen).toEqual({
        "other namespace -> inference:8080": "timeout",
        "other namespace -> inference:8081": "timeout",
        "scraper -> inference:8080": "connected",
        "scraper -> inference:8081": "timeout",
        "scraper -> training listener:9000": "timeout",
        "scraper -> unselected listener:9000": "connected",
        // Unfiltered, a closed port answers at once: the timeouts above are the policy's drops.
        "other namespace -> scraper pod:9 (no listener)": "error ECONNREFUSED",
        "inference -> other namespace pod:9": "timeout",
        "inference -> the API server (node address)": "timeout",
      });
      expect(dns).toBe((await get("service", "inference", NS)).spec.clusterIP);
      // The data plane is admitted: the Gateway's requests above and here reach the pods.
      expect((await gatewayRequest(await platform.edge(), "/v2/health/ready")).status).toBe(200);
    } finally {
      await kubectl(
        "delete",
        "pod",
        "e2e-training-listener",
        "e2e-control-listener",
        "-n",
        NS,
        "--ignore-not-found",
        "--wait=true",
      ).catch(() => undefined);
    }
  });
});

describe("monitoring on real pods: a real Prometheus scrapes them through the rendered scrape config", () => {
  let prometheus: ChildProcess | undefined;
  let dir: string;
  let api: string;
  let promOutput = "";

  /** Instant query; the result vector's samples as `{labels, value}`. */
  async function query(expr: string): Promise<{ labels: Record<string, string>; value: number }[]> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== "success") throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
    return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
  }

  /** mpg-regressor rows of the training data set (vega-datasets cars.json), as OIP v2 inputs. */
  function carsBatch(rows: number, scale: Record<string, number> = {}) {
    const file = [REPO_ROOT, SERVICE_DIR]
      .map((d) => path.join(d, "node_modules/vega-datasets/data/cars.json"))
      .find((f) => fs.existsSync(f));
    if (!file) throw new Error("vega-datasets/data/cars.json not found: run npm ci");
    const cars = (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>[]).filter(
      (c) =>
        ["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"].every(
          (k) => typeof c[k] === "number",
        ),
    );
    const pick = Array.from({ length: rows }, (_, i) => cars[i % cars.length]);
    const num = (name: string, value: (c: Record<string, unknown>) => number) => ({
      name,
      shape: [rows],
      datatype: "FP64",
      data: pick.map((c) => value(c) * (scale[name] ?? 1)),
    });
    return {
      inputs: [
        ...["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"].map((n) =>
          num(n, (c) => c[n] as number),
        ),
        num("Year", (c) => Number(String(c.Year).slice(0, 4))),
        {
          name: "Origin",
          shape: [rows],
          datatype: "BYTES",
          data: pick.map((c) => c.Origin as string),
        },
      ],
    };
  }

  beforeAll(async () => {
    if (!platform.ownCluster()) return;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-prometheus-"));
    // The local stack's config with a short scrape interval, rendered as the platform renders it.
    const raw = Object.fromEntries(
      Object.entries(localConfig())
        .filter(([k]) => k.startsWith("mlops:"))
        .map(([k, v]) => [k.slice("mlops:".length), v]),
    );
    const config = parseConfig({
      ...raw,
      monitoring: { scrapeIntervalSeconds: 5, driftForMinutes: 1 },
    });
    const files = monitoringFiles(config, STACK_NAME, {
      kubeconfigFile: process.env.KUBECONFIG,
      evaluationIntervalSeconds: 5,
    });
    for (const [name, content] of Object.entries(files))
      fs.writeFileSync(path.join(dir, name), content);
    const binDir = (
      await runOk(
        "bash",
        [path.join(REPO_ROOT, "scripts/toolchain/prometheus.sh"), "--print-bin-dir"],
        {
          timeoutMs: 30000,
        },
      )
    ).stdout.trim();
    const port = await freePort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      path.join(binDir, "prometheus"),
      [
        `--config.file=${path.join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir, "data")}`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    prometheus.stdout?.on("data", (d: Buffer) => (promOutput += d.toString()));
    prometheus.stderr?.on("data", (d: Buffer) => (promOutput += d.toString()));
  }, 60000);

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((r) => prometheus!.once("exit", r));
      prometheus.kill("SIGTERM");
      await exited;
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  (process.env.MLOPS_E2E_KUBE_CONTEXT ? test.skip : test)(
    "drift rises for the shifted features only and the drift alert's expression holds; bad requests move the 4xx ratio",
    async () => {
      const started = Date.now();
      const targets = await waitFor(
        "Prometheus to scrape the inference pod (up == 1)",
        async () => {
          const up = await query(`up{namespace="${NS}"}`).catch(() => []);
          return up.length > 0 && up.every((s) => s.value === 1) ? up : undefined;
        },
        90000,
        1000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\nprometheus output:\n${promOutput.slice(-2000)}`);
      });
      expect(targets.map((t) => t.labels.track)).toEqual(targets.map(() => "stable"));
      const psi = `inference_feature_drift_psi{namespace="${NS}",model="mpg-regressor"}`;
      const threshold = 0.2;
      const byFeature = (samples: { labels: Record<string, string>; value: number }[]) =>
        Object.fromEntries(samples.map((s) => [s.labels.feature, Number(s.value.toFixed(3))]));

      // In-distribution: the training data itself fills the drift window (1,000 rows).
      for (let i = 0; i < 2; i++) {
        expect((await send(BASE, "/v2/models/mpg-regressor/infer", carsBatch(500))).status).toBe(
          200,
        );
      }
      const calm = await waitFor(
        "the PSI series of every feature below the threshold after in-distribution traffic",
        async () => {
          const s = await query(psi);
          return s.length === 7 && s.every((x) => x.value < threshold) ? byFeature(s) : undefined;
        },
        60000,
        2000,
      );
      // Shifted: the same cars, three times heavier and three times more powerful.
      const shift = { Weight_in_lbs: 3, Horsepower: 3 };
      for (let i = 0; i < 2; i++) {
        expect(
          (await send(BASE, "/v2/models/mpg-regressor/infer", carsBatch(500, shift))).status,
        ).toBe(200);
      }
      const shifted = await waitFor(
        "the PSI of the shifted features to rise above the threshold",
        async () => {
          const s = byFeature(await query(psi));
          return s.Weight_in_lbs > threshold && s.Horsepower > threshold ? s : undefined;
        },
        60000,
        2000,
      );
      for (const [feature, value] of Object.entries(shifted)) {
        if (feature in shift) expect(value).toBeGreaterThan(threshold);
        else expect(value).toBeLessThan(threshold);
      }
      // The drift alert's own expression (from the rendered rules) is true for exactly those.
      const rules = yamlParse(fs.readFileSync(path.join(dir, "rules.yml"), "utf8")) as {
        groups: { rules: { alert?: string; expr: string }[] }[];
      };
      const drift = rules.groups
        .flatMap((g) => g.rules)
        .find((r) => r.alert === "InferenceFeatureDrift");
      expect(drift).toBeDefined();
      const firing = await query(drift!.expr);
      expect(
        firing
          .filter((f) => f.labels.model === "mpg-regressor")
          .map((f) => f.labels.feature)
          .sort(),
      ).toEqual(["Horsepower", "Weight_in_lbs"]);

      // A burst of bad requests (wrong datatype: 400, answered by the model's route) moves the
      // recorded 4xx ratio from 0.
      const ratio = `namespace_model:inference_http_errors_4xx:ratio_rate5m{namespace="${NS}",model="mpg-regressor"}`;
      const bad = {
        inputs: [{ name: "Cylinders", shape: [1], datatype: "BYTES", data: ["four"] }],
      };
      // A counter's first sample is its baseline (rate() sees no increase in a series that just
      // appeared): one bad request first, scraped, then the burst.
      expect((await send(BASE, "/v2/models/mpg-regressor/infer", bad)).status).toBe(400);
      const first400 = `inference_http_requests_total{namespace="${NS}",model="mpg-regressor",status="400"}`;
      await waitFor(
        "the first 400 to be scraped",
        async () => ((await query(first400)).length > 0 ? true : undefined),
        60000,
        1000,
      );
      const before = (await query(ratio))[0]?.value ?? 0;
      for (let i = 0; i < 40; i++) {
        const a = await send(BASE, "/v2/models/mpg-regressor/infer", bad);
        expect(a.status).toBe(400);
      }
      const after = await waitFor(
        "the 4xx ratio recording to rise",
        async () => {
          const v = (await query(ratio))[0]?.value;
          return v !== undefined && v > before ? v : undefined;
        },
        60000,
        2000,
      );
      const line = `in-distribution PSI ${JSON.stringify(calm)}; shifted ${JSON.stringify(shifted)}; drift alert expression true for Horsepower, Weight_in_lbs; 4xx ratio ${before.toFixed(3)} -> ${after.toFixed(3)}`;
      process.stderr.write(`[e2e] monitoring: ${line}\n`);
      recordTiming("monitoring on real pods", (Date.now() - started) / 1000, line);
    },
    300000,
  );
});

describe("changes: the preview names exactly what changes, up applies it", () => {
  test("a second preview reports no changes", async () => {
    const r = await platform.preview("preview (no changes)");
    expect(changed(r.steps)).toEqual([]);
    expect(Object.keys(r.changes)).toEqual(["same"]);
  });

  test("app.replicas 1 -> 2: Deployment (spread) and HPA (floor) update, the PDB is created", async () => {
    platform.stack.configure((c) => {
      c["mlops:app"].replicas = 2;
    });
    const r = await platform.preview("preview (replicas 1 -> 2)");
    expect(objectChanges(r)).toEqual(
      [
        `update ${D} ${NS}/inference`,
        `update ${HPA} ${NS}/inference`,
        `create ${PDB} ${NS}/inference`,
      ].sort(),
    );
    await platform.up("up (replicas 1 -> 2)");
    const pdb = await get("pdb", "inference", NS);
    expect(pdb.spec).toMatchObject({
      maxUnavailable: 1,
      selector: { matchLabels: { "mlops-platform/track": "stable" } },
    });
    expect((await get("hpa", "inference", NS)).spec.minReplicas).toBe(2);
    const d = await get("deployment", "inference", NS);
    expect(
      d.spec.template.spec.topologySpreadConstraints.map((t: KubeObject) => t.topologyKey),
    ).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
    // The HPA (the controller-manager's) raises the Deployment to its new floor.
    await waitFor(
      "the Deployment to reach 2 ready replicas",
      async () =>
        (await get("deployment", "inference", NS)).status.readyReplicas === 2 ? true : undefined,
      120000,
      2000,
    );
  });

  test("a new image tag: only the objects that run the image update; the rollout under load fails no request", async () => {
    platform.stack.configure((c) => {
      c["mlops:image"].ref = "mlops-inference:0.1.1";
    });
    const r = await platform.preview("preview (image tag)");
    // Back to 1 replica removes the PDB; the image changes the Deployment, its HPA (version
    // label) and the CronJob; nothing else.
    expect(objectChanges(r)).toEqual(
      [
        `delete ${PDB} ${NS}/inference`,
        `update ${D} ${NS}/inference`,
        `update ${HPA} ${NS}/inference`,
        `update ${CRON} ${NS}/training`,
      ].sort(),
    );
    const { traffic } = await underLoad(BASE, () => platform.up("up (image tag)"));
    report("rolling update 0.1.0 -> 0.1.1 under load", traffic);
    expect(traffic.failures).toEqual([]);
    expect(traffic.failed).toBe(0);
    // Both releases answered during the rollout, and only the new one after it.
    expect(Object.keys(traffic.versions).sort()).toEqual(["0.1.0", "0.1.1"]);
    expect(traffic.sequence[0]).toBe("0.1.0");
    // `up` returns when the rollout is complete; the old pod may still be leaving the Service's
    // endpoints (kube-proxy syncs within seconds), so "only the new one" is awaited, bounded.
    await waitFor(
      "only 0.1.1 to answer through the Service",
      async () => {
        const seen = new Set(await versionsNow(BASE));
        return seen.size === 1 && seen.has("0.1.1") ? true : undefined;
      },
      30000,
      1000,
    );
    expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.1.1"]));
    expect(deploymentContainer(await get("deployment", "inference", NS)).image).toBe(
      "mlops-inference:0.1.1",
    );
    const cj = await get("cronjob", "training", NS);
    expect(cj.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(
      "mlops-inference:0.1.1",
    );
    expect(await find("pdb", "inference", NS)).toBeUndefined();
  });
});

/** Requests the canary split is measured over, through the Gateway. */
const SPLIT_REQUESTS = 400;

/** `hits` of `n` is within 4 standard deviations of a binomial(n, p) mean. */
function expectBinomial(hits: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(hits - n * p)).toBeLessThanOrEqual(4 * sd);
}

/** `pod restarts` of every pod of the stack's namespace. */
async function restarts(): Promise<string[]> {
  const pods = await list("pods", ["-n", NS]);
  return pods
    .filter((p) => !p.metadata.deletionTimestamp && p.status.phase === "Running")
    .map(
      (p) =>
        `${p.metadata.name} ${((p.status.containerStatuses ?? []) as KubeObject[]).reduce((n, c) => n + (c.restartCount as number), 0)}`,
    )
    .sort();
}

describe("release strategies on the real engine", () => {
  test("blueGreen: switching blue -> green previews one update, of the Service, and up applies it", async () => {
    const green = "mlops-inference:0.2.0";
    const blueGreen = (active: string) =>
      platform.stack.configure((c) => {
        c["mlops:release"] = { strategy: "blueGreen", active, green: { image: green } };
      });
    blueGreen("blue");
    await platform.up("up (blueGreen, blue)");
    expect(deploymentContainer(await get("deployment", "inference-blue", NS)).image).toBe(
      "mlops-inference:0.1.0",
    );
    expect(deploymentContainer(await get("deployment", "inference-green", NS)).image).toBe(green);
    expect(await find("deployment", "inference", NS)).toBeUndefined();
    expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
      "blue",
    );

    // Both colours run and answer before the switch; the Service still sends everything to blue.
    await waitFor(
      "both colours' Deployments Available",
      async () => {
        const ds = await Promise.all(
          ["inference-blue", "inference-green"].map((n) => get("deployment", n, NS)),
        );
        return ds.every((d) => condition(d, "Available") === "True") ? true : undefined;
      },
      180000,
      1000,
    );
    expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.1.0"]));

    blueGreen("green");
    const r = await platform.preview("preview (blue -> green)");
    expect(objectChanges(r)).toEqual([`update ${SVC} ${NS}/inference`]);
    const restartsBefore = await restarts();
    // The user's path: through the Gateway (the route's backend is the Service that switches).
    const gateway = await platform.edge();
    const { traffic } = await underLoad(BASE, () => platform.up("up (blue -> green)"), {
      send: (p, body) => gatewayRequest(gateway, p, { body, headers: credentialHeaders() }),
    });
    report("blue-green switch blue -> green under load, through the Gateway", traffic);
    expect(traffic.failures).toEqual([]);
    expect(traffic.failed).toBe(0);
    expect(traffic.sequence[0]).toBe("0.1.0");
    expect(Object.keys(traffic.versions).sort()).toEqual(["0.1.0", "0.2.0"]);
    expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.2.0"]));
    expect(await restarts()).toEqual(restartsBefore);
    expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
      "green",
    );
    expect((await platform.stack.outputs()).release).toEqual({
      strategy: "blueGreen",
      serving: "green",
      canaryWeight: 0,
      tracks: { blue: "mlops-inference:0.1.0", green },
    });
  });

  test("blueGreen: rolling back green -> blue is one update of the Service; no Deployment or pod changes", async () => {
    // What runs before the rollback: both colours' Deployments (their spec generation) and pods.
    const snapshot = async () => ({
      generations: Object.fromEntries(
        await Promise.all(
          ["inference-blue", "inference-green"].map(
            async (n) => [n, (await get("deployment", n, NS)).metadata.generation] as const,
          ),
        ),
      ),
      pods: (await list("pods", ["-n", NS, "-l", "mlops-platform/track in (blue,green)"]))
        .filter((p) => !p.metadata.deletionTimestamp)
        .map((p) => `${p.metadata.name} ${p.metadata.uid}`)
        .sort(),
    });
    const before = await snapshot();
    expect(before.pods.length).toBeGreaterThanOrEqual(2);

    platform.stack.configure((c) => {
      c["mlops:release"] = {
        strategy: "blueGreen",
        active: "blue",
        green: { image: "mlops-inference:0.2.0" },
      };
    });
    const r = await platform.preview("preview (rollback green -> blue)");
    expect(objectChanges(r)).toEqual([`update ${SVC} ${NS}/inference`]);
    const { traffic } = await underLoad(BASE, () => platform.up("up (rollback to blue)"));
    report("blue-green rollback green -> blue under load", traffic);
    expect(traffic.failures).toEqual([]);
    expect(traffic.failed).toBe(0);
    expect(traffic.sequence[0]).toBe("0.2.0");
    expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.1.0"]));
    expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
      "blue",
    );
    expect(await snapshot()).toEqual(before);
    expect((await restarts()).every((line) => line.endsWith(" 0"))).toBe(true);
  });

  test("canary: the HTTPRoute weights the stable and canary Services; a weight change and an abort each preview one update of each route (HTTP and gRPC)", async () => {
    const canary = (weight: number) =>
      platform.stack.configure((c) => {
        c["mlops:release"] = {
          strategy: "canary",
          canary: { image: "mlops-inference:0.2.0", weight },
        };
      });
    const weights = async () =>
      ((await get("httproute", "inference", NS)).spec.rules as KubeObject[]).map((rule) =>
        (rule.backendRefs as KubeObject[]).map((b) => `${b.name}:${b.port}=${b.weight}`),
      );
    canary(10);
    await platform.up("up (canary 10%)");
    expect(await weights()).toEqual([["inference:80=90", "inference-canary:80=10"]]);
    const canarySvc = await get("service", "inference-canary", NS);
    expect(canarySvc.spec.selector["mlops-platform/track"]).toBe("canary");
    await waitFor(
      "the canary Deployment Available",
      async () =>
        condition(await get("deployment", "inference-canary", NS), "Available") === "True"
          ? true
          : undefined,
      180000,
      1000,
    );
    // Each backend of the route answers with its own release: stable through the main Service,
    // canary through its own.
    expect(new Set(await versionsNow(BASE, 10))).toEqual(new Set(["0.1.0"]));
    const canaryPort = (canarySvc.spec.ports as KubeObject[])[0].nodePort as number;
    expect(new Set(await versionsNow(`http://127.0.0.1:${canaryPort}/`, 10))).toEqual(
      new Set(["0.2.0"]),
    );

    canary(30);
    const r = await platform.preview("preview (canary 10% -> 30%)");
    expect(objectChanges(r)).toEqual([
      `update ${GRPC_ROUTE} ${NS}/inference`,
      `update ${ROUTE} ${NS}/inference`,
    ]);
    await platform.up("up (canary 30%)");
    expect(await weights()).toEqual([["inference:80=70", "inference-canary:80=30"]]);
    expect((await platform.stack.outputs()).release).toMatchObject({
      strategy: "canary",
      canaryWeight: 30,
    });
    // Through the data plane: each request on a new connection, the route's weights decide.
    const gateway = await platform.edge();
    const split = await waitFor(
      "the data plane to take the new weights",
      async () => {
        const r = await splitThroughGateway(gateway, SPLIT_REQUESTS, credentialHeaders());
        return r.counts["0.2.0"] !== undefined && r.counts["0.2.0"] > SPLIT_REQUESTS / 5
          ? r
          : undefined;
      },
      60000,
      1000,
    );
    process.stderr.write(
      `[e2e] canary 30% through the Gateway: ${SPLIT_REQUESTS} requests, ${JSON.stringify(split.counts)} (expected 30% = ${0.3 * SPLIT_REQUESTS} +- ${(4 * Math.sqrt(SPLIT_REQUESTS * 0.21)).toFixed(0)}), ${split.failed} failed\n`,
    );
    recordTiming("canary 30% through the Gateway", 0, JSON.stringify(split.counts));
    expect(split.failed).toBe(0);
    expect(Object.keys(split.counts).sort()).toEqual(["0.1.0", "0.2.0"]);
    expectBinomial(split.counts["0.2.0"], SPLIT_REQUESTS, 0.3);

    // Abort: the canary keeps running but the route sends it nothing.
    canary(0);
    const abort = await platform.preview("preview (canary abort: weight 0)");
    expect(objectChanges(abort)).toEqual([
      `update ${GRPC_ROUTE} ${NS}/inference`,
      `update ${ROUTE} ${NS}/inference`,
    ]);
    await platform.up("up (canary 0%)");
    expect(await weights()).toEqual([["inference:80=100", "inference-canary:80=0"]]);
    expect(condition(await get("deployment", "inference-canary", NS), "Available")).toBe("True");
    const stable = await waitFor(
      "the data plane to send the canary nothing",
      async () => {
        const r = await splitThroughGateway(gateway, 200, credentialHeaders());
        return r.counts["0.2.0"] === undefined ? r : undefined;
      },
      60000,
      1000,
    );
    process.stderr.write(`[e2e] canary 0% through the Gateway: ${JSON.stringify(stable)}\n`);
    expect(stable).toEqual({ failed: 0, counts: { "0.1.0": 200 } });
  });
});

describe("training: a Job from the CronJob runs on the training node", () => {
  /** A Job from the CronJob's template (as `kubectl create job --from=cronjob/training`), with
   * extra environment; waits until it completes or fails; returns it with its pods' logs. */
  async function trainingJob(name: string, env: Record<string, string> = {}) {
    const job = JSON.parse(
      await kubectl(
        "create",
        "job",
        name,
        "-n",
        NS,
        "--from=cronjob/training",
        "--dry-run=client",
        "-o",
        "json",
      ),
    ) as KubeObject;
    const container = job.spec.template.spec.containers[0] as KubeObject;
    container.env = [
      ...((container.env ?? []) as KubeObject[]),
      ...Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
    ];
    const file = path.join(os.tmpdir(), `mlops-e2e-${name}.json`);
    fs.writeFileSync(file, JSON.stringify(job));
    try {
      await kubectl("create", "-f", file);
    } finally {
      fs.rmSync(file, { force: true });
    }
    const started = Date.now();
    const done = await waitFor(
      `Job ${name} to complete or fail`,
      async () => {
        const j = await get("job", name, NS);
        return condition(j, "Complete") === "True" || condition(j, "Failed") === "True"
          ? j
          : undefined;
      },
      300000,
      2000,
    );
    const pods = await list("pods", ["-n", NS, "-l", `job-name=${name}`]);
    const logs = await Promise.all(pods.map((p) => kubectl("logs", "-n", NS, p.metadata.name)));
    recordTiming(
      `training Job ${name}`,
      (Date.now() - started) / 1000,
      condition(done, "Complete") === "True" ? "complete" : "failed",
    );
    return { job: done, pods, logs };
  }

  test("runs to completion on the training node; its log shows the held-out metrics and the gate passing", async () => {
    const { job, pods, logs } = await trainingJob("e2e-train");
    expect(condition(job, "Complete")).toBe("True");
    expect(pods.length).toBeGreaterThanOrEqual(1);
    for (const p of pods) {
      if (platform.ownCluster()) expect(p.spec.nodeName).toBe(TRAINING_NODE);
      // The pool's label and taint are what put it there.
      expect(p.spec.tolerations).toContainEqual({
        key: "mlops-platform/pool",
        operator: "Equal",
        value: "training",
        effect: "NoSchedule",
      });
    }
    const node = await get("node", pods[0].spec.nodeName as string);
    expect(node.metadata.labels?.["mlops-platform/pool"]).toBe("training");
    expect(node.spec.taints).toContainEqual({
      key: "mlops-platform/pool",
      value: "training",
      effect: "NoSchedule",
    });
    const log = logs.join("\n");
    expect(log).toMatch(/train: mpg-regressor@\S+ held-out .*r2=0\.\d+.*\(gate: r2 >= 0\.7\)/);
    expect(log).toMatch(
      /train: penguin-classifier@\S+ held-out .*accuracy=[01]\.\d+.*\(gate: accuracy >= 0\.9\)/,
    );
    expect(log).not.toMatch(/quality gate failed/);
    process.stderr.write(
      `[e2e] training log: ${log
        .split("\n")
        .filter((l) => l.includes("held-out"))
        .join(" | ")}\n`,
    );
    // Nothing else runs on the training node: only this Job's pods carry the toleration.
    if (platform.ownCluster()) {
      const onTraining = await list("pods", [
        "-A",
        "--field-selector",
        `spec.nodeName=${TRAINING_NODE}`,
      ]);
      expect(onTraining.map((p) => p.metadata.labels?.["job-name"])).toEqual(
        onTraining.map(() => "e2e-train"),
      );
    }
  });

  test("with the quality floor raised (MIN_R2=0.99) the Job fails with the gate's message", async () => {
    const { job, logs } = await trainingJob("e2e-train-gate", { MIN_R2: "0.99" });
    expect(condition(job, "Failed")).toBe("True");
    const log = logs.join("\n");
    expect(log).toContain("train: quality gate failed; no artifact was published");
    expect(log).toMatch(
      /mpg-regressor: held-out r2 0\.\d{4} is below the floor 0\.99 \(set with --min-r2\)/,
    );
  });
});

const POLICY_PACK = path.join(REPO_ROOT, "policy");
const POLICY_CONFIG = path.join(REPO_ROOT, "policy/config/local.json");

describe("policy pack on the real engine", () => {
  test("the local config passes; a LoadBalancer Service is stopped by k8s-no-load-balancer-service", async () => {
    platform.stack.configure(() => undefined);
    const options = { policyPacks: [POLICY_PACK], policyPackConfigs: [POLICY_CONFIG] };
    const ok = await platform.stack.preview(options);
    recordTiming("preview with policy pack", ok.seconds);
    expect(ok.policy.filter((p) => p.enforcementLevel === "mandatory")).toEqual([]);

    platform.stack.configure((c) => {
      c["mlops:app"].serviceType = "LoadBalancer";
    });
    const bad = await platform.stack.failingPreview(options);
    const violations = bad.policy.filter((p) => p.enforcementLevel === "mandatory");
    expect(violations.map((p) => p.policyName)).toEqual(["k8s-no-load-balancer-service"]);
    expect(violations[0].resourceUrn).toMatch(
      /kubernetes:core\/v1:Service::(.*:)?mlops\/inference$/,
    );
    expect(bad.message).toMatch(/k8s-no-load-balancer-service/);
  });
});

/**
 * The digest-pinned image the promotion step deploys: the 0.1.0 image by the digest the suite's
 * nodes hold it under, or MLOPS_E2E_DIGEST_REF (a digest your cluster can pull).
 */
function digestRef(context: E2eContext): string {
  const ref = process.env.MLOPS_E2E_DIGEST_REF ?? context.digestRef ?? "";
  if (!/^[^@\s]+@sha256:[0-9a-f]{64}$/.test(ref)) {
    throw new Error(
      `MLOPS_E2E_DIGEST_REF: got "${ref}"; expected <repository>@sha256:<64 hex digits> of mlops-inference:0.1.0 that the cluster can pull`,
    );
  }
  return ref;
}

describe("promotion from the deployed stack", () => {
  let projectDir: string;
  let prodBefore: string;

  beforeAll(() => {
    projectDir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-promote-"));
    fs.copyFileSync(
      path.join(platform.stack.projectDir, "Pulumi.yaml"),
      path.join(projectDir, "Pulumi.yaml"),
    );
    prodBefore = fs.readFileSync(path.join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8");
    fs.writeFileSync(path.join(projectDir, "Pulumi.prod.yaml"), prodBefore);
  });
  afterAll(() => fs.rmSync(projectDir, { recursive: true, force: true }));

  const promote = () =>
    run(
      "npm",
      [
        "run",
        "--silent",
        "promote",
        "--",
        "--from",
        STACK_NAME,
        "--to",
        "prod",
        "--project-dir",
        projectDir,
      ],
      { cwd: REPO_ROOT, env: { ...process.env, ...platform.stack.envVars }, timeoutMs: 180000 },
    );

  test("refuses the local stack's tag, read from its real outputs, and writes nothing", async () => {
    platform.stack.configure(() => undefined);
    await platform.up("up (back to local config)");
    const r = await promote();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `stack "${STACK_NAME}" runs image "mlops-inference:0.1.0", which is not a digest reference`,
    );
    expect(fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8")).toBe(prodBefore);
  });

  test("moves the deployed digest and model versions into the prod stack file", async () => {
    platform.stack.configure((c) => {
      c["mlops:image"].ref = digestRef(platform.context);
      c["mlops:app"].models = { "mpg-regressor": "2", "penguin-classifier": "1" };
    });
    await platform.up("up (digest-pinned image)");
    expect(deploymentContainer(await get("deployment", "inference", NS)).image).toBe(
      digestRef(platform.context),
    );
    const r = await promote();
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const after = fs.readFileSync(path.join(projectDir, "Pulumi.prod.yaml"), "utf8");
    expect(after).toContain(`    ref: ${digestRef(platform.context)}\n`);
    expect(after).toMatch(/models:\n {6}mpg-regressor: "2"\n {6}penguin-classifier: "1"\n/);
    // Only those two keys move: every other line of the file stays.
    const removed = prodBefore.split("\n").filter((l) => !after.split("\n").includes(l));
    expect(removed).toEqual([
      "    ref: mlopsacr00000000.azurecr.io/mlops-inference@sha256:0000000000000000000000000000000000000000000000000000000000000000",
      '      mpg-regressor: "1"',
    ]);
  });
});

describe("credentials in logs", () => {
  test("no key of the run appears in any container log of the stack, or in the engine's output", async () => {
    expect(platform.seenKeys.length).toBeGreaterThanOrEqual(3);
    const pods = await list("pods", ["-n", NS]);
    let lines = 0;
    const leaks: string[] = [];
    for (const p of pods) {
      for (const c of (p.spec.containers as KubeObject[]).map((x) => x.name as string)) {
        const log = await kubectl("logs", "-n", NS, p.metadata.name, "-c", c).catch(() => "");
        lines += log.split("\n").length;
        for (const key of platform.seenKeys)
          if (log.includes(key)) leaks.push(`${p.metadata.name}/${c}`);
      }
    }
    const engine = (await platform.stack.preview()).stdout;
    for (const key of platform.seenKeys)
      if (engine.includes(key)) leaks.push("pulumi preview --diff output");
    process.stderr.write(
      `[e2e] ${platform.seenKeys.length} keys looked for in ${lines} log lines of ${pods.length} pods: ${leaks.length} found\n`,
    );
    expect(leaks).toEqual([]);
  });
});

/** Every container of a node's containerd (the suite's own cluster). */
async function nodeContainers(node: string): Promise<string[]> {
  const socket = (
    await runOk("bash", [path.join(REPO_ROOT, "scripts/control-plane.sh"), "socket", node], {
      timeoutMs: 30000,
    })
  ).stdout.trim();
  // The cluster's own data plane (namespace traefik) is not the stack's.
  const r = await runOk(
    "ctr",
    [
      "--address",
      socket,
      "-n",
      "k8s.io",
      "containers",
      "ls",
      "-q",
      `labels."io.kubernetes.pod.namespace"!=${DATA_PLANE_NS}`,
    ],
    { timeoutMs: 30000 },
  );
  return r.stdout.split("\n").filter(Boolean);
}

/** The local cluster's Gateway data plane (Traefik, scripts/control-plane/traefik.yaml). */
const DATA_PLANE_NS = "traefik";

describe("destroy", () => {
  test("leaves no object of the stack in the cluster, and the stack is removed", async () => {
    // What the stack holds now (a preview with no change lists every object as `same`).
    const held = (await platform.preview("preview (before destroy)")).steps
      .filter(isObject)
      .map((s) => `delete ${s.type} ${objectName(s)}`)
      .sort();
    expect(held.length).toBeGreaterThanOrEqual(LOCAL_OBJECTS.length);
    const r = await platform.stack.destroy();
    platform.deployed = false;
    recordTiming("destroy", r.seconds, JSON.stringify(r.changes));
    // Exactly those objects are deleted, by name.
    expect(objectChanges(r)).toEqual(held);

    const ns = await find("namespace", NS);
    if (ns) {
      // Terminating: the namespace controller is removing what the cluster itself put there.
      expect(ns.status.phase).toBe("Terminating");
    }
    expect(
      await allNamespacedObjects(NS).then((objs) =>
        objs.filter((o) => !/^(configmap\/kube-root-ca\.crt|serviceaccount\/default)$/.test(o)),
      ),
    ).toEqual([]);
    // Cluster-scoped: the Namespace (labelled part-of only) and anything else of the platform.
    const labelled = await list("namespaces,persistentvolumes,clusterroles,clusterrolebindings", [
      "-l",
      "app.kubernetes.io/part-of=mlops-platform",
    ]);
    expect(labelled.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    if (ns) {
      await waitFor(
        "namespace mlops to be gone",
        async () => ((await find("namespace", NS)) ? undefined : true),
        120000,
        2000,
      );
    }

    // No pod, container or sandbox of the stack is left on the nodes.
    if (platform.ownCluster()) {
      await waitFor(
        "the nodes' containers of the stack to be removed",
        async () => {
          const left = [
            ...(await nodeContainers(APP_NODE)),
            ...(await nodeContainers(TRAINING_NODE)),
          ];
          return left.length === 0 ? true : undefined;
        },
        120000,
        2000,
      );
      expect(
        (await list("pods", ["-A"]))
          .filter((p) => p.metadata.namespace !== DATA_PLANE_NS)
          .map((p) => p.metadata.name),
      ).toEqual([]);
    }

    await platform.stack.remove();
    platform.removed = true;
    const ws = await LocalWorkspace.create({
      workDir: platform.stack.projectDir,
      envVars: platform.stack.envVars,
    });
    expect((await ws.listStacks()).map((s) => s.name)).not.toContain(STACK_NAME);
  });
});
