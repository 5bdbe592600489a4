/**
 * `npm run preview:summary [-- --stack <name>] < preview.json`: turns the output of
 * `pulumi preview --json` into a short Markdown summary for the PR comment and the terminal.
 *
 * Input shape (Pulumi's `PreviewDigest`, pkg/display and pkg/backend/display/json.go):
 * `{ config?, steps?: [{ op, urn, oldState?: { type }, newState?: { type }, replaceReasons?,
 * diffReasons? }], diagnostics?: [{ urn?, message?, severity? }], changeSummary?: { <op>: n } }`.
 * By default only logical steps are listed: a replacement is one `replace` step; with
 * `--show-replacement-steps` it also has `create-replacement` / `delete-replaced` steps, which
 * are folded into that one replacement here. Unchanged resources appear only with `--show-sames`
 * (and the root stack always), so the unchanged count comes from `changeSummary.same`.
 *
 * Exit codes: 0 summary printed, 1 input is not a preview, 2 bad usage.
 */
import * as fs from "node:fs";
import { PRICE_TABLE, type PriceTable } from "../infra/azure/prices";
import { argsOrExitCode, parseCli, type Write } from "./cli";
import { poolCostChanges, renderPoolCost, type PoolCostSummary } from "./preview-cost";

/** The columns of the table, in order. */
export const KINDS = ["replace", "delete", "create", "update"] as const;
export type Kind = (typeof KINDS)[number];

/**
 * What each step op counts as. Ops that change only Pulumi's state or read (same, read, refresh,
 * discard, ...) are not counted. An unknown op (a newer CLI) is reported, not dropped.
 */
const OP_KIND: Readonly<Record<string, Kind | null>> = {
  create: "create",
  import: "create",
  update: "update",
  delete: "delete",
  replace: "replace",
  "create-replacement": "replace",
  "delete-replaced": "replace",
  "import-replacement": "replace",
  same: null,
  read: null,
  "read-replacement": null,
  refresh: null,
  discard: null,
  "discard-replaced": null,
  "remove-pending-replace": null,
  diff: null,
};

/** The input is not the JSON of `pulumi preview --json`. */
export class PreviewInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreviewInputError";
  }
}

export interface PreviewStep {
  readonly op: string;
  readonly urn: string;
  readonly type: string;
  readonly replaceReasons: readonly string[];
  /** `oldState.inputs` / `newState.inputs`, when the step carries them (the pools' cost). */
  readonly oldInputs?: Readonly<Record<string, unknown>>;
  readonly newInputs?: Readonly<Record<string, unknown>>;
}

export interface PreviewDiagnostic {
  readonly severity: string;
  readonly message: string;
}

export interface Preview {
  readonly steps: readonly PreviewStep[];
  readonly diagnostics: readonly PreviewDiagnostic[];
  readonly changeSummary: Readonly<Record<string, number>>;
  /** The preview's `config` (the region of the pools' prices). */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Per resource type: how many resources of it each kind of change touches. */
export interface TypeRow {
  readonly type: string;
  readonly counts: Readonly<Record<Kind, number>>;
}

export interface Summary {
  /** Replaces and deletes first (most first), then the rest by type name. */
  readonly rows: readonly TypeRow[];
  readonly totals: Readonly<Record<Kind, number>>;
  /** Resources replaced or deleted: `{ kind, type, name, reasons }`, in that order. */
  readonly destructive: readonly {
    kind: "replace" | "delete";
    type: string;
    name: string;
    reasons: readonly string[];
  }[];
  /** `changeSummary.same`, when the preview reports it. */
  readonly unchanged?: number;
  /** Ops this tool does not know, with their counts. */
  readonly unknownOps: Readonly<Record<string, number>>;
  readonly errors: readonly string[];
  readonly warnings: number;
  /** The change in the node pools' monthly cost (tools/preview-cost.ts). */
  readonly cost?: PoolCostSummary;
}

/** Parses and checks the JSON text of `pulumi preview --json`. */
export function parsePreview(text: string): Preview {
  if (text.trim() === "") {
    throw new PreviewInputError(
      "no input: pipe the output of `pulumi preview --json` into this command",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PreviewInputError(
      `input is not JSON (${(err as Error).message}); expected the output of \`pulumi preview --json\``,
    );
  }
  if (!isObject(json)) {
    throw new PreviewInputError(
      `input is ${describe(json)}, not an object; expected the output of \`pulumi preview --json\``,
    );
  }
  if (!("steps" in json) && !("changeSummary" in json) && !("diagnostics" in json)) {
    throw new PreviewInputError(
      "input has none of steps, changeSummary, diagnostics: it is not the output of `pulumi preview --json`",
    );
  }
  const rawSteps = json.steps ?? [];
  if (!Array.isArray(rawSteps)) {
    throw new PreviewInputError(`"steps" is ${describe(rawSteps)}; expected an array`);
  }
  const steps = rawSteps.map((s: unknown, i): PreviewStep => {
    if (!isObject(s))
      throw new PreviewInputError(`steps[${i}] is ${describe(s)}; expected an object`);
    if (typeof s.op !== "string") {
      throw new PreviewInputError(`steps[${i}].op is ${describe(s.op)}; expected a string`);
    }
    if (typeof s.urn !== "string" || !s.urn.startsWith("urn:pulumi:")) {
      throw new PreviewInputError(`steps[${i}].urn is ${describe(s.urn)}; expected a Pulumi URN`);
    }
    const reasons = Array.isArray(s.replaceReasons)
      ? s.replaceReasons.filter((r): r is string => typeof r === "string")
      : [];
    const oldInputs = inputsOf(s.oldState);
    const newInputs = inputsOf(s.newState);
    return {
      op: s.op,
      urn: s.urn,
      type: stepType(s),
      replaceReasons: reasons,
      ...(oldInputs ? { oldInputs } : {}),
      ...(newInputs ? { newInputs } : {}),
    };
  });

  const rawDiags = json.diagnostics ?? [];
  if (!Array.isArray(rawDiags)) {
    throw new PreviewInputError(`"diagnostics" is ${describe(rawDiags)}; expected an array`);
  }
  const diagnostics = rawDiags.filter(isObject).map((d) => ({
    severity: typeof d.severity === "string" ? d.severity : "info",
    message: typeof d.message === "string" ? d.message : "",
  }));

  const rawSummary = json.changeSummary ?? {};
  if (!isObject(rawSummary)) {
    throw new PreviewInputError(`"changeSummary" is ${describe(rawSummary)}; expected an object`);
  }
  const changeSummary: Record<string, number> = {};
  for (const [op, n] of Object.entries(rawSummary)) {
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      throw new PreviewInputError(`changeSummary.${op} is ${describe(n)}; expected a count`);
    }
    changeSummary[op] = n;
  }
  return {
    steps,
    diagnostics,
    changeSummary,
    ...(isObject(json.config) ? { config: json.config } : {}),
  };
}

/** Counts the changes per resource type; a resource counts once, under its strongest change. */
export function summarize(preview: Preview, prices: PriceTable = PRICE_TABLE): Summary {
  const byUrn = new Map<string, { kind: Kind; type: string; reasons: Set<string> }>();
  const unknownOps: Record<string, number> = {};
  for (const step of preview.steps) {
    if (!(step.op in OP_KIND)) {
      unknownOps[step.op] = (unknownOps[step.op] ?? 0) + 1;
      continue;
    }
    const kind = OP_KIND[step.op];
    if (kind === null) continue;
    const seen = byUrn.get(step.urn);
    if (seen === undefined) {
      byUrn.set(step.urn, { kind, type: step.type, reasons: new Set(step.replaceReasons) });
    } else {
      if (KINDS.indexOf(kind) < KINDS.indexOf(seen.kind)) seen.kind = kind;
      for (const r of step.replaceReasons) seen.reasons.add(r);
    }
  }

  const zero = (): Record<Kind, number> => ({ replace: 0, delete: 0, create: 0, update: 0 });
  const rows = new Map<string, Record<Kind, number>>();
  const totals = zero();
  const destructive: Summary["destructive"][number][] = [];
  for (const [urn, change] of byUrn) {
    const counts = rows.get(change.type) ?? zero();
    counts[change.kind]++;
    rows.set(change.type, counts);
    totals[change.kind]++;
    if (change.kind === "replace" || change.kind === "delete") {
      destructive.push({
        kind: change.kind,
        type: change.type,
        name: urnName(urn),
        reasons: [...change.reasons].sort(),
      });
    }
  }
  const sortedRows = [...rows.entries()]
    .map(([type, counts]) => ({ type, counts }))
    .sort(
      (x, y) =>
        y.counts.replace - x.counts.replace ||
        y.counts.delete - x.counts.delete ||
        x.type.localeCompare(y.type),
    );
  destructive.sort(
    (x, y) =>
      KINDS.indexOf(x.kind) - KINDS.indexOf(y.kind) ||
      x.type.localeCompare(y.type) ||
      x.name.localeCompare(y.name),
  );
  return {
    rows: sortedRows,
    totals,
    destructive,
    unchanged: preview.changeSummary.same,
    unknownOps,
    errors: preview.diagnostics.filter((d) => d.severity === "error").map((d) => d.message.trim()),
    warnings: preview.diagnostics.filter((d) => d.severity === "warning").length,
    cost: poolCostChanges(
      preview.steps.filter((step) => OP_KIND[step.op] !== null && step.op in OP_KIND),
      preview.config ?? {},
      prices,
    ),
  };
}

const WARN = "⚠️";

/** Renders the summary as Markdown: a title, the table, totals, and what is destroyed. */
export function renderMarkdown(summary: Summary, stack?: string): string {
  const title = stack === undefined ? "### Pulumi preview" : `### Pulumi preview: \`${stack}\``;
  const out = [title, ""];
  const changed = KINDS.reduce((n, k) => n + summary.totals[k], 0);
  if (changed === 0) {
    out.push(
      summary.errors.length > 0
        ? `${WARN} The preview failed before it could list the changes: see the diagnostics below.`
        : "No resource changes.",
    );
  } else {
    out.push("| | Resource type | Replace | Delete | Create | Update |");
    out.push("|---|---|---:|---:|---:|---:|");
    for (const row of summary.rows) {
      const flag = row.counts.replace + row.counts.delete > 0 ? WARN : "";
      out.push(`| ${flag} | \`${row.type}\` | ${KINDS.map((k) => row.counts[k]).join(" | ")} |`);
    }
    out.push(`| | **Total** | ${KINDS.map((k) => `**${summary.totals[k]}**`).join(" | ")} |`);
  }
  out.push("");
  const parts = KINDS.map((k) => `${summary.totals[k]} to ${k}`);
  if (summary.unchanged !== undefined) parts.push(`${summary.unchanged} unchanged`);
  out.push(`**Totals:** ${parts.join(", ")}.`);
  if (summary.destructive.length > 0) {
    out.push("");
    out.push(`${WARN} **Destructive changes: review before merging.**`);
    for (const d of summary.destructive) {
      const why =
        d.reasons.length > 0 ? ` (because of ${d.reasons.map((r) => `\`${r}\``).join(", ")})` : "";
      out.push(`- ${d.kind} \`${d.name}\` (\`${d.type}\`)${why}`);
    }
  }
  if (summary.cost) out.push(...renderPoolCost(summary.cost));
  const unknown = Object.entries(summary.unknownOps);
  if (unknown.length > 0) {
    out.push("");
    out.push(`Other operations: ${unknown.map(([op, n]) => `\`${op}\` × ${n}`).join(", ")}.`);
  }
  if (summary.errors.length > 0 || summary.warnings > 0) {
    out.push("");
    out.push(`Diagnostics: ${summary.errors.length} error(s), ${summary.warnings} warning(s).`);
    for (const e of summary.errors.slice(0, 5)) out.push(`- ${WARN} ${oneLine(e)}`);
  }
  return out.join("\n") + "\n";
}

export const USAGE = "Usage: npm run preview:summary [-- --stack <name>] < preview.json";

/** Parses argv: the stack the summary's title names. Throws a UsageError on anything
 * unexpected. */
export function parsePreviewSummaryArgs(
  argv: readonly string[],
): { readonly stack?: string } | "help" {
  const { values } = parseCli(argv, { options: { stack: { type: "string" } } });
  return values.help ? "help" : { stack: values.stack };
}

/** Runs the CLI on `input` (read only when there is something to summarize); returns the exit
 * code. */
export function main(
  argv: readonly string[],
  input: () => string,
  stdout: Write,
  stderr: Write,
): number {
  const args = argsOrExitCode({ name: "preview-summary", usage: USAGE, stdout, stderr }, () =>
    parsePreviewSummaryArgs(argv),
  );
  if (typeof args === "number") return args;
  try {
    stdout(renderMarkdown(summarize(parsePreview(input())), args.stack));
    return 0;
  } catch (err) {
    if (err instanceof PreviewInputError) {
      stderr(`preview-summary: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

/** The resource type of a step: its new state's, else its old state's, else the URN's. */
function stepType(step: Record<string, unknown>): string {
  for (const state of [step.newState, step.oldState]) {
    if (isObject(state) && typeof state.type === "string" && state.type !== "") return state.type;
  }
  // urn:pulumi:<stack>::<project>::<parent$type chain>::<name>
  const parts = String(step.urn).split("::");
  const chain = parts[2] ?? "";
  return chain.split("$").pop() ?? chain;
}

function urnName(urn: string): string {
  const parts = urn.split("::");
  return parts.slice(3).join("::") || urn;
}

function inputsOf(state: unknown): Record<string, unknown> | undefined {
  return isObject(state) && isObject(state.inputs) ? state.inputs : undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `${typeof value} ${JSON.stringify(value)}`;
}

/** One line of at most 300 characters, with `<`, `>` and `&` escaped so Markdown shows them. */
function oneLine(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  const short = line.length > 300 ? `${line.slice(0, 297)}...` : line;
  return short.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

if (require.main === module) {
  process.exitCode = main(
    process.argv.slice(2),
    () => fs.readFileSync(0, "utf8"),
    (t) => process.stdout.write(t),
    (t) => process.stderr.write(t),
  );
}
