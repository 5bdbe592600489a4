/**
 * HTTP Content-Encoding, both ways, at one header lookup each when unused (the common case of an
 * uncompressed request without Accept-Encoding):
 *
 * - request bodies with `Content-Encoding: gzip`, `deflate` or `br` are decoded by the body
 *   parsers (decodeBody), the decoded size held to the body limit while decoding (a compression
 *   bomb is a 413); corrupt data is a 400, any other encoding a 415;
 * - responses of `threshold` bytes or more are compressed with the client's preferred encoding
 *   among gzip, deflate and br (Accept-Encoding, q-values honoured).
 */
import * as zlib from "node:zlib";
import type { FastifyReply, FastifyRequest } from "fastify";
import { InputError, show } from "./model/errors";

const DECODERS: Readonly<Record<string, (body: Buffer, limit: number) => Buffer>> = {
  gzip: (b, limit) => zlib.gunzipSync(b, { maxOutputLength: limit }),
  "x-gzip": (b, limit) => zlib.gunzipSync(b, { maxOutputLength: limit }),
  deflate: (b, limit) => zlib.inflateSync(b, { maxOutputLength: limit }),
  br: (b, limit) => zlib.brotliDecompressSync(b, { maxOutputLength: limit }),
};

type Encoding = "gzip" | "deflate" | "br";
/** Server preference when the client rates several encodings the same. */
const PREFERENCE: readonly Encoding[] = ["gzip", "br", "deflate"];

/** The best encoding the client accepts, or undefined (identity). */
export function negotiateEncoding(acceptEncoding: string): Encoding | undefined {
  let best: Encoding | undefined;
  let bestQ = 0;
  for (const part of acceptEncoding.split(",")) {
    const [token, ...params] = part.trim().toLowerCase().split(";");
    let q = 1;
    for (const p of params) {
      const m = /^\s*q=([0-9.]+)\s*$/.exec(p);
      if (m) q = Number(m[1]);
    }
    const candidates: readonly Encoding[] =
      token === "*"
        ? PREFERENCE
        : token === "x-gzip"
          ? ["gzip"]
          : PREFERENCE.filter((e) => e === token);
    for (const e of candidates) {
      if (
        q > bestQ ||
        (q === bestQ &&
          q > 0 &&
          best !== undefined &&
          PREFERENCE.indexOf(e) < PREFERENCE.indexOf(best))
      ) {
        best = e;
        bestQ = q;
      }
    }
  }
  return bestQ > 0 ? best : undefined;
}

function compress(
  encoding: Encoding,
  data: Buffer | string,
  cb: (err: Error | null, out: Buffer) => void,
) {
  if (encoding === "gzip") zlib.gzip(data, cb);
  else if (encoding === "deflate") zlib.deflate(data, cb);
  else zlib.brotliCompress(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } }, cb);
}

/**
 * Decodes a request body sent with `encoding` (Content-Encoding). The decoded size is capped at
 * `limit` bytes while decoding (zlib's maxOutputLength), so a compression bomb costs at most
 * that much memory and is a 413; corrupt data is a 400; an encoding other than gzip, deflate, br
 * or identity is a 415.
 */
export function decodeBody(encoding: string, body: Buffer, limit: number): Buffer {
  const e = encoding.trim().toLowerCase();
  if (e === "identity") return body;
  const decode = DECODERS[e];
  if (!decode) {
    throw new InputError(
      `unsupported Content-Encoding ${show(encoding)}; send gzip, deflate, br or identity`,
      415,
    );
  }
  try {
    return decode(body, limit);
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new InputError(
        `Request body is too large: more than ${limit} bytes once decoded (${e})`,
        413,
      );
    }
    throw new InputError(`request body is not valid ${e} data`, 400);
  }
}

/**
 * For an onSend hook: compresses a string or Buffer payload of `threshold` bytes or more with the
 * client's preferred encoding; anything else passes unchanged.
 */
export function encodeResponse(
  request: FastifyRequest,
  reply: FastifyReply,
  payload: unknown,
  threshold: number,
  done: (err: Error | null, payload?: unknown) => void,
): void {
  const accept = request.headers["accept-encoding"];
  if (accept === undefined || (typeof payload !== "string" && !Buffer.isBuffer(payload))) {
    done(null, payload);
    return;
  }
  const size = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
  const encoding =
    size >= threshold && !reply.hasHeader("content-encoding")
      ? negotiateEncoding(accept)
      : undefined;
  if (encoding === undefined) {
    done(null, payload);
    return;
  }
  compress(encoding, payload, (err, out) => {
    if (err) {
      done(err);
      return;
    }
    reply.header("content-encoding", encoding).header("vary", "accept-encoding");
    reply.removeHeader("content-length");
    done(null, out);
  });
}
