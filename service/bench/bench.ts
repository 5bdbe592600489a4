/**
 * Benchmark: single-row OIP v2 infer vs a bare node:http server returning fixed JSON, plus a
 * 1,000-row batch. Each server runs in its own child process (so the load generator does not
 * share an event loop with it); autocannon runs here, 127.0.0.1 only, same connections and
 * duration for every case. Usage: npm run bench -w service [-- --duration 10 --connections 10]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { runCli } from "../train/cli";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "10" },
    connections: { type: "string", default: "10" },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const distDir = path.resolve(__dirname, "..");

const BARE = `
const http = require("node:http");
const body = JSON.stringify({ model_name: "mpg-regressor", model_version: "1", outputs: [{ name: "predict", datatype: "FP64", shape: [1], data: [32.4306] }] });
const s = http.createServer((req, res) => {
  req.resume();
  req.on("end", () => { res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }); res.end(body); });
});
s.listen(0, "127.0.0.1", () => process.stdout.write("PORT " + s.address().port + "\\n"));
`;

function start(
  args: string[],
  env: NodeJS.ProcessEnv,
  portFrom: RegExp,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = portFrom.exec(out);
      if (m) {
        child.stdout!.off("data", onData);
        child.stdout!.resume(); // keep draining (request logs)
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout!.on("data", onData);
    child.on("exit", (code) => reject(new Error(`server exited early (${code}): ${out}`)));
  });
}

function row(n: number) {
  const r = {
    Cylinders: 4,
    Displacement: 97,
    Horsepower: 88,
    Weight_in_lbs: 2130,
    Acceleration: 14.5,
    Year: 1980,
    Origin: "Japan",
  };
  return JSON.stringify({
    inputs: Object.entries(r).map(([name, v]) => ({
      name,
      shape: [n],
      datatype: typeof v === "string" ? "BYTES" : "FP64",
      data: new Array(n).fill(v),
    })),
  });
}

interface Figures {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  non2xx: number;
}

async function load(name: string, port: number, pathName: string, body?: string): Promise<Figures> {
  const opts: autocannon.Options = {
    url: `http://127.0.0.1:${port}${pathName}`,
    connections,
    duration,
    method: body ? "POST" : "GET",
    headers: body ? { "content-type": "application/json" } : {},
    body,
  };
  // Short warm-up (JIT, schema compilation), not counted.
  await autocannon({ ...opts, duration: 2 });
  const r = await autocannon(opts);
  return {
    name,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
  };
}

async function main(): Promise<void> {
  const modelDir = mkdtempSync(path.join(tmpdir(), "bench-models-"));
  const code = runCli(["--out", modelDir], process.env, {
    out: () => undefined,
    err: (l) => console.error(l),
  });
  if (code !== 0) throw new Error(`training failed (${code})`);

  const results: Figures[] = [];
  const bare = await start(["-e", BARE], {}, /PORT (\d+)/);
  try {
    results.push(await load("bare node:http (fixed JSON)", bare.port, "/", row(1)));
  } finally {
    bare.child.kill("SIGKILL");
  }
  const svc = await start(
    [path.join(distDir, "src", "server.js")],
    {
      MODEL_DIR: modelDir,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
      SHUTDOWN_DELAY_MS: "0",
    },
    /Server listening at http:\/\/127\.0\.0\.1:(\d+)/,
  );
  try {
    results.push(await load("v2 infer, 1 row", svc.port, "/v2/models/mpg-regressor/infer", row(1)));
    results.push(
      await load("v2 infer, 1,000 rows", svc.port, "/v2/models/mpg-regressor/infer", row(1000)),
    );
  } finally {
    svc.child.kill("SIGTERM");
  }

  console.log(
    `\nautocannon: ${connections} connections, ${duration} s per case (after a 2 s warm-up), 127.0.0.1;`,
  );
  console.log(
    `each server in its own child process; service LOG_LEVEL=${process.env.LOG_LEVEL ?? "info"}\n`,
  );
  console.log("case                          req/s      p50 ms   p99 ms   errors  non-2xx");
  for (const r of results) {
    console.log(
      `${r.name.padEnd(28)}${r.rps.toFixed(0).padStart(7)}  ${String(r.p50).padStart(9)}  ${String(r.p99).padStart(7)}  ${String(r.errors).padStart(7)}  ${String(r.non2xx).padStart(7)}`,
    );
  }
  const ratio = results[1].rps / results[0].rps;
  console.log(
    `\nsingle-row infer / bare server req/s = ${ratio.toFixed(2)} (bar: >= 0.60) ${ratio >= 0.6 ? "PASS" : "FAIL"}`,
  );
  console.log(`1,000-row batch: ${(results[2].rps * 1000).toFixed(0)} rows/s`);
  if (results.some((r) => r.errors > 0 || r.non2xx > 0)) {
    console.log("errors or non-2xx responses occurred: see table");
    process.exitCode = 1;
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
