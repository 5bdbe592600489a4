/**
 * The server as a real child process on 127.0.0.1: startup refusals and graceful shutdown under
 * load. Load is bounded (a few connections, at most ~10 s).
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import {
  artifacts,
  expectStartupFailure,
  messages,
  mutable,
  spawnServer,
  tempDir,
  trainCli,
} from "./helpers";

jest.setTimeout(60_000);

interface Started {
  child: ChildProcess;
  port: number;
  exited: Promise<{ code: number | null; at: number }>;
  stdout: () => string;
}

function startServer(env: Record<string, string>): Promise<Started> {
  const child = spawnServer(env);
  let out = "";
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.on("exit", (code) => resolve({ code, at: Date.now() })),
  );
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /"msg":"Server listening at http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
      if (m && out.includes('"msg":"ready"')) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), exited, stdout: () => out });
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
}

const ROW = {
  Cylinders: 4,
  Displacement: 97,
  Horsepower: 88,
  Weight_in_lbs: 2130,
  Acceleration: 14.5,
  Year: 1980,
  Origin: "Japan",
};
const BODY = JSON.stringify({
  inputs: Object.entries(ROW).map(([name, v]) => ({
    name,
    shape: [1],
    datatype: typeof v === "string" ? "BYTES" : "FP64",
    data: [v],
  })),
});

interface Outcome {
  startedAt: number;
  status?: number;
  error?: string;
}

function post(port: number, agent: http.Agent): Promise<Outcome> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v2/models/mpg-regressor/infer",
        agent,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const ok =
            res.statusCode === 200 &&
            JSON.parse(Buffer.concat(chunks).toString()).outputs[0].data.length === 1;
          resolve({ startedAt, status: ok ? 200 : (res.statusCode ?? 0) });
        });
        res.on("error", (e: NodeJS.ErrnoException) =>
          resolve({ startedAt, status: -1, error: e.code ?? e.message }),
        );
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) =>
      resolve({ startedAt, error: e.code ?? e.message }),
    );
    req.end(BODY);
  });
}

function getStatus(port: number, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path: url, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", reject);
  });
}

let modelDir: string;
beforeAll(() => {
  modelDir = tempDir("svc-models-");
  expect(trainCli(["--out", modelDir]).code).toBe(0);
});

describe("startup refusals", () => {
  it("exits non-zero naming an invalid artifact file", async () => {
    const dir = tempDir();
    const bad = mutable(artifacts().penguin);
    bad.weights.intercepts = [0];
    mkdirSync(path.join(dir, "penguin-classifier", "1"), { recursive: true });
    const file = path.join(dir, "penguin-classifier", "1", "model.json");
    writeFileSync(file, JSON.stringify(bad));
    const r = await expectStartupFailure({ MODEL_DIR: dir });
    expect(r.code).toBe(1);
    expect(messages(r.stderr)).toContain(`${file}: weights.intercepts must have 3 elements, got 1`);
  });

  it("exits non-zero naming a pinned version that is not loaded", async () => {
    const r = await expectStartupFailure({
      MODEL_DIR: modelDir,
      MODEL_PINS: "mpg-regressor=1,penguin-classifier=7",
    });
    expect(r.code).toBe(1);
    expect(messages(r.stderr)).toContain(
      "MODEL_PINS requires penguin-classifier version 7, which is not loaded",
    );
  });

  it("exits non-zero naming a bad environment variable", async () => {
    // (Every variable's validation is covered in-process in config.test.ts.)
    const r = await expectStartupFailure({ MODEL_DIR: modelDir, PORT: "http" });
    expect(r.code).toBe(1);
    expect(messages(r.stderr)).toContain("invalid environment: env/PORT must be integer");
  });
});

describe("graceful shutdown", () => {
  it("SIGTERM: readiness turns 503 at once, accepted requests all succeed, in-flight ones finish, exit 0 within the grace period", async () => {
    const delayMs = 800;
    const graceMs = 6000;
    const server = await startServer({
      MODEL_DIR: modelDir,
      SHUTDOWN_DELAY_MS: String(delayMs),
      SHUTDOWN_GRACE_MS: String(graceMs),
    });
    const { port } = server;
    expect(await getStatus(port, "/v2/health/ready")).toBe(200);

    let exited = false;
    void server.exited.then(() => (exited = true));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 6 });
    const outcomes: Outcome[] = [];
    const hardStop = Date.now() + 10_000;
    const loops = Array.from({ length: 6 }, async () => {
      while (!exited && Date.now() < hardStop) outcomes.push(await post(port, agent));
    });

    // A slow request: headers and half the body now, the rest after the listener has closed.
    const slow = new Promise<string>((resolve, reject) => {
      const sock = net.connect(port, "127.0.0.1");
      let reply = "";
      sock.on("data", (d) => (reply += d.toString()));
      sock.on("end", () => resolve(reply));
      sock.on("error", reject);
      sock.write(
        `POST /v2/models/mpg-regressor/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(BODY)}\r\nConnection: close\r\n\r\n` +
          BODY.slice(0, 40),
      );
      setTimeout(() => sock.write(BODY.slice(40)), delayMs + 400);
    });

    await new Promise((r) => setTimeout(r, 700)); // load before the signal
    const sigtermAt = Date.now();
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 100));
    expect(await getStatus(port, "/v2/health/ready")).toBe(503);

    const { code, at } = await server.exited;
    await Promise.all(loops);
    agent.destroy();
    const slowReply = await slow;

    expect(code).toBe(0);
    expect(at - sigtermAt).toBeLessThan(graceMs);
    expect(slowReply).toMatch(/^HTTP\/1\.1 200 /);
    expect(slowReply).toContain('"model_name":"mpg-regressor"');

    const listenerClosedAt = sigtermAt + delayMs;
    const answered = outcomes.filter((o) => o.status !== undefined);
    // Every request the server accepted (it answered) succeeded with a full, valid body.
    expect(answered.filter((o) => o.status !== 200)).toEqual([]);
    // Requests sent before the listener closed were all accepted: draining keeps serving.
    const early = outcomes.filter((o) => o.startedAt < listenerClosedAt - 50);
    expect(early.filter((o) => o.status !== 200)).toEqual([]);
    // And there was real traffic both before and after the signal.
    expect(answered.filter((o) => o.startedAt < sigtermAt).length).toBeGreaterThan(20);
    expect(answered.filter((o) => o.startedAt > sigtermAt + 100).length).toBeGreaterThan(20);
    // Whatever failed did so only because the listener was gone (never accepted).
    for (const o of outcomes.filter((x) => x.status === undefined)) {
      expect(o.startedAt).toBeGreaterThanOrEqual(listenerClosedAt - 50);
      expect(["ECONNREFUSED", "ECONNRESET", "socket hang up"]).toContain(o.error);
    }
    expect(server.stdout()).toContain('"msg":"shutdown complete"');
  });
});
