/**
 * HTTP Content-Encoding, both ways, in two hooks that cost one header lookup when unused (the
 * common case of an uncompressed request without Accept-Encoding):
 *
 * - request bodies with `Content-Encoding: gzip`, `deflate` or `br` are decoded before parsing;
 *   Fastify holds the DECODED size to the body limit (a compression bomb is a 413) and the encoded
 *   size to Content-Length; corrupt data is a 400, any other encoding a 415;
 * - responses of `threshold` bytes or more are compressed with the client's preferred encoding
 *   among gzip, deflate and br (Accept-Encoding, q-values honoured).
 */
import type { Readable } from "node:stream";
import * as zlib from "node:zlib";
import type { FastifyInstance } from "fastify";
import { InputError, show } from "./model/input";

const DECODERS: Readonly<Record<string, () => zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress>> =
  {
    gzip: () => zlib.createGunzip(),
    "x-gzip": () => zlib.createGunzip(),
    deflate: () => zlib.createInflate(),
    br: () => zlib.createBrotliDecompress(),
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

export function installCompression(app: FastifyInstance, threshold: number): void {
  app.addHook("preParsing", (request, _reply, payload, done) => {
    const encoding = request.headers["content-encoding"];
    if (encoding === undefined || encoding === "identity") {
      done(null, payload);
      return;
    }
    const make = DECODERS[encoding.trim().toLowerCase()];
    if (!make) {
      done(
        new InputError(
          `unsupported Content-Encoding ${show(encoding)}; send gzip, deflate, br or identity`,
          415,
        ),
      );
      return;
    }
    const decoder = make() as ReturnType<typeof make> & { receivedEncodedLength: number };
    decoder.receivedEncodedLength = 0;
    payload.on("data", (chunk: Buffer) => (decoder.receivedEncodedLength += chunk.length));
    payload.on("error", (err) => decoder.destroy(err));
    decoder.on("error", (err: Error & { statusCode?: number }) => {
      if (err instanceof InputError) return;
      err.message = `request body is not valid ${encoding} data`;
      err.statusCode = 400;
    });
    payload.pipe(decoder);
    done(null, decoder as unknown as Readable & { receivedEncodedLength: number });
  });

  app.addHook("onSend", (request, reply, payload, done) => {
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
  });
}
