import { randomUUID } from "node:crypto";

/** Request header (HTTP) and metadata key (gRPC) carrying the request id, in and out. */
export const REQUEST_ID_HEADER = "x-request-id";

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honours a well-formed incoming request id (a string); otherwise mints a UUID. */
export function requestId(incoming: unknown): string {
  return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
}
