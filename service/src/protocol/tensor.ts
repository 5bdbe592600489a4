/**
 * Tensor wire formats shared by REST and gRPC: the binary tensor data extension of the Open
 * Inference Protocol (KServe/Triton) and gRPC's raw_input_contents / raw_output_contents.
 *
 * Fixed-size datatypes are little-endian, row-major; BYTES is a sequence of elements, each a
 * 4-byte little-endian length followed by that many bytes.
 */
import sjson from "secure-json-parse";
import { InputError, quote, show } from "../model/errors";

/** Element sizes of the fixed-size datatypes this service can decode. */
const ELEMENT_BYTES: Readonly<Record<string, number>> = {
  FP64: 8,
  FP32: 4,
  INT64: 8,
  INT32: 4,
};

/** Datatypes whose binary form can be decoded (the ones a feature can have). */
export const BINARY_DATATYPES = ["FP64", "FP32", "INT64", "INT32", "BYTES"] as const;

/**
 * Decodes one tensor's binary data into values. `what` names the tensor in error messages
 * (`input 'Origin'`).
 */
export function decodeTensor(datatype: unknown, buf: Buffer, what: string): (number | string)[] {
  if (datatype === "BYTES") {
    const out: string[] = [];
    let o = 0;
    while (o < buf.length) {
      if (o + 4 > buf.length) {
        throw new InputError(
          `${what}: BYTES data ends inside an element's 4-byte length prefix (at byte ${o} of ${buf.length})`,
        );
      }
      const n = buf.readUInt32LE(o);
      o += 4;
      if (o + n > buf.length) {
        throw new InputError(
          `${what}: BYTES element ${out.length} declares ${n} bytes, only ${buf.length - o} remain`,
        );
      }
      out.push(buf.toString("utf8", o, o + n));
      o += n;
    }
    return out;
  }
  const size = typeof datatype === "string" ? ELEMENT_BYTES[datatype] : undefined;
  if (size === undefined) {
    throw new InputError(
      `${what}: binary data of datatype ${show(datatype)} is not supported (use ${BINARY_DATATYPES.join(", ")})`,
    );
  }
  if (buf.length % size !== 0) {
    throw new InputError(
      `${what}: ${buf.length} bytes of ${datatype as string} data is not a whole number of ${size}-byte elements`,
    );
  }
  const n = buf.length / size;
  const out = new Array<number>(n);
  switch (datatype) {
    case "FP64":
      for (let i = 0; i < n; i++) out[i] = buf.readDoubleLE(i * 8);
      break;
    case "FP32":
      for (let i = 0; i < n; i++) out[i] = buf.readFloatLE(i * 4);
      break;
    case "INT64":
      for (let i = 0; i < n; i++) out[i] = Number(buf.readBigInt64LE(i * 8));
      break;
    default: // INT32
      for (let i = 0; i < n; i++) out[i] = buf.readInt32LE(i * 4);
  }
  return out;
}

/** Encodes output values: FP64 as little-endian doubles, BYTES as length-prefixed UTF-8. */
export function encodeTensor(
  datatype: "FP64" | "BYTES",
  data: readonly (number | string)[],
): Buffer {
  if (datatype === "FP64") {
    const buf = Buffer.allocUnsafe(data.length * 8);
    for (let i = 0; i < data.length; i++) buf.writeDoubleLE(data[i] as number, i * 8);
    return buf;
  }
  const parts = data.map((s) => Buffer.from(String(s), "utf8"));
  const buf = Buffer.allocUnsafe(parts.reduce((a, p) => a + 4 + p.length, 0));
  let o = 0;
  for (const p of parts) {
    buf.writeUInt32LE(p.length, o);
    p.copy(buf, o + 4);
    o += 4 + p.length;
  }
  return buf;
}

/** JSON.parse that refuses `__proto__` and `constructor.prototype` keys (as Fastify does). */
export function parseJson(text: string): unknown {
  try {
    return sjson.parse(text, undefined, { protoAction: "error", constructorAction: "error" });
  } catch (e) {
    throw new InputError(`request body is not valid JSON: ${show((e as Error).message)}`);
  }
}

/** The request header of the binary tensor data extension. */
export const HEADER_LENGTH = "inference-header-content-length";

/**
 * A request body: plain JSON, or (when `headerLength`, the Inference-Header-Content-Length
 * value, is given) a JSON header followed by the binary data of the inputs that carry a
 * `binary_data_size` parameter, in input order. Binary inputs get their decoded values as `data`,
 * so everything downstream sees one shape of request.
 */
export function parseInferBody(raw: Buffer, headerLength: string | undefined): unknown {
  if (headerLength === undefined) return raw.length === 0 ? undefined : parseJson(raw.toString());
  const n = /^\d{1,12}$/.test(headerLength) ? Number(headerLength) : NaN;
  if (!(n >= 1 && n <= raw.length)) {
    throw new InputError(
      `Inference-Header-Content-Length must be an integer from 1 to the body length (${raw.length}), got ${show(headerLength)}`,
    );
  }
  const doc = parseJson(raw.toString("utf8", 0, n));
  let offset = n;
  const inputs = (doc as { inputs?: unknown } | null)?.inputs;
  if (Array.isArray(inputs)) {
    inputs.forEach((input: unknown, i) => {
      if (typeof input !== "object" || input === null) return;
      const t = input as {
        name?: unknown;
        datatype?: unknown;
        data?: unknown;
        parameters?: unknown;
      };
      const params = t.parameters as Record<string, unknown> | undefined;
      const size =
        typeof params === "object" && params !== null ? params.binary_data_size : undefined;
      if (size === undefined) return;
      const what = `input ${typeof t.name === "string" ? quote(t.name) : i}`;
      if (typeof size !== "number" || !Number.isInteger(size) || size < 0) {
        throw new InputError(
          `${what}: binary_data_size must be a non-negative integer, got ${show(size)}`,
        );
      }
      if (t.data !== undefined) {
        throw new InputError(`${what}: has both binary_data_size and data; send one`);
      }
      if (offset + size > raw.length) {
        throw new InputError(
          `${what}: binary_data_size ${size} goes past the end of the body (${raw.length - offset} bytes left)`,
        );
      }
      t.data = decodeTensor(t.datatype, raw.subarray(offset, offset + size), what);
      offset += size;
    });
  }
  if (offset !== raw.length) {
    throw new InputError(
      `binary body has ${raw.length - offset} bytes after the last input's binary_data_size; the sizes must add up to the body`,
    );
  }
  return doc;
}
