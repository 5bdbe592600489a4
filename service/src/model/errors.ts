/**
 * Client mistakes and how their messages show client values: shared by the model (validation,
 * prediction), the protocol codecs and both transports.
 */

/** A client mistake in an inference request; always a 4xx with a message naming the field. */
export class InputError extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

/** Short, safe rendering of a client value for an error message. */
export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** A client-supplied name in single quotes, cut to a short prefix. */
export function quote(name: string): string {
  return `'${name.length > 40 ? `${name.slice(0, 37)}...` : name}'`;
}
