/**
 * Requests through the stack's Gateway, as a user's client makes them: to the Gateway's address
 * (Traefik on 127.0.0.1 on the suite's own cluster), the stack's host as the TLS server name and
 * the Host header, HTTPS verified against the stack's CA (output caCertificate). One connection
 * per request, so the data plane picks a backend for every request anew.
 */
import * as http from "node:http";
import * as https from "node:https";
import { condition, get, waitFor, type KubeObject } from "./kube";
import { requestOnce, type Answer } from "./traffic";

export interface GatewayTarget {
  /** The Gateway's address (this machine's). */
  readonly address: string;
  /** The stack's host (`ingress.host`). */
  readonly host: string;
  readonly port: number;
  /** The stack CA's certificate (PEM) with TLS, else undefined (plain HTTP). */
  readonly ca?: string;
}

/** Loopback or a private network address: where this machine's own test clusters listen. */
export const onThisMachine = (host: string): boolean =>
  /^(localhost$|127\.|10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.)/.test(host);

/** The Gateway once an implementation has programmed it (up to `timeoutMs`), for `endpointUrl`
 * (`http(s)://<host>/`, a stack output) and the stack's CA. */
export async function gatewayTarget(
  namespace: string,
  endpointUrl: string,
  ca: string,
  timeoutMs = 120000,
): Promise<GatewayTarget> {
  const address = await waitFor(
    "an implementation to program the Gateway (an address, Programmed)",
    async () => {
      const gw = await get("gateway", "inference", namespace);
      const value = (gw.status?.addresses as KubeObject[] | undefined)?.[0]?.value as
        string | undefined;
      return condition(gw, "Programmed") === "True" && value ? value : undefined;
    },
    timeoutMs,
    1000,
  );
  if (!onThisMachine(address)) {
    throw new Error(`the Gateway's address ${address} is not on this machine`);
  }
  const url = new URL(endpointUrl);
  const tls = url.protocol === "https:";
  return {
    address,
    host: url.hostname,
    port: tls ? 443 : 80,
    ...(tls ? { ca } : {}),
  };
}

/** One request through the Gateway, on its own connection, with a deadline. */
export function gatewayRequest(
  target: GatewayTarget,
  path: string,
  options: {
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs?: number;
    /** Trust this CA instead of the stack's (undefined: the stack's). */
    ca?: string;
  } = {},
): Promise<Answer> {
  const request = target.ca === undefined ? http.request : https.request;
  return requestOnce(
    request,
    { host: target.host, connection: "close", ...(options.headers ?? {}) },
    options.body,
    options.timeoutMs ?? 10000,
    {
      host: target.address,
      port: target.port,
      path,
      servername: target.host,
      ca: options.ca ?? target.ca,
    } as https.RequestOptions,
  );
}

/** GET /v2 `n` times through the Gateway; which release (its `version`) answered how often. */
export async function splitThroughGateway(
  target: GatewayTarget,
  n: number,
  headers: Record<string, string> = {},
): Promise<{ failed: number; counts: Record<string, number> }> {
  const counts: Record<string, number> = {};
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const res = await gatewayRequest(target, "/v2", { headers }).catch(() => undefined);
    if (res?.status !== 200) {
      failed++;
      continue;
    }
    const version = String((JSON.parse(res.body) as { version: string }).version);
    counts[version] = (counts[version] ?? 0) + 1;
  }
  return { failed, counts };
}
