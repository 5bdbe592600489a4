/**
 * `npm run serve` (root alias -> workspace script -> node) passes SIGTERM and SIGINT to the
 * server: readiness turns 503 at once and the whole chain exits 0 after a graceful close.
 */
import { spawn } from "node:child_process";
import * as http from "node:http";
import { REPO_DIR, tempDir, trainCli } from "./helpers";

jest.setTimeout(240_000);

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on("error", reject);
  });
}

async function serveAndSignal(signal: NodeJS.Signals, modelDir: string) {
  const child = spawn("npm", ["run", "serve"], {
    cwd: REPO_DIR,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      GRPC_PORT: "0",
      MODEL_DIR: modelDir,
      SHUTDOWN_DELAY_MS: "1500",
      SHUTDOWN_GRACE_MS: "20000",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /"msg":"Server listening at http:\/\/127\.0\.0\.1:(\d+)"/.exec(out);
      if (m && out.includes('"msg":"ready"')) {
        clearInterval(timer);
        resolve(Number(m[1]));
      }
    }, 100);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`npm run serve exited with ${code} before listening:\n${out}`));
    });
  });
  expect(await get(port, "/v2/health/ready")).toBe(200);
  // The signal goes to npm itself (what a terminal, a process manager or `kill <pid>` does).
  child.kill(signal);
  await new Promise((r) => setTimeout(r, 500));
  const during = await get(port, "/v2/health/ready");
  const code = await exited;
  return { during, code, out };
}

describe("npm run serve", () => {
  const modelDir = tempDir("svc-serve-");
  beforeAll(() => {
    expect(trainCli(["--out", modelDir]).code).toBe(0);
  });

  it.each(["SIGTERM", "SIGINT"] as const)("forwards %s to the server", async (signal) => {
    const { during, code, out } = await serveAndSignal(signal, modelDir);
    expect(during).toBe(503);
    expect(out).toContain(`"signal":"${signal}"`);
    expect(out).toContain('"msg":"shutdown complete"');
    expect(code).toBe(0);
  });
});
