/**
 * Benchmark of the inference service against the framework's own ceiling, with native load
 * generators: wrk (HTTP/1.1, installed from Debian when missing) and ghz (gRPC, built once with
 * `go install` into ~/.cache/mlops-platform/bin). 127.0.0.1 only; each server in its own process.
 *
 * Cases, run in interleaved rounds (median of each): a bare node:http server returning fixed JSON
 * (scale), the minimal Fastify baseline (bench/baseline.ts: same Fastify, body parsing, logger
 * configuration and route shape, fixed response), and the service: v2 infer 1 row JSON and
 * binary, v1 predict 1 row, gRPC ModelInfer 1 row, v2 infer 1,000 rows, and v2 infer 1 row JSON on
 * a second service process that checks a key (AUTH_MODE=key; the others run AUTH_MODE=none).
 * Then a memory soak, and overload: 2x the connections against a bound of half as many in flight.
 *
 * Exit status: 0 when single-row v2 JSON reaches >= 0.8x the baseline, the same with the key
 * keeps >= 0.95x of it without, no request failed, RSS grew < 20 MB during the soak and under
 * overload; 1 otherwise; 2 when the run is not valid (the baseline server did
 * not saturate its core, so the generator or the machine was the bottleneck).
 *
 * Usage: npm run bench -w service [-- --duration 10 --rounds 3 --connections 16 --soak 60]
 *        npm run bench -w service -- --cpu-prof   (profile the service on v2 1-row JSON only)
 *        npm run bench -w service -- --nice=-10    (on a shared machine: servers and generators
 *                                                   ahead of other work; needs root)
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import * as net from "node:net";
import { cpus, homedir, loadavg, tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { encodeTensor } from "../src/protocol/tensor";
import { runCli } from "../train/cli";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    rounds: { type: "string", default: "3" },
    connections: { type: "string", default: "16" },
    warmup: { type: "string", default: "3" },
    soak: { type: "string", default: "60" },
    "cpu-prof": { type: "boolean", default: false },
    /** Scheduling priority (nice value) of the servers and generators; negative needs root. */
    nice: { type: "string", default: "0" },
    /** Do not pin servers to CPU 1 and load generators to CPU 0. */
    "no-pin": { type: "boolean", default: false },
  },
});
const NICE = Number(values.nice);

/**
 * Servers on one core, load generators on another (`taskset`), when the machine has two or more:
 * the scheduler then never moves a server between cores or beside its generator, so two servers
 * measured in turn differ by their code, not by where they ran. `--no-pin` turns it off.
 */
const PIN =
  !values["no-pin"] && cpus().length >= 2 && spawnSync("taskset", ["-V"]).error === undefined;

/** [command, args] of a server (`role` "server") or a generator, at the bench's nice value and
 * pinned to its core. */
function niced(
  command: string,
  args: string[],
  role: "server" | "generator" = "server",
): [string, string[]] {
  let cmd = command;
  let rest = args;
  if (PIN) [cmd, rest] = ["taskset", ["-c", role === "server" ? "1" : "0", cmd, ...rest]];
  return NICE === 0 ? [cmd, rest] : ["nice", ["-n", String(NICE), cmd, ...rest]];
}
const DURATION = Number(values.duration);
const ROUNDS = Number(values.rounds);
const CONNECTIONS = Number(values.connections);
const WARMUP = Number(values.warmup);
const SOAK = Number(values.soak);
const BAR = 0.8;
/** Single-row v2 JSON with key authentication must keep this share of the throughput without. */
const AUTH_BAR = 0.95;
const GHZ_VERSION = "v0.121.0";
const distDir = path.resolve(__dirname, "..");
const serviceDir = path.resolve(distDir, "..");
const cacheDir = process.env.MLOPS_CACHE_DIR ?? path.join(homedir(), ".cache", "mlops-platform");
const work = mkdtempSync(path.join(tmpdir(), "bench-"));
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"]).stdout?.toString().trim()) || 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

// ---------------------------------------------------------------- load generators

function ensureWrk(): string {
  if (spawnSync("wrk", ["--version"]).error === undefined) return "wrk";
  console.log("wrk not found: installing the Debian package (apt-get install wrk)");
  const root = process.getuid?.() === 0;
  const cmd = root ? "apt-get" : "sudo";
  const args = [
    ...(root ? [] : ["-n", "apt-get"]),
    "-o",
    "DPkg::Lock::Timeout=300",
    "install",
    "-y",
    "wrk",
  ];
  const r = spawnSync(cmd, args, { stdio: "inherit" });
  if (r.status !== 0 || spawnSync("wrk", ["--version"]).error !== undefined) {
    throw new Error("could not install wrk; install it (apt-get install wrk) and run again");
  }
  return "wrk";
}

/** ghz, built once through the Go module proxy; undefined (and the gRPC case skipped) if it cannot be. */
function ensureGhz(): string | undefined {
  const bin = path.join(cacheDir, "bin", "ghz");
  if (existsSync(bin)) return bin;
  console.log(
    `ghz not found: building github.com/bojand/ghz/cmd/ghz@${GHZ_VERSION} with go install`,
  );
  mkdirSync(path.dirname(bin), { recursive: true });
  const r = spawnSync("go", ["install", `github.com/bojand/ghz/cmd/ghz@${GHZ_VERSION}`], {
    stdio: "inherit",
    env: { ...process.env, GOBIN: path.dirname(bin) },
  });
  if (r.error !== undefined || r.status !== 0 || !existsSync(bin)) {
    console.log("ghz could not be built (is Go installed?): the gRPC case is skipped");
    return undefined;
  }
  return bin;
}

// ---------------------------------------------------------------- request bodies

const MPG_ROW: Record<string, number | string> = {
  Cylinders: 4,
  Displacement: 97,
  Horsepower: 88,
  Weight_in_lbs: 2130,
  Acceleration: 14.5,
  Year: 1980,
  Origin: "Japan",
};
const NAMES = Object.keys(MPG_ROW);
const dtype = (n: string) => (typeof MPG_ROW[n] === "string" ? "BYTES" : "FP64");

function rows(n: number): Record<string, number | string>[] {
  return Array.from({ length: n }, (_, i) => ({
    ...MPG_ROW,
    Weight_in_lbs: 2130 + (i % 500),
    Horsepower: 88 + (i % 50),
  }));
}

function v2Json(n: number): Buffer {
  const rs = rows(n);
  return Buffer.from(
    JSON.stringify({
      inputs: NAMES.map((name) => ({
        name,
        shape: [n],
        datatype: dtype(name),
        data: rs.map((r) => r[name]),
      })),
    }),
  );
}

function v2Binary(): { body: Buffer; headerLength: number } {
  const buffers: Buffer[] = [];
  const inputs = NAMES.map((name) => {
    const buf = encodeTensor(dtype(name) as "FP64" | "BYTES", [MPG_ROW[name]]);
    buffers.push(buf);
    return {
      name,
      shape: [1],
      datatype: dtype(name),
      parameters: { binary_data_size: buf.length },
    };
  });
  const header = Buffer.from(JSON.stringify({ inputs, parameters: { binary_data_output: true } }));
  return { body: Buffer.concat([header, ...buffers]), headerLength: header.length };
}

// ---------------------------------------------------------------- servers

interface Server {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  readonly grpcPort?: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitForHttp(port: number, pathname: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}${pathname}`);
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`server on ${port} did not start`);
}

const BARE = `
const http = require("node:http");
const body = JSON.stringify({ model_name: "mpg-regressor", model_version: "1", outputs: [{ name: "predict", datatype: "FP64", shape: [1], data: [32.4306] }] });
http.createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

async function startBare(): Promise<Server> {
  const port = await freePort();
  const child = spawn(...niced(process.execPath, ["-e", BARE]), {
    env: { ...process.env, PORT: String(port) },
    stdio: "ignore",
  });
  await waitForHttp(port, "/", child);
  return { name: "bare", child, port };
}

async function startBaseline(): Promise<Server> {
  const child = spawn(...niced(process.execPath, [path.join(distDir, "bench", "baseline.js")]), {
    env: { ...process.env, LOG_LEVEL: "info" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /PORT (\d+)/.exec(err);
      if (m) resolve(Number(m[1]));
    });
    child.on("exit", (code) => reject(new Error(`baseline exited with ${code}: ${err}`)));
  });
  return { name: "baseline", child, port };
}

/** The service as a process. `env`: its authentication and admission settings (default: no
 * authentication, the default in-flight bound). */
async function startService(
  modelDir: string,
  cpuProfDir?: string,
  env: Record<string, string> = { AUTH_MODE: "none" },
  name = "service",
): Promise<Server> {
  const port = await freePort();
  const grpcPort = await freePort();
  const child = spawn(
    ...niced(process.execPath, [
      ...(cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfDir}`] : []),
      path.join(distDir, "src", "server.js"),
    ]),
    {
      env: {
        ...process.env,
        MODEL_DIR: modelDir,
        PORT: String(port),
        GRPC_PORT: String(grpcPort),
        HOST: "127.0.0.1",
        LOG_LEVEL: "info",
        SHUTDOWN_DELAY_MS: "0",
        ...env,
      },
      // Logs go to /dev/null, as the baseline's: formatted and written, read by no one.
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  await waitForHttp(port, "/v2/health/ready", child);
  return { name, child, port, grpcPort };
}

/** user+system CPU seconds of a process so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

// ---------------------------------------------------------------- one load run

interface Figures {
  rps: number;
  p50ms: number;
  p99ms: number;
  failures: number;
  /** CPU of the server process during the run, in cores (1 = one core busy). */
  serverCores: number;
  /** CPU of the load generator during the run, in cores. */
  generatorCores: number;
}

interface Case {
  readonly name: string;
  readonly server: () => Server;
  readonly run: (server: Server, seconds: number) => Promise<Figures>;
}

function luaString(buf: Buffer): string {
  let s = '"';
  for (const b of buf) s += `\\${b}`;
  return `${s}"`;
}

function wrkScript(body: Buffer, headers: Record<string, string>): string {
  const file = path.join(work, `wrk-${Math.random().toString(36).slice(2)}.lua`);
  const lines = ['wrk.method = "POST"', `wrk.body = ${luaString(body)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers["${k}"] = "${v}"`);
  writeFileSync(file, lines.join("\n") + "\n");
  return file;
}

function toMs(v: string, unit: string): number {
  const x = Number(v);
  return unit === "us" ? x / 1000 : unit === "s" ? x * 1000 : unit === "m" ? x * 60000 : x;
}

/** Runs a generator process while sampling its CPU and the server's. */
async function measured(
  server: Server,
  command: string,
  args: string[],
): Promise<{ out: string; serverCores: number; generatorCores: number }> {
  const start = process.hrtime.bigint();
  const serverCpu0 = cpuSeconds(server.child.pid!);
  const gen = spawn(...niced(command, args, "generator"), { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  gen.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  gen.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  let genCpu = 0;
  const sampler = setInterval(() => {
    const c = cpuSeconds(gen.pid!);
    if (!Number.isNaN(c)) genCpu = c;
  }, 200);
  const code = await new Promise<number | null>((resolve) => gen.on("exit", resolve));
  clearInterval(sampler);
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (code !== 0) throw new Error(`${path.basename(command)} exited ${code}:\n${out}`);
  return {
    out,
    serverCores: (cpuSeconds(server.child.pid!) - serverCpu0) / wall,
    generatorCores: genCpu / wall,
  };
}

function wrkCase(
  name: string,
  server: () => Server,
  pathname: string,
  body: Buffer,
  headers: Record<string, string>,
): Case {
  const script = wrkScript(body, headers);
  return {
    name,
    server,
    run: async (s, seconds) => {
      const r = await measured(s, "wrk", [
        "-t1",
        `-c${CONNECTIONS}`,
        `-d${seconds}s`,
        "--latency",
        "-s",
        script,
        `http://127.0.0.1:${s.port}${pathname}`,
      ]);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.out)?.[1]);
      const pct = (p: string) => {
        const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, "m").exec(r.out);
        return m ? toMs(m[1], m[2]) : NaN;
      };
      const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.out)?.[1] ?? 0);
      const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
        r.out,
      );
      const errors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      return {
        rps,
        p50ms: pct("50"),
        p99ms: pct("99"),
        failures: non2xx + errors,
        serverCores: r.serverCores,
        generatorCores: r.generatorCores,
      };
    },
  };
}

function ghzCase(name: string, server: () => Server, ghz: string): Case {
  const data = path.join(work, "ghz-data.json");
  writeFileSync(
    data,
    JSON.stringify({
      model_name: "mpg-regressor",
      inputs: NAMES.map((n) => ({
        name: n,
        datatype: dtype(n),
        shape: [1],
        contents:
          dtype(n) === "FP64"
            ? { fp64_contents: [MPG_ROW[n]] }
            : { bytes_contents: [Buffer.from(String(MPG_ROW[n])).toString("base64")] },
      })),
    }),
  );
  return {
    name,
    server,
    run: async (s, seconds) => {
      const r = await measured(s, ghz, [
        "--insecure",
        "--proto",
        path.join(serviceDir, "proto", "grpc_predict_v2.proto"),
        "--call",
        "inference.GRPCInferenceService.ModelInfer",
        "-D",
        data,
        "-c",
        String(CONNECTIONS),
        "--connections",
        "1",
        "-z",
        `${seconds}s`,
        "-O",
        "json",
        `127.0.0.1:${s.grpcPort}`,
      ]);
      const j = JSON.parse(r.out.slice(r.out.indexOf("{"))) as {
        rps: number;
        latencyDistribution: { percentage: number; latency: number }[] | null;
        statusCodeDistribution: Record<string, number>;
        errorDistribution?: Record<string, number> | null;
      };
      const lat = (p: number) =>
        (j.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6;
      // ghz closes its connection when the duration ends: the calls in flight then (at most the
      // concurrency) fail on the client side, not in the server. They are not counted.
      const cutOff = Object.entries(j.errorDistribution ?? {})
        .filter(([k]) => k.includes("use of closed network connection"))
        .reduce((a, [, v]) => a + v, 0);
      const failures =
        Object.entries(j.statusCodeDistribution)
          .filter(([k]) => k !== "OK")
          .reduce((a, [, v]) => a + v, 0) - Math.min(cutOff, CONNECTIONS);
      return {
        rps: j.rps,
        p50ms: lat(50),
        p99ms: lat(99),
        failures,
        serverCores: r.serverCores,
        generatorCores: r.generatorCores,
      };
    },
  };
}

// ---------------------------------------------------------------- profile summary

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

function summariseProfile(dir: string): void {
  const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
  if (!file) {
    console.log("no .cpuprofile written");
    return;
  }
  const prof = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as { nodes: ProfileNode[] };
  const total = prof.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const byFn = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const n of prof.nodes) {
    const hits = n.hitCount ?? 0;
    const url = n.callFrame.url.replace(/^file:\/\//, "");
    const where = url.includes("node_modules/")
      ? url
          .slice(url.lastIndexOf("node_modules/") + 13)
          .split("/")
          .slice(0, url.includes("node_modules/@") ? 2 : 1)
          .join("/")
      : url.includes("/dist/")
        ? `service ${url.slice(url.indexOf("/dist/") + 6)}`
        : url === ""
          ? n.callFrame.functionName.startsWith("(")
            ? n.callFrame.functionName
            : "(native)"
          : `node:${path.basename(url)}`;
    const key = `${n.callFrame.functionName || "(anonymous)"}  ${where}:${n.callFrame.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
    const area =
      url.includes("node_modules/") || url.includes("/dist/")
        ? where.split(" ")[0] + (where.startsWith("service") ? " " + where.split(" ")[1] : "")
        : where;
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
  }
  const top = (m: Map<string, number>, k: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, h]) => `${((100 * h) / total).toFixed(1).padStart(5)}%  ${name}`);
  console.log(`\nCPU profile of the service (${file}), self time:`);
  console.log("by module:\n" + top(byArea, 20).join("\n"));
  console.log("by function:\n" + top(byFn, 25).join("\n"));
}

// ---------------------------------------------------------------- main

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  ensureWrk();
  const ghz = values["cpu-prof"] ? undefined : ensureGhz();
  const modelDir = path.join(work, "models");
  const code = runCli(["--out", modelDir], process.env, {
    out: () => undefined,
    err: (l) => console.error(l),
  });
  if (code !== 0) throw new Error(`training failed (${code})`);

  const json1 = v2Json(1);
  const json1000 = v2Json(1000);
  const bin = v2Binary();
  const v1 = Buffer.from(JSON.stringify({ instances: [MPG_ROW] }));
  const jsonHeaders = { "Content-Type": "application/json" };
  const infer = "/v2/models/mpg-regressor/infer";

  if (values["cpu-prof"]) {
    const profDir = path.join(work, "prof");
    const svc = await startService(modelDir, profDir);
    const c = wrkCase("v2 infer, 1 row, JSON", () => svc, infer, json1, jsonHeaders);
    await c.run(svc, WARMUP);
    const f = await c.run(svc, DURATION);
    console.log(`profiled run (slower than unprofiled): ${f.rps.toFixed(0)} req/s`);
    svc.child.kill("SIGTERM");
    await new Promise((r) => svc.child.on("exit", r));
    summariseProfile(profDir);
    return;
  }

  console.log(
    `load average at start: ${load()}${NICE !== 0 ? `; servers and generators at nice ${NICE}` : ""}` +
      (PIN ? "; servers pinned to CPU 1, load generators to CPU 0" : ""),
  );
  // Key authentication as the chart deploys it: two key files, the client sends one of them.
  const keysDir = path.join(work, "keys");
  mkdirSync(keysDir);
  const key = randomBytes(32).toString("base64url");
  writeFileSync(path.join(keysDir, "primary"), key);
  writeFileSync(path.join(keysDir, "secondary"), randomBytes(32).toString("base64url"));
  const bare = await startBare();
  const baseline = await startBaseline();
  const svc = await startService(modelDir);
  const svcKey = await startService(
    modelDir,
    undefined,
    { AUTH_MODE: "key", AUTH_KEYS_DIR: keysDir },
    "service (key auth)",
  );
  const servers = [bare, baseline, svc, svcKey];
  try {
    const cases: Case[] = [
      wrkCase("bare node:http (fixed JSON)", () => bare, infer, json1, jsonHeaders),
      wrkCase("minimal Fastify baseline", () => baseline, infer, json1, jsonHeaders),
      wrkCase("v2 infer, 1 row, JSON", () => svc, infer, json1, jsonHeaders),
      wrkCase("v2 infer, 1 row, JSON, key", () => svcKey, infer, json1, {
        ...jsonHeaders,
        Authorization: `Bearer ${key}`,
      }),
      wrkCase("v2 infer, 1 row, binary", () => svc, infer, bin.body, {
        "Content-Type": "application/octet-stream",
        "Inference-Header-Content-Length": String(bin.headerLength),
      }),
      wrkCase("v1 predict, 1 row", () => svc, "/v1/models/mpg-regressor:predict", v1, jsonHeaders),
      ...(ghz ? [ghzCase("gRPC ModelInfer, 1 row", () => svc, ghz)] : []),
      wrkCase("v2 infer, 1,000 rows", () => svc, infer, json1000, jsonHeaders),
    ];
    console.log(`warm-up: ${WARMUP} s per case`);
    for (const c of cases) await c.run(c.server(), WARMUP);

    const results = new Map<string, Figures[]>(cases.map((c) => [c.name, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`round ${round}/${ROUNDS} (load average ${load()})`);
      for (const c of cases) {
        const f = await c.run(c.server(), DURATION);
        results.get(c.name)!.push(f);
        console.log(
          `  ${c.name.padEnd(28)} ${f.rps.toFixed(0).padStart(7)} req/s  server ${f.serverCores.toFixed(2)} cores, generator ${f.generatorCores.toFixed(2)}`,
        );
        await sleep(500);
      }
    }
    console.log(`load average after the rounds: ${load()}`);

    const med = (name: string, k: keyof Figures) => median(results.get(name)!.map((f) => f[k]));
    const baseRps = med("minimal Fastify baseline", "rps");
    const bareRps = med("bare node:http (fixed JSON)", "rps");
    console.log(
      `\nmedian of ${ROUNDS} interleaved rounds; wrk -t1 -c${CONNECTIONS}, ${DURATION} s per run` +
        (ghz ? `; ghz -c ${CONNECTIONS} --connections 1` : "") +
        "; service and baseline log one line per request at info\n",
    );
    console.log(
      "case                          req/s   x baseline  x bare   p50 ms  p99 ms  failures  server cores  generator cores",
    );
    let failures = 0;
    for (const c of cases) {
      const rps = med(c.name, "rps");
      const fails = results.get(c.name)!.reduce((a, f) => a + f.failures, 0);
      failures += fails;
      console.log(
        `${c.name.padEnd(28)}${rps.toFixed(0).padStart(8)}  ${(rps / baseRps).toFixed(2).padStart(10)}  ${(rps / bareRps).toFixed(2).padStart(6)}  ${med(c.name, "p50ms").toFixed(2).padStart(7)} ${med(c.name, "p99ms").toFixed(2).padStart(7)}  ${String(fails).padStart(8)}  ${med(c.name, "serverCores").toFixed(2).padStart(12)}  ${med(c.name, "generatorCores").toFixed(2).padStart(15)}`,
      );
    }
    const batch = med("v2 infer, 1,000 rows", "rps");
    console.log(`\n1,000-row batches: ${(batch * 1000).toFixed(0)} rows/s`);

    // The baseline must keep its server's core busy: otherwise wrk (or the machine) limited it.
    const baseCores = med("minimal Fastify baseline", "serverCores");
    const genCores = med("minimal Fastify baseline", "generatorCores");
    const saturated = baseCores >= 0.9 && genCores < baseCores;
    console.log(
      `baseline saturation: server ${baseCores.toFixed(2)} cores, wrk ${genCores.toFixed(2)} cores: ` +
        (saturated ? "saturated (the generator is not the bottleneck)" : "NOT saturated"),
    );

    // Per round: the ratio, and whether both servers held a full core in it.
    const base = results.get("minimal Fastify baseline")!;
    const v2 = results.get("v2 infer, 1 row, JSON")!;
    console.log(
      "per round, v2 JSON / baseline: " +
        base
          .map((b, i) => {
            const full = b.serverCores >= 0.9 && v2[i].serverCores >= 0.9;
            return `${(v2[i].rps / b.rps).toFixed(2)}${full ? " (both saturated)" : ""}`;
          })
          .join(", "),
    );
    const ratio = med("v2 infer, 1 row, JSON", "rps") / baseRps;
    const pass = ratio >= BAR;
    console.log(
      `single-row v2 JSON / minimal Fastify baseline = ${ratio.toFixed(2)} (bar >= ${BAR}): ${pass ? "PASS" : "FAIL"}`,
    );

    // What authentication costs: the same requests with the key, on a server that checks it.
    const authRatio =
      med("v2 infer, 1 row, JSON, key", "rps") / med("v2 infer, 1 row, JSON", "rps");
    const authPass = authRatio >= AUTH_BAR;
    console.log(
      `key authentication: ${med("v2 infer, 1 row, JSON, key", "rps").toFixed(0)} req/s with it, ` +
        `${med("v2 infer, 1 row, JSON", "rps").toFixed(0)} without = ${authRatio.toFixed(3)} ` +
        `(bar >= ${AUTH_BAR}): ${authPass ? "PASS" : "FAIL"}; per round: ` +
        results
          .get("v2 infer, 1 row, JSON, key")!
          .map((f, i) => (f.rps / v2[i].rps).toFixed(3))
          .join(", "),
    );

    let soakOk = true;
    if (SOAK > 0) {
      // Warm-up on the soak's own load, then RSS before and after SOAK seconds of it.
      const soakCase = wrkCase("soak", () => svc, infer, json1, jsonHeaders);
      await soakCase.run(svc, 10);
      const before = rssMb(svc.child.pid!);
      let peak = before;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(svc.child.pid!))), 1000);
      const f = await soakCase.run(svc, SOAK);
      clearInterval(sampler);
      const after = rssMb(svc.child.pid!);
      soakOk = after - before < 20 && f.failures === 0;
      console.log(
        `memory: RSS ${before.toFixed(1)} MB after a 10 s warm-up, ${after.toFixed(1)} MB after a ${SOAK} s soak ` +
          `(v2 1-row JSON, ${f.rps.toFixed(0)} req/s, ${(f.rps * SOAK).toFixed(0)} requests; peak ${peak.toFixed(1)} MB): ` +
          `growth ${(after - before).toFixed(1)} MB (bar < 20 MB): ${soakOk ? "PASS" : "FAIL"}`,
      );
    }
    const overloadOk = SOAK > 0 ? await overload(modelDir, json1, jsonHeaders, infer) : true;
    console.log(`load average at the end: ${load()}`);
    if (failures > 0) console.log(`${failures} requests failed (non-2xx or socket errors)`);
    if (!saturated) {
      console.log("the run is not valid: the baseline did not saturate its core");
      process.exitCode = 2;
    } else if (!pass || !authPass || failures > 0 || !soakOk || !overloadOk) {
      process.exitCode = 1;
    }
  } finally {
    for (const s of servers) s.child.kill("SIGKILL");
  }
}

/** The p99 of a histogram's observations, as the upper bound of the bucket that reaches it. */
function histogramP99(metrics: string, series: RegExp): number {
  const buckets: [number, number][] = [];
  for (const line of metrics.split("\n")) {
    // prom-client's order: le first, then the series' own labels.
    const m = /_bucket\{le="([^"]+)",?(.*)\} (\d+(?:\.\d+)?)$/.exec(line);
    if (m && series.test(m[2]))
      buckets.push([m[1] === "+Inf" ? Infinity : Number(m[1]), Number(m[3])]);
  }
  buckets.sort((a, b) => a[0] - b[0]);
  const total = buckets.at(-1)?.[1] ?? 0;
  return buckets.find(([, count]) => count >= 0.99 * total)?.[0] ?? NaN;
}

/**
 * Overload: twice the connections that saturate the server, against a bound of CONNECTIONS
 * requests in flight. The admitted requests' p99 (the service's own histogram, status 200), the
 * share shed (503 with Retry-After, at once), and RSS before and after.
 */
async function overload(
  modelDir: string,
  body: Buffer,
  headers: Record<string, string>,
  pathname: string,
): Promise<boolean> {
  const bound = Math.max(1, Math.floor(CONNECTIONS / 2));
  const s = await startService(
    modelDir,
    undefined,
    { AUTH_MODE: "none", MAX_IN_FLIGHT: String(bound) },
    "service (bounded)",
  );
  try {
    const script = wrkScript(body, headers);
    const drive = (seconds: number) =>
      measured(s, "wrk", [
        "-t1",
        `-c${CONNECTIONS * 2}`,
        `-d${seconds}s`,
        "--latency",
        "-s",
        script,
        `http://127.0.0.1:${s.port}${pathname}`,
      ]);
    await drive(WARMUP);
    const before = rssMb(s.child.pid!);
    const r = await drive(Math.max(DURATION, 10) * 2);
    const after = rssMb(s.child.pid!);
    const total = Number(/(\d+) requests in/.exec(r.out)?.[1] ?? 0);
    const shed = Number(/Non-2xx or 3xx responses: (\d+)/.exec(r.out)?.[1] ?? 0);
    const metrics = await (await fetch(`http://127.0.0.1:${s.port}/metrics`)).text();
    const admittedP99 = histogramP99(
      metrics,
      /^(?=.*route="\/v2\/models\/:name\/infer")(?=.*status="200")/,
    );
    const shedP99 = histogramP99(metrics, /^(?=.*status="503")/);
    const ok = after - before < 20 && total > 0;
    console.log(
      `overload: ${CONNECTIONS * 2} connections (2x the ${CONNECTIONS} that saturate) against MAX_IN_FLIGHT=${bound}: ` +
        `${total} requests, ${shed} shed (${((100 * shed) / Math.max(total, 1)).toFixed(1)} %, 503 + Retry-After); ` +
        `admitted p99 <= ${(admittedP99 * 1000).toFixed(1)} ms, shed p99 <= ${(shedP99 * 1000).toFixed(1)} ms (service histogram); ` +
        `RSS ${before.toFixed(1)} -> ${after.toFixed(1)} MB (bar: growth < 20 MB): ${ok ? "PASS" : "FAIL"}`,
    );
    return ok;
  } finally {
    s.child.kill("SIGKILL");
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
