import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import type { IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { ServiceConfig } from "../../service/src/config";
import type { ModelStore } from "../../service/src/model/store";
import { loadConfig } from "../../service/src/config";
import type {
  ClassificationArtifact,
  ModelArtifact,
  RegressionArtifact,
} from "../../service/src/model/artifact";
import { runCli } from "../../service/train/cli";
import { loadDataset } from "../../service/train/datasets";
import { DATASETS } from "../../service/train/models";
import { pythonEnv } from "../support/python";
import { DEFAULT_TRAIN_OPTIONS, trainModel, type TrainOptions } from "../../service/train/pipeline";

export const SERVICE_DIR = path.resolve(__dirname, "../../service");
export const REPO_DIR = path.resolve(__dirname, "../..");

export function trainAll(options: Partial<TrainOptions> = {}): ModelArtifact[] {
  return DATASETS.map(
    (spec) =>
      trainModel(spec, loadDataset(spec), {
        ...DEFAULT_TRAIN_OPTIONS,
        createdAt: "2024-01-01T00:00:00.000Z",
        ...options,
      }).artifact,
  );
}

let cached: { mpg: RegressionArtifact; penguin: ClassificationArtifact } | undefined;

/** The two bundled models, trained once per test file with the default options. */
export function artifacts(): { mpg: RegressionArtifact; penguin: ClassificationArtifact } {
  if (!cached) {
    const all = trainAll();
    cached = {
      mpg: all.find((a) => a.name === "mpg-regressor") as RegressionArtifact,
      penguin: all.find((a) => a.name === "penguin-classifier") as ClassificationArtifact,
    };
  }
  return cached;
}

const tempDirs: string[] = [];
// Each test file loads this module afresh: its temp dirs go when that file's tests are done.
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir, removed after the test file that made it. */
export function tempDir(prefix = "svc-test-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** Runs the training CLI in-process into a fresh temp dir (or `dir`); returns exit code and output. */
export function trainCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = runCli(args, env, { out: (l) => (out += l + "\n"), err: (l) => (err += l + "\n") });
  return { code, out, err };
}

/** Two keys written as the key Secret's volume holds them (files `primary` and `secondary`). */
export function keysDir(keys = { primary: randomKey(), secondary: randomKey() }): {
  dir: string;
  primary: string;
  secondary: string;
} {
  const dir = tempDir("svc-keys-");
  writeFileSync(path.join(dir, "primary"), keys.primary);
  writeFileSync(path.join(dir, "secondary"), keys.secondary);
  return { dir, ...keys };
}

/** A key as the program generates one: 32 random bytes, base64url (43 characters). */
export function randomKey(): string {
  return randomBytes(32).toString("base64url");
}

/** A silent service config; authentication is off unless `overrides` sets AUTH_MODE (the
 * auth suite tests it; the others test what happens after the gate). */
export function testConfig(overrides: Record<string, string> = {}): ServiceConfig {
  return loadConfig({
    MODEL_DIR: "/nonexistent",
    LOG_LEVEL: "silent",
    AUTH_MODE: "none",
    ...overrides,
  });
}

/**
 * Parsed JSON of unknown shape that tests poke into (corrupting artifacts, reading replies).
 * The one deliberate `any` of these tests: assertions check the values.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;

/** A deep, mutable copy of an artifact for corrupting in tests. */
export function mutable(a: ModelArtifact): Record<string, Loose> {
  return JSON.parse(JSON.stringify(a)) as Record<string, Loose>;
}

export interface HttpReply {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  json(): Loose;
}

export interface HttpRequest {
  readonly method?: string;
  readonly url: string;
  readonly headers?: Record<string, string>;
  /** Objects are sent as JSON; strings are sent as they are. */
  readonly payload?: unknown;
}

/**
 * Real-socket stand-in for fastify's `inject` (same call shape): light-my-request 6.8 requires
 * the ESM-only cookie@2, which Jest cannot load on Node 20. Listens on 127.0.0.1 only.
 */
export async function localClient(
  app: FastifyInstance,
): Promise<(req: HttpRequest | string) => Promise<HttpReply>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  app.addHook("onClose", async () => agent.destroy());
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return (req) => {
    const r = typeof req === "string" ? { url: req } : req;
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    let body: string | undefined;
    if (r.payload !== undefined) {
      body = typeof r.payload === "string" ? r.payload : JSON.stringify(r.payload);
      if (typeof r.payload !== "string" && !headers["content-type"])
        headers["content-type"] = "application/json";
    }
    return new Promise<HttpReply>((resolve, reject) => {
      const q = http.request(
        { host: "127.0.0.1", port, method: r.method ?? "GET", path: r.url, headers, agent },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({
              statusCode: res.statusCode ?? 0,
              headers: res.headers,
              body: text,
              json: () => JSON.parse(text),
            });
          });
          res.on("error", reject);
        },
      );
      q.on("error", reject);
      q.end(body);
    });
  };
}

/** The server (server.ts, via ts-node) as a child process on 127.0.0.1, an ephemeral port. */
export function spawnServer(env: Record<string, string>): ChildProcess {
  return spawn(
    process.execPath,
    ["-r", "ts-node/register/transpile-only", path.join(SERVICE_DIR, "src", "server.ts")],
    {
      cwd: REPO_DIR,
      env: {
        PATH: process.env.PATH ?? "",
        HOST: "127.0.0.1",
        PORT: "0",
        GRPC_PORT: "0",
        LOG_LEVEL: "info",
        AUTH_MODE: "none",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}

/** Runs a server that is expected to refuse to start; returns its exit code and stderr. */
export function expectStartupFailure(
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawnServer(env);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stderr })));
}

/** The `msg` of every JSON log line on a stream, joined. */
export function messages(stream: string): string {
  return stream
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => (JSON.parse(l) as { msg: string }).msg)
    .join("\n");
}

/** One row of each bundled model's features, as a client sends it. */
export type Row = Record<string, number | string>;
export const MPG_ROW: Row = {
  Cylinders: 4,
  Displacement: 97,
  Horsepower: 88,
  Weight_in_lbs: 2130,
  Acceleration: 14.5,
  Year: 1980,
  Origin: "Japan",
};
export const PENGUIN_ROW: Row = {
  Beak_Length_mm: 39.1,
  Beak_Depth_mm: 18.7,
  Flipper_Length_mm: 181,
  Body_Mass_g: 3750,
  Island: "Torgersen",
  Sex: "MALE",
};

/** Runs a command without blocking the event loop (servers under test share this process). */
export function run(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? REPO_DIR,
      env: opts.env ?? process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 300000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The test venv's Python: tests/support/python.ts (the e2e suite uses it too). */
export { pythonEnv };

/** Runs one of tests/service/python/*.py with the test venv; returns its parsed JSON output.
 * `env` reaches the script (INFERENCE_KEY: the key its client sends, never an argument). */
export async function runPythonJson(
  script: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<Loose> {
  const py = await pythonEnv();
  const r = await run(py, [path.join(__dirname, "python", script), ...args], {
    timeoutMs: 300000,
    env: { ...process.env, ...env },
  });
  if (r.code !== 0) throw new Error(`${script} exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout);
}

/**
 * What the Python client scripts (tests/service/python/triton_*.py) must get back: the rows they
 * send, predicted by the store's own predictors.
 */
export function tritonExpected(store: ModelStore) {
  const mpgRows = [
    MPG_ROW,
    {
      ...MPG_ROW,
      Cylinders: 8,
      Displacement: 350,
      Horsepower: 190,
      Weight_in_lbs: 4300,
      Acceleration: 11,
      Year: 1970,
      Origin: "USA",
    },
  ];
  const penguinRows = [
    PENGUIN_ROW,
    {
      Beak_Length_mm: 47.5,
      Beak_Depth_mm: 14.2,
      Flipper_Length_mm: 215,
      Body_Mass_g: 5400,
      Island: "Biscoe",
      Sex: "MALE",
    },
  ];
  const columns = (rows: Record<string, number | string>[]) =>
    Object.keys(rows[0]).map((k) => rows.map((r) => r[k])) as number[][];
  const m = store.get("mpg-regressor")!.predictor.predict({ rows: 2, columns: columns(mpgRows) });
  const p = store
    .get("penguin-classifier")!
    .predictor.predict({ rows: 2, columns: columns(penguinRows) });
  if (m.kind !== "regression" || p.kind !== "classification") throw new Error("model kinds");
  return { mpg: m.values, labels: p.labels, probabilities: p.probabilities.flat() };
}
