/**
 * Authentication on real pods: the keys from the host and from another namespace, Entra ID
 * tokens, the rotation of the primary key under load. It hands the secondary key to every later
 * request (`useKey`) and the keys it saw to the credentials block (`platform.seenKeys`).
 */
import * as crypto from "node:crypto";
import { keySecretUrn } from "../../../tools/keys";
import { recordTiming } from "../support/context";
import { get, kubectl, kubectlWithInput, waitFor } from "../support/kube";
import { changed, STACK_NAME } from "../support/stack";
import { MPG_ROW, send, underLoad, useKey, report } from "../support/traffic";
import { type PlatformFixture, BASE, SCRAPER_NS, SECRET } from "./fixture";

/** An RS256 JWT signed with `key` (node:crypto; what Entra ID issues, for the suite's issuer). */
function signJwt(key: crypto.KeyObject, claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const data = `${b64({ alg: "RS256", typ: "JWT", kid: "e2e" })}.${b64(claims)}`;
  return `${data}.${crypto.sign("sha256", Buffer.from(data), key).toString("base64url")}`;
}

export function register(platform: PlatformFixture): void {
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
      const { result, traffic } = await underLoad(
        BASE,
        () => platform.stack.up({ replace: [urn] }),
        {
          workers: 4,
          maxRequests: 20000,
          maxSeconds: 300,
          tailMs: 3000,
        },
      );
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
}
