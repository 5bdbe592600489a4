/**
 * The change in monthly cost a preview makes to the AKS node pools, for the PR summary
 * (tools/preview-summary.ts): for each pool whose VM size, minimum or maximum changes, the cost
 * at rest (`minCount` nodes all month) and at maximum (`maxCount` nodes busy all month, the most
 * the autoscaler may spend), before and after, from the price table. Pure.
 *
 * Pools are read from the steps' old and new inputs: an `AgentPool` (the training pool) and the
 * inline `agentPoolProfiles` of a `ManagedCluster` (the system pool). The region is the cluster's
 * `location`, else the preview's `azure-native:location` or `mlops:azure` location.
 */
import { PriceTable, vmHourly } from "../infra/azure/prices";
import { amount } from "./cost-model";

export const AGENT_POOL = "azure-native:containerservice:AgentPool";
export const MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster";

/** What a preview step carries that this module reads. */
export interface CostStep {
  readonly urn: string;
  readonly type: string;
  readonly oldInputs?: Readonly<Record<string, unknown>>;
  readonly newInputs?: Readonly<Record<string, unknown>>;
}

/** A node pool as its inputs declare it. */
export interface PoolShape {
  readonly vmSize: string;
  readonly minCount: number;
  readonly maxCount: number;
}

/** Monthly cost of one side of a change. */
export interface PoolCost extends PoolShape {
  readonly atRest: number;
  readonly atMaximum: number;
}

export interface PoolCostChange {
  /** `<resource name>/<pool name>` (an AgentPool without its name in the inputs: the resource's). */
  readonly pool: string;
  readonly before?: PoolCost;
  readonly after?: PoolCost;
  /** after − before (a missing side counts 0). */
  readonly atRestDelta: number;
  readonly atMaximumDelta: number;
}

export interface PoolCostSummary {
  readonly region?: string;
  readonly takenOn: string;
  readonly currency: string;
  readonly changes: readonly PoolCostChange[];
  /** Why a pool has no figure (a region or VM size the table lacks, no region). */
  readonly problems: readonly string[];
}

/** The pools a resource's inputs declare, by pool name. */
export function poolsOf(
  type: string,
  inputs: Readonly<Record<string, unknown>> | undefined,
): Map<string, PoolShape> {
  const pools = new Map<string, PoolShape>();
  if (inputs === undefined) return pools;
  const shape = (p: Record<string, unknown>): PoolShape | undefined =>
    typeof p.vmSize === "string" && typeof p.minCount === "number" && typeof p.maxCount === "number"
      ? { vmSize: p.vmSize, minCount: p.minCount, maxCount: p.maxCount }
      : undefined;
  if (type === AGENT_POOL) {
    const s = shape(inputs);
    if (s) pools.set(typeof inputs.agentPoolName === "string" ? inputs.agentPoolName : "", s);
  } else if (type === MANAGED_CLUSTER && Array.isArray(inputs.agentPoolProfiles)) {
    for (const profile of inputs.agentPoolProfiles as Record<string, unknown>[]) {
      const s = typeof profile === "object" && profile !== null ? shape(profile) : undefined;
      if (s) pools.set(String(profile.name ?? "pool"), s);
    }
  }
  return pools;
}

/** The region of the preview's cluster. */
export function previewRegion(
  steps: readonly CostStep[],
  config: Readonly<Record<string, unknown>>,
): string | undefined {
  for (const step of steps) {
    if (step.type !== MANAGED_CLUSTER) continue;
    const location = step.newInputs?.location ?? step.oldInputs?.location;
    if (typeof location === "string" && location !== "") return location;
  }
  const native = config["azure-native:location"];
  if (typeof native === "string" && native !== "") return native;
  let azure = config["mlops:azure"];
  if (typeof azure === "string") {
    try {
      azure = JSON.parse(azure);
    } catch {
      return undefined;
    }
  }
  const location = (azure as { location?: unknown } | undefined)?.location;
  return typeof location === "string" && location !== "" ? location : undefined;
}

/** The cost changes of every pool whose VM size, minimum or maximum the preview changes. */
export function poolCostChanges(
  steps: readonly CostStep[],
  config: Readonly<Record<string, unknown>>,
  table: PriceTable,
): PoolCostSummary {
  const region = previewRegion(steps, config);
  const changes: PoolCostChange[] = [];
  const problems: string[] = [];
  const hours = table.hoursPerMonth;
  for (const step of mergeByUrn(steps)) {
    if (step.type !== AGENT_POOL && step.type !== MANAGED_CLUSTER) continue;
    const before = poolsOf(step.type, step.oldInputs);
    const after = poolsOf(step.type, step.newInputs);
    const resource = step.urn.split("::").slice(3).join("::");
    for (const name of new Set([...before.keys(), ...after.keys()])) {
      const [b, a] = [before.get(name), after.get(name)];
      if (b && a && b.vmSize === a.vmSize && b.minCount === a.minCount && b.maxCount === a.maxCount)
        continue;
      const pool = name === "" ? resource : `${resource}/${name}`;
      if (region === undefined) {
        problems.push(`${pool}: the preview names no region (azure-native:location)`);
        continue;
      }
      try {
        const cost = (s: PoolShape | undefined): PoolCost | undefined => {
          if (s === undefined) return undefined;
          const key = step.type === AGENT_POOL ? "trainingPool" : "systemPool";
          const hourly = vmHourly(table, region, s.vmSize, `azure.${key}.vmSize`);
          return {
            ...s,
            atRest: s.minCount * hourly * hours,
            atMaximum: s.maxCount * hourly * hours,
          };
        };
        const [cb, ca] = [cost(b), cost(a)];
        changes.push({
          pool,
          ...(cb ? { before: cb } : {}),
          ...(ca ? { after: ca } : {}),
          atRestDelta: (ca?.atRest ?? 0) - (cb?.atRest ?? 0),
          atMaximumDelta: (ca?.atMaximum ?? 0) - (cb?.atMaximum ?? 0),
        });
      } catch (err) {
        problems.push(`${pool}: ${(err as Error).message}`);
      }
    }
  }
  return { region, takenOn: table.takenOn, currency: table.currency, changes, problems };
}

/** One step per resource: a replacement's steps (`create-replacement`, `replace`,
 * `delete-replaced`) are one change from the first old inputs to the last new ones. */
function mergeByUrn(steps: readonly CostStep[]): CostStep[] {
  const byUrn = new Map<string, CostStep>();
  for (const step of steps) {
    const seen = byUrn.get(step.urn);
    byUrn.set(step.urn, {
      urn: step.urn,
      type: seen?.type ?? step.type,
      oldInputs: seen?.oldInputs ?? step.oldInputs,
      newInputs: step.newInputs ?? seen?.newInputs,
    });
  }
  return [...byUrn.values()];
}

/** `$1,234.50` */
export function money(n: number): string {
  return `${n < 0 ? "−" : ""}$${amount(Math.abs(n))}`;
}

/** `+$12.00`, `−$3.00`, `±$0.00` */
export function signedMoney(n: number): string {
  const cents = Math.round(n * 100);
  if (cents === 0) return "±$0.00";
  return cents > 0 ? `+${money(n)}` : money(n);
}

/** The Markdown section, or [] when no pool's cost changes. */
export function renderPoolCost(summary: PoolCostSummary): string[] {
  if (summary.changes.length === 0 && summary.problems.length === 0) return [];
  const out = [
    "",
    `#### Monthly cost of the node pools (${summary.currency}${summary.region ? `, ${summary.region}` : ""}, price table of ${summary.takenOn})`,
    "",
  ];
  if (summary.changes.length > 0) {
    out.push("| Pool | VM size | Nodes (min–max) | At rest | At maximum (all nodes busy) |");
    out.push("|---|---|---|---:|---:|");
    const side = (c: PoolCost | undefined, f: (c: PoolCost) => string) => (c ? f(c) : "none");
    const arrow = (b: string, a: string) => (b === a ? b : `${b} → ${a}`);
    for (const c of summary.changes) {
      const { before: b, after: a } = c;
      out.push(
        `| \`${c.pool}\` | ${arrow(
          side(b, (x) => x.vmSize),
          side(a, (x) => x.vmSize),
        )} | ` +
          `${arrow(
            side(b, (x) => `${x.minCount}–${x.maxCount}`),
            side(a, (x) => `${x.minCount}–${x.maxCount}`),
          )} | ` +
          `${money(b?.atRest ?? 0)} → ${money(a?.atRest ?? 0)} (**${signedMoney(c.atRestDelta)}**) | ` +
          `${money(b?.atMaximum ?? 0)} → ${money(a?.atMaximum ?? 0)} (**${signedMoney(c.atMaximumDelta)}**) |`,
      );
    }
  }
  for (const p of summary.problems) out.push(`- no cost for ${p}`);
  return out;
}
