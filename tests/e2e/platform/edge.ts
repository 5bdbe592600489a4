/**
 * The edge: HTTPS through the Traefik data plane verified against the stack's CA, gRPC
 * through the GRPCRoute, NetworkPolicies enforced. Its afterAll removes the probe pods outside the
 * stack (the serving block's too).
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pythonEnv } from "../../support/python";
import { recordTiming, REPO_ROOT } from "../support/context";
import { gatewayRequest } from "../support/gateway";
import { condition, get, kubectl, list, type KubeObject } from "../support/kube";
import { probePod } from "../support/probe";
import { run } from "../support/proc";
import { MPG_ROW, send, credentialHeaders } from "../support/traffic";
import { type PlatformFixture, NS, BASE, SCRAPER_NS } from "./fixture";

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

export function register(platform: PlatformFixture): void {
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
      process.stderr.write(
        `[e2e] through the Gateway (HTTPS, stack CA): ${JSON.stringify(paths)}\n`,
      );
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
        if (r.code !== 0)
          throw new Error(`triton_grpc.py ${target} exited ${r.code}:\n${r.stderr}`);
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
}
