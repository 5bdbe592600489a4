/**
 * .github/scripts/smoke-test-port-forward.sh, run for real with stand-ins for `pulumi` and
 * `kubectl` on PATH: the kubectl stand-in's `port-forward` serves the two routes the smoke test
 * calls, as the Service would through a real port-forward.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.join(__dirname, "..", "..", "..");
const SCRIPT = path.join(ROOT, ".github", "scripts", "smoke-test-port-forward.sh");

/** A stand-in server: readiness, and one inference answering `mpg` for the MPG regressor. */
const server = (mpg: number) => `
const http = require("http");
const port = Number(process.argv[2]);
http.createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  if (req.url === "/v2/health/ready") return res.end("{}");
  if (req.url === "/v2/models/mpg-regressor/infer") {
    return res.end(JSON.stringify({ model_name: "mpg-regressor", outputs: [{ data: [${mpg}] }] }));
  }
  res.statusCode = 404;
  res.end("{}");
}).listen(port, "127.0.0.1");
`;

function setUp(mpg: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smoke-pf-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const log = path.join(dir, "calls.log");
  fs.writeFileSync(path.join(dir, "server.js"), server(mpg));
  fs.writeFileSync(
    path.join(bin, "pulumi"),
    [
      "#!/usr/bin/env bash",
      `echo "pulumi $*" >> ${log}`,
      'case "$*" in',
      '  "stack output kubeconfig --stack dev --show-secrets") echo "apiVersion: v1";;',
      '  "stack output namespace --stack dev") echo mlops;;',
      "  *) exit 9;;",
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(bin, "kubectl"),
    [
      "#!/usr/bin/env bash",
      // What kubectl is given: its arguments and the kubeconfig file's content.
      `echo "kubectl $* KUBECONFIG=$(cat "$KUBECONFIG")" >> ${log}`,
      'port="${5%%:*}"',
      `exec node ${path.join(dir, "server.js")} "$port"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return { dir, bin, log };
}

function runScript(mpg: number, port: number) {
  const { dir, bin, log } = setUp(mpg);
  const tmp = path.join(dir, "tmp");
  fs.mkdirSync(tmp);
  const result = spawnSync("bash", [SCRIPT, "dev"], {
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      SMOKE_PORT: String(port),
      TMPDIR: tmp,
    },
    encoding: "utf8",
    timeout: 100_000,
  });
  const calls = fs.readFileSync(log, "utf8").trim().split("\n");
  const leftovers = fs.readdirSync(tmp);
  fs.rmSync(dir, { recursive: true, force: true });
  return { result, calls, leftovers };
}

/** True when something still listens on `port` (the port-forward was not stopped). */
function listening(port: number): boolean {
  return spawnSync("curl", ["-s", "-o", "/dev/null", `http://127.0.0.1:${port}/`]).status === 0;
}

describe("smoke-test-port-forward.sh", () => {
  test("passes through the Service's port-forward, then stops it and removes the kubeconfig", () => {
    const port = 28000 + (process.pid % 1000);
    const { result, calls, leftovers } = runScript(24.5, port);
    expect(result.status).toBe(0);
    // At most the readiness retries while the port-forward starts.
    const errors = result.stderr.split("\n").filter((l) => l !== "" && !/^curl: \(7\)/.test(l));
    expect(errors).toEqual([]);
    expect(result.stdout).toContain("smoke test passed");
    expect(calls).toEqual([
      "pulumi stack output kubeconfig --stack dev --show-secrets",
      "pulumi stack output namespace --stack dev",
      `kubectl --namespace mlops port-forward service/inference ${port}:80 KUBECONFIG=apiVersion: v1`,
    ]);
    expect(leftovers).toEqual([]);
    expect(listening(port)).toBe(false);
  });

  test("fails when the service answers something implausible", () => {
    const port = 29000 + (process.pid % 1000);
    const { result } = runScript(500, port);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain(
      "::error::unexpected inference response from http://127.0.0.1:" + port,
    );
    expect(listening(port)).toBe(false);
  });
});
