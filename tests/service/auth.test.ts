/**
 * Who may score: the stack's two keys (constant-time, re-read from their files so a rotated key
 * takes effect without a restart), Entra ID tokens against a JWKS issuer this suite starts on
 * loopback (signature, issuer, audience, expiry, app role), the same gate on gRPC, what stays
 * open, credentials never in a log line, and load shedding at the in-flight bound.
 */
import { writeFileSync } from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { Writable } from "node:stream";
import * as grpc from "@grpc/grpc-js";
import type { FastifyInstance } from "fastify";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { buildApp } from "../../service/src/app";
import { bearerToken, isOpenRoute, KeyRing } from "../../service/src/auth";
import { ConfigError, loadConfig } from "../../service/src/config";
import { createCore, type InferenceCore } from "../../service/src/core/inference";
import { createGrpcServer, GRPC_EXTENSIONS, inferenceService } from "../../service/src/grpc/server";
import { ModelStore } from "../../service/src/model/store";
import { artifacts, keysDir, MPG_ROW, randomKey, testConfig, type Loose } from "./helpers";

const MPG_BODY = {
  inputs: Object.entries(MPG_ROW).map(([name, value]) => ({
    name,
    shape: [1],
    datatype: typeof value === "string" ? "BYTES" : "FP64",
    data: [value],
  })),
};
const INFER = "/v2/models/mpg-regressor/infer";

let store: ModelStore;
beforeAll(() => {
  const { mpg, penguin } = artifacts();
  store = ModelStore.fromArtifacts([mpg, penguin], { driftWindow: 50 });
});

const infer = (app: FastifyInstance, authorization?: string) =>
  app.inject({
    method: "POST",
    url: INFER,
    payload: MPG_BODY,
    headers: authorization === undefined ? {} : { authorization },
  });

describe("key mode: the stack's two keys", () => {
  let app: FastifyInstance;
  let keys: ReturnType<typeof keysDir>;
  beforeAll(async () => {
    keys = keysDir();
    app = await buildApp({
      config: testConfig({ AUTH_MODE: "key", AUTH_KEYS_DIR: keys.dir, AUTH_RELOAD_MS: "100" }),
      store,
      logger: false,
    });
  });
  afterAll(() => app.close());

  it("no credential: 401 with a Bearer challenge and the OIP error body", async () => {
    const r = await infer(app);
    expect(r.statusCode).toBe(401);
    expect(r.headers["www-authenticate"]).toBe('Bearer realm="mlops-inference"');
    expect(r.json()).toEqual({
      error: "authentication required: send Authorization: Bearer <key or token>",
    });
  });

  it("a wrong key, or another scheme: 401 naming the problem", async () => {
    const wrong = await infer(app, `Bearer ${randomKey()}`);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toEqual({ error: "the key is not valid for this endpoint" });
    expect(wrong.headers["www-authenticate"]).toContain('error="invalid_token"');
    expect((await infer(app, `Basic ${keys.primary}`)).statusCode).toBe(401);
    expect((await infer(app, keys.primary)).statusCode).toBe(401);
    // A prefix of the right key is not the key.
    expect((await infer(app, `Bearer ${keys.primary.slice(0, -1)}`)).statusCode).toBe(401);
  });

  it("either key: 200 with the prediction", async () => {
    for (const key of [keys.primary, keys.secondary]) {
      const r = await infer(app, `Bearer ${key}`);
      expect(r.statusCode).toBe(200);
      expect(r.json().outputs[0].name).toBe("predict");
    }
    expect((await infer(app, `bearer   ${keys.primary}`)).statusCode).toBe(200);
  });

  it("every model route is protected; the probes, /metrics, the docs and the form are open", async () => {
    for (const url of ["/v2", "/v2/models/mpg-regressor", "/v2/models/mpg-regressor/ready"]) {
      expect([url, (await app.inject({ url })).statusCode]).toEqual([url, 401]);
    }
    const v1 = await app.inject({ method: "POST", url: "/v1/models/mpg-regressor:predict" });
    expect(v1.statusCode).toBe(401);
    for (const url of ["/v2/health/live", "/v2/health/ready", "/metrics", "/openapi.json", "/"]) {
      expect([url, (await app.inject({ url })).statusCode]).toEqual([url, 200]);
    }
  });

  it("rotation: a replaced primary is refused and its successor accepted once re-read; the secondary never stops working", async () => {
    const next = randomKey();
    writeFileSync(path.join(keys.dir, "primary"), next);
    const deadline = Date.now() + 5000;
    while ((await infer(app, `Bearer ${next}`)).statusCode !== 200) {
      if (Date.now() > deadline) throw new Error("the new primary was not picked up within 5 s");
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await infer(app, `Bearer ${keys.primary}`)).statusCode).toBe(401);
    expect((await infer(app, `Bearer ${keys.secondary}`)).statusCode).toBe(200);
    keys.primary = next;
  });
});

describe("KeyRing", () => {
  it("no key files yet (the Secret has not reached the pod): 503 with Retry-After, not 401", async () => {
    const app = await buildApp({
      config: testConfig({ AUTH_MODE: "key", AUTH_KEYS_DIR: "/nonexistent/keys" }),
      store,
      logger: false,
    });
    const r = await infer(app, `Bearer ${randomKey()}`);
    expect(r.statusCode).toBe(503);
    expect(r.headers["retry-after"]).toBe("1");
    expect(r.json().error).toMatch(/no inference key is loaded yet/);
    await app.close();
  });

  it("a short or spaced key file is ignored, and said so without its content", () => {
    const k = keysDir({ primary: "short", secondary: randomKey() });
    const ring = new KeyRing(k.dir);
    expect(ring.loaded()).toEqual(["secondary"]);
    expect(ring.problems).toEqual([
      "key file primary holds no usable key (at least 32 printable characters, no spaces): ignored",
    ]);
    expect(ring.match("short")).toBeUndefined();
    expect(ring.match(k.secondary)).toBe("secondary");
  });

  it("bearerToken reads only a Bearer credential", () => {
    expect(bearerToken("Bearer abc")).toBe("abc");
    expect(bearerToken(["Bearer x", "Bearer y"])).toBe("x");
    expect(bearerToken("Bearer")).toBeUndefined();
    expect(bearerToken("Bearer a b")).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it("isOpenRoute: exactly the probes and what is not a model route", () => {
    expect(isOpenRoute("/v2/health/live")).toBe(true);
    expect(isOpenRoute("/v2/health/ready")).toBe(true);
    expect(isOpenRoute("/metrics")).toBe(true);
    expect(isOpenRoute(undefined)).toBe(true);
    expect(isOpenRoute("/v2")).toBe(false);
    expect(isOpenRoute("/v2/models/:name/infer")).toBe(false);
    expect(isOpenRoute("/v1/models/:name")).toBe(false);
    expect(isOpenRoute("/v2/repository/index")).toBe(false);
  });
});

describe("configuration", () => {
  it.each([
    [
      { AUTH_MODE: "entra", AUTH_JWKS_URL: "https://issuer.example/keys", AUTH_ISSUER: "x" },
      "invalid environment: AUTH_AUDIENCE is required with AUTH_MODE=entra",
    ],
    [
      {
        AUTH_MODE: "entra",
        AUTH_JWKS_URL: "http://10.0.0.1/keys",
        AUTH_ISSUER: "x",
        AUTH_AUDIENCE: "y",
      },
      'invalid environment: AUTH_JWKS_URL: got "http://10.0.0.1/keys"; expected an https URL (http only on loopback, for tests)',
    ],
    [{ AUTH_MODE: "open" }, "AUTH_MODE"],
  ])("%j is refused: %s", (env, message) => {
    expect(() => loadConfig({ MODEL_DIR: "/x", ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ MODEL_DIR: "/x", ...env })).toThrow(message);
  });

  it("key is the default mode, reading the keys where the chart mounts them", () => {
    expect(loadConfig({ MODEL_DIR: "/x" }).AUTH).toEqual({
      mode: "key",
      keysDir: "/var/run/mlops/keys",
      reloadMs: 2000,
      role: "Score",
    });
  });
});

describe("entra mode: tokens checked against the issuer's JWKS", () => {
  const ISSUER = "https://login.microsoftonline.com/00000000-0000-0000-0000-000000000001/v2.0";
  const AUDIENCE = "api://mlops-inference";
  let app: FastifyInstance;
  let jwks: http.Server;
  let signer: CryptoKey;
  let stranger: CryptoKey;
  let jwksRequests = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair("RS256");
    signer = pair.privateKey;
    stranger = (await generateKeyPair("RS256")).privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
    jwks = http.createServer((_req, res) => {
      jwksRequests++;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    const { port } = jwks.address() as AddressInfo;
    app = await buildApp({
      config: testConfig({
        AUTH_MODE: "entra",
        AUTH_JWKS_URL: `http://127.0.0.1:${port}/discovery/v2.0/keys`,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        AUTH_ROLE: "Score",
      }),
      store,
      logger: false,
    });
  });
  afterAll(async () => {
    await app.close();
    await new Promise((r) => jwks.close(r));
  });

  const token = (
    { iss = ISSUER, aud = AUDIENCE, ...claims }: Record<string, unknown> = {},
    key = signer,
    expiresIn: string | number = "5m",
  ) =>
    new SignJWT({ roles: ["Score"], oid: "client-1", ...claims })
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .setIssuer(iss as string)
      .setAudience(aud as string)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(key);

  it("a valid token with the role: 200; the key set is fetched once and cached", async () => {
    const before = jwksRequests;
    for (let i = 0; i < 3; i++) {
      expect((await infer(app, `Bearer ${await token()}`)).statusCode).toBe(200);
    }
    expect(jwksRequests - before).toBeLessThanOrEqual(1);
  });

  it.each([
    ["expired", () => token({}, signer, Math.floor(Date.now() / 1000) - 3600), "expired"],
    ["another audience", () => token({ aud: "api://other" }), "aud"],
    ["another issuer", () => token({ iss: "https://evil.example/" }), "iss"],
    ["signed by another key", () => token({}, stranger), "signature"],
  ])("%s: 401 naming the failed check", async (_label, make, word) => {
    const r = await infer(app, `Bearer ${await make()}`);
    expect(r.statusCode).toBe(401);
    expect(r.json().error).toContain(word);
    expect(r.headers["www-authenticate"]).toContain('error="invalid_token"');
  });

  it("not a JWT: 401", async () => {
    expect((await infer(app, "Bearer not.a.jwt")).statusCode).toBe(401);
  });

  it("a valid token without the role: 403 naming the role", async () => {
    const r = await infer(app, `Bearer ${await token({ roles: ["Read"] })}`);
    expect(r.statusCode).toBe(403);
    expect(r.json()).toEqual({
      error: 'the token does not hold the app role "Score" (roles claim: ["Read"])',
    });
  });
});

describe("gRPC: metadata authorization, the same gate", () => {
  let core: InferenceCore;
  let app: FastifyInstance;
  let server: grpc.Server;
  let client: grpc.Client & Record<string, Loose>;
  let keys: ReturnType<typeof keysDir>;
  beforeAll(async () => {
    keys = keysDir();
    core = createCore({ config: testConfig({ AUTH_MODE: "key", AUTH_KEYS_DIR: keys.dir }), store });
    app = await buildApp({ core, logger: false });
    server = createGrpcServer(core, app.log, GRPC_EXTENSIONS);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    const Client = grpc.makeGenericClientConstructor(inferenceService(), "GRPCInferenceService");
    client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as Loose;
  });
  afterAll(async () => {
    client.close();
    server.forceShutdown();
    await app.close();
    core.close();
  });

  const call = (method: string, request: object, authorization?: string) =>
    new Promise<{ code: number; details?: string; response?: Loose }>((resolve) => {
      const md = new grpc.Metadata();
      if (authorization !== undefined) md.set("authorization", authorization);
      client[method](request, md, (err: grpc.ServiceError | null, response: Loose) =>
        resolve(err ? { code: err.code, details: err.details } : { code: 0, response }),
      );
    });

  it("ServerLive and ServerReady stay open", async () => {
    expect((await call("ServerLive", {})).response).toEqual({ live: true });
    expect((await call("ServerReady", {})).code).toBe(0);
  });

  it("no key: UNAUTHENTICATED; a wrong key: UNAUTHENTICATED; the key: OK", async () => {
    const request = { name: "mpg-regressor", version: "" };
    expect(await call("ModelMetadata", request)).toEqual({
      code: grpc.status.UNAUTHENTICATED,
      details: "authentication required: send Authorization: Bearer <key or token>",
    });
    expect((await call("ModelMetadata", request, `Bearer ${randomKey()}`)).code).toBe(
      grpc.status.UNAUTHENTICATED,
    );
    const ok = await call("ModelMetadata", request, `Bearer ${keys.primary}`);
    expect(ok.code).toBe(0);
    expect(ok.response.name).toBe("mpg-regressor");
  });
});

describe("credentials never reach a log line", () => {
  it("at trace level, a request's Authorization header is redacted in every line", async () => {
    const keys = keysDir();
    let logged = "";
    const stream = new Writable({
      write(chunk, _enc, cb) {
        logged += chunk.toString();
        cb();
      },
    });
    const app = await buildApp({
      config: testConfig({ AUTH_MODE: "key", AUTH_KEYS_DIR: keys.dir }),
      store,
      logger: { level: "trace", stream },
    });
    await infer(app, `Bearer ${keys.primary}`);
    await infer(app, `Bearer ${keys.secondary}x`);
    app.log.info({ req: { headers: { authorization: `Bearer ${keys.primary}` } } }, "probe");
    app.log.info({ headers: { authorization: `Bearer ${keys.secondary}` } }, "probe");
    await app.close();
    expect(logged).toContain("request completed");
    expect(logged).toContain("[redacted]");
    expect(logged).not.toContain(keys.primary);
    expect(logged).not.toContain(keys.secondary);
  });
});

describe("overload: a bounded number in flight, then 503 with Retry-After at once", () => {
  it("with MAX_IN_FLIGHT=1 a second request is shed while the first is in flight, and served after", async () => {
    const app = await buildApp({
      config: testConfig({ MAX_IN_FLIGHT: "1", RETRY_AFTER_SECONDS: "2" }),
      store,
      logger: false,
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    const { port } = app.server.address() as AddressInfo;
    const body = JSON.stringify(MPG_BODY);
    const post = { method: "POST", body, headers: { "content-type": "application/json" } };
    // The first request's body arrives in two parts: it is in flight in between.
    const first = new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          path: INFER,
          method: "POST",
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 10));
      setTimeout(async () => {
        const shed = await fetch(`http://127.0.0.1:${port}${INFER}`, post);
        const health = await fetch(`http://127.0.0.1:${port}/v2/health/ready`);
        secondStatus = [
          shed.status,
          shed.headers.get("retry-after"),
          await shed.json(),
          health.status,
        ];
        req.end(body.slice(10));
      }, 200);
    });
    let secondStatus: unknown[] = [];
    expect(await first).toBe(200);
    expect(secondStatus).toEqual([
      503,
      "2",
      { error: "overloaded: 1 requests in flight; retry after 2 s" },
      200,
    ]);
    // Once the first is done, the next is admitted.
    expect((await fetch(`http://127.0.0.1:${port}${INFER}`, post)).status).toBe(200);
    await app.close();
  });

  it("fastify inject releases its slot too (200 requests through a bound of 2)", async () => {
    const app = await buildApp({
      config: testConfig({ MAX_IN_FLIGHT: "2" }),
      store,
      logger: false,
    });
    const codes = new Set<number>();
    for (let i = 0; i < 200; i++) codes.add((await infer(app)).statusCode);
    expect([...codes]).toEqual([200]);
    await app.close();
  });
});

describe("OpenAPI declares the scheme", () => {
  it("bearerAuth on model routes, none on the probes", async () => {
    const keys = keysDir();
    const app = await buildApp({
      config: testConfig({ AUTH_MODE: "key", AUTH_KEYS_DIR: keys.dir }),
      store,
      logger: false,
    });
    const doc = (await app.inject({ url: "/openapi.json" })).json();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    expect(doc.paths["/v2/models/mpg-regressor/infer"].post.security).toEqual([{ bearerAuth: [] }]);
    expect(doc.paths["/v2/models/{name}/infer"].post.responses["401"]).toBeDefined();
    expect(doc.paths["/v2/health/ready"].get.security).toEqual([]);
    expect(doc.paths["/metrics"].get.security).toEqual([]);
    await app.close();
  });
});
