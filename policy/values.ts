/**
 * Readers for resource properties as policies receive them: plain JSON, where any value may be
 * missing, and during a preview may not be known yet. The engine's proxy throws on a value it
 * knows to be unknown (and reports that the policy could not run); other stand-ins (an
 * `Unknown` object of the mocks, `undefined`) reach us and must never crash a check. So every
 * reader checks the type and falls back: a record or list that is not one reads as empty, a
 * scalar of the wrong type reads as `undefined` (the caller decides whether that is a violation
 * or "not known yet").
 */

export type Props = Readonly<Record<string, unknown>>;

export function isRecord(value: unknown): value is Props {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The object at `value`, or an empty object. */
export function rec(value: unknown): Props {
  return isRecord(value) ? value : {};
}

/** The array at `value`, or an empty array. */
export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** Follows `path` through nested objects; `undefined` as soon as a step is not an object. */
export function at(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** The string values of a string map (labels, tags); entries of other types are dropped. */
export function stringMap(value: unknown): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(rec(value))) {
    if (typeof v === "string") out[k] = v;
  }
  return out;
}

/** `a, b and c` */
export function listing(items: readonly string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
