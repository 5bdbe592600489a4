/**
 * A concise view of an update, as `pulumi up` shows it without `--diff`: one line per resource
 * when its step ends (what happened, its type and name, how long it took), the engine's errors
 * and warnings, then the summary. Built from the Automation API's engine events.
 */
import type { EngineEvent, OpType, StepEventMetadata } from "@pulumi/pulumi/automation";

const DONE: Partial<Record<OpType, string>> = {
  create: "created",
  update: "updated",
  delete: "deleted",
  replace: "replaced",
  "create-replacement": "created (replacement)",
  "delete-replaced": "deleted (replaced)",
  read: "read",
  refresh: "refreshed",
  import: "imported",
};
const SIGN: Partial<Record<OpType, string>> = {
  create: "+",
  update: "~",
  delete: "-",
  replace: "+-",
  "create-replacement": "++",
  "delete-replaced": "--",
  read: ">",
  refresh: "~",
  import: "=",
};

/** `type name` of a resource from its URN (`urn:pulumi:stack::project::a$b$type::name`). */
export function resourceName(urn: string): string {
  const parts = urn.split("::");
  const type = (parts[2] ?? "").split("$").pop() ?? "";
  return `${type} ${parts.slice(3).join("::")}`.trim();
}

/** Whether a step is shown: the stack itself, providers and unchanged resources are not. */
function shown(m: StepEventMetadata): boolean {
  return (
    m.op !== "same" && !m.type.startsWith("pulumi:providers:") && m.type !== "pulumi:pulumi:Stack"
  );
}

/** The lines one engine event adds to the view (none for most). `now` in ms. */
export class ProgressView {
  private readonly started = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  lines(event: EngineEvent): string[] {
    const pre = event.resourcePreEvent;
    if (pre && !pre.planning) {
      this.started.set(pre.metadata.urn + pre.metadata.op, this.now());
      return [];
    }
    const out = event.resOutputsEvent;
    if (out && !out.planning && shown(out.metadata)) {
      const m = out.metadata;
      const t0 = this.started.get(m.urn + m.op);
      const took = t0 === undefined ? "" : ` (${((this.now() - t0) / 1000).toFixed(1)}s)`;
      return [
        `  ${(SIGN[m.op] ?? " ").padEnd(2)} ${resourceName(m.urn)} ${DONE[m.op] ?? m.op}${took}`,
      ];
    }
    const failed = event.resOpFailedEvent;
    if (failed) return [`  !  ${resourceName(failed.metadata.urn)} ${failed.metadata.op} FAILED`];
    const diag = event.diagnosticEvent;
    if (diag && (diag.severity === "error" || diag.severity === "warning") && !diag.ephemeral) {
      const where = diag.urn ? `${resourceName(diag.urn)}: ` : "";
      return [`  ${diag.severity}: ${where}${diag.message.trim()}`];
    }
    const policy = event.policyEvent;
    if (policy) {
      const where = policy.resourceUrn ? ` (${resourceName(policy.resourceUrn)})` : "";
      return [
        `  policy ${policy.enforcementLevel}: ${policy.policyName}${where}: ${policy.message.trim()}`,
      ];
    }
    const summary = event.summaryEvent;
    if (summary) {
      const counts = Object.entries(summary.resourceChanges ?? {})
        .filter(([, n]) => (n ?? 0) > 0)
        .map(([op, n]) => `${n} ${op === "same" ? "unchanged" : (DONE[op as OpType] ?? op)}`);
      return [`Resources: ${counts.join(", ") || "none"}; duration ${summary.durationSeconds}s`];
    }
    return [];
  }
}
