/** The inference service as a local process (the image cannot run here: kwok runs no containers). */
import { spawn, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";
import { REPO_ROOT } from "./context";

export const SERVICE_DIR = path.join(REPO_ROOT, "service");

/** A free TCP port on 127.0.0.1 (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  output(): string;
  /** SIGTERM, then the exit code (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Starts `node service/dist/src/server.js` with exactly `env` (plus PATH), on 127.0.0.1:`port`. */
export function startService(env: Record<string, string>, port: number): ServiceProcess {
  const child = spawn(process.execPath, [path.join(SERVICE_DIR, "dist/src/server.js")], {
    cwd: SERVICE_DIR,
    env: { PATH: process.env.PATH ?? "", ...env, PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    port,
    output: () => output,
    stop: async (timeoutMs = 20000) => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

export interface Reply {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body: any;
}

/**
 * An HTTP request to the local process for a URL of the deployed stack: the URL's path and Host
 * header are kept (what the Gateway would forward), the connection goes to 127.0.0.1:`port`.
 */
export async function request(
  port: number,
  url: string,
  init: { method?: string; body?: unknown } = {},
): Promise<Reply> {
  const target = new URL(url);
  const local = new URL(`${target.pathname}${target.search}`, `http://127.0.0.1:${port}`);
  const res = await fetch(local, {
    method: init.method ?? "GET",
    headers: {
      host: target.host,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: keep the text.
  }
  return { status: res.status, body };
}
