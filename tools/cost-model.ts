/**
 * What an Azure stack costs a month, from its validated config and the dated price table
 * (infra/azure/price-table.json). Pure: `npm run cost` (tools/cost.ts) prints it, the tests assert it.
 *
 * Three figures per item:
 *  - at rest: nothing runs but what never scales down (the system pool's minimum, the tier, the
 *    Gateway's public IP, the metrics of the nodes at rest);
 *  - with the training schedule: at rest, plus one training node for every run of the CronJob,
 *    billed from its creation to its removal (provisioning, the run, and the idle time before the
 *    autoscaler removes it: `azure.scaleDownUnneededMinutes`);
 *  - at maximum: every pool at its `maxCount` all month (the ceiling the autoscaler allows).
 * Not counted: OS disks, load balancer rules, bandwidth, the model store's storage and
 * transactions, the shared registry, Grafana and the ML workspace.
 */
import type { PlatformConfig } from "../infra/config";
import { PriceTable, regionPrices, vmHourly, vmSize } from "../infra/azure/prices";

/** Minutes from a node's creation to the kubelet Ready on AKS: an assumption (measure with
 * `kubectl get events` on the node, and pass `--provision-minutes`). */
export const DEFAULT_PROVISION_MINUTES = 4;
/** Active Prometheus series the managed add-on collects per node (node, kubelet, cAdvisor and
 * kube-state-metrics targets with its minimal ingestion profile): an assumption; measure it in the
 * workspace with `count({__name__=~".+"})` divided by the node count, and pass `--series-per-node`. */
export const DEFAULT_SERIES_PER_NODE = 1000;
/** The managed add-on's scrape interval for its default targets. */
export const ADDON_SCRAPE_SECONDS = 30;
/** The year whose runs of the schedule are counted (not a leap year: 365 days). */
export const REFERENCE_YEAR = 2027;

export interface CostOptions {
  /** A measured run time, in minutes. @default `training.expectedDurationMinutes` */
  readonly jobMinutes?: number;
  /** @default {@link DEFAULT_PROVISION_MINUTES} */
  readonly provisionMinutes?: number;
  /** @default {@link DEFAULT_SERIES_PER_NODE} */
  readonly seriesPerNode?: number;
}

export interface CostLine {
  readonly item: string;
  readonly detail: string;
  readonly atRest: number;
  readonly withSchedule: number;
  readonly atMaximum: number;
}

export interface CostReport {
  readonly region: string;
  readonly currency: string;
  readonly takenOn: string;
  readonly retrievedBy: PriceTable["retrievedBy"];
  readonly runsPerMonth: number;
  /** Minutes a training node exists per run. */
  readonly nodeMinutesPerRun: number;
  readonly lines: readonly CostLine[];
  readonly total: Omit<CostLine, "item" | "detail">;
  /** The assumptions the figures rest on, in words. */
  readonly assumptions: readonly string[];
}

/** The monthly cost of an Azure stack. Throws for a stack that does not target Azure, for a
 * region or VM size the table lacks, and for a training pod no training node can hold. */
export function costReport(
  config: PlatformConfig,
  table: PriceTable,
  options: CostOptions = {},
): CostReport {
  const azure = config.azure;
  if (azure === undefined) {
    throw new Error(`mlops:target is "${config.target}": only an Azure stack has a cloud cost`);
  }
  const region = azure.location;
  const prices = regionPrices(table, region);
  const hours = table.hoursPerMonth;
  const { systemPool: sys, trainingPool: train } = azure;
  const sysHourly = vmHourly(table, region, sys.vmSize, "azure.systemPool.vmSize");
  const trainHourly = vmHourly(table, region, train.vmSize, "azure.trainingPool.vmSize");
  checkFits(config, table);

  const jobMinutes = options.jobMinutes ?? config.training.expectedDurationMinutes;
  const provisionMinutes = options.provisionMinutes ?? DEFAULT_PROVISION_MINUTES;
  const seriesPerNode = options.seriesPerNode ?? DEFAULT_SERIES_PER_NODE;
  const runsPerMonth = config.training.suspend
    ? 0
    : cronRunsInYear(config.training.schedule, REFERENCE_YEAR) / 12;
  const nodeMinutesPerRun = provisionMinutes + jobMinutes + azure.scaleDownUnneededMinutes;
  // One training pod per run (the CronJob forbids concurrent runs): one node per run.
  const trainingNodeHours = (runsPerMonth * nodeMinutesPerRun) / 60;

  const lines: CostLine[] = [
    {
      item: "system pool",
      detail: `${sys.minCount}–${sys.maxCount} × ${sys.vmSize}`,
      atRest: sys.minCount * sysHourly * hours,
      withSchedule: sys.minCount * sysHourly * hours,
      atMaximum: sys.maxCount * sysHourly * hours,
    },
    {
      item: "training pool",
      detail:
        `${train.minCount}–${train.maxCount} × ${train.vmSize}; ${round2(runsPerMonth)} runs a month × ` +
        `${round2(nodeMinutesPerRun)} node-minutes`,
      atRest: train.minCount * trainHourly * hours,
      withSchedule: (train.minCount * hours + trainingNodeHours) * trainHourly,
      atMaximum: train.maxCount * trainHourly * hours,
    },
  ];
  const tierMonthly = prices.aksTierHourly[azure.tier] * hours;
  lines.push({
    item: "AKS tier",
    detail: azure.tier,
    atRest: tierMonthly,
    withSchedule: tierMonthly,
    atMaximum: tierMonthly,
  });
  if (config.ingress.api === "gateway") {
    const ip = prices.publicIpv4StaticHourly * hours;
    lines.push({
      item: "Gateway public IP",
      detail: "1 Standard static IPv4 (the Envoy proxy's LoadBalancer Service)",
      atRest: ip,
      withSchedule: ip,
      atMaximum: ip,
    });
  }
  if (config.monitoring.scraper === "azure-managed") {
    // Samples a node's series produce in one hour, priced per 10 million.
    const perNodeHour =
      ((seriesPerNode * 3600) / ADDON_SCRAPE_SECONDS / 1e7) *
      prices.prometheusIngestionPer10MSamples;
    const restNodeHours = (sys.minCount + train.minCount) * hours;
    lines.push({
      item: "monitoring workspace",
      detail: `managed Prometheus: ${seriesPerNode} series per node every ${ADDON_SCRAPE_SECONDS} s`,
      atRest: restNodeHours * perNodeHour,
      withSchedule: (restNodeHours + trainingNodeHours) * perNodeHour,
      atMaximum: (sys.maxCount + train.maxCount) * hours * perNodeHour,
    });
  }
  const sum = (k: "atRest" | "withSchedule" | "atMaximum") =>
    lines.reduce((total, line) => total + line[k], 0);
  return {
    region,
    currency: table.currency,
    takenOn: table.takenOn,
    retrievedBy: table.retrievedBy,
    runsPerMonth,
    nodeMinutesPerRun,
    lines,
    total: {
      atRest: sum("atRest"),
      withSchedule: sum("withSchedule"),
      atMaximum: sum("atMaximum"),
    },
    assumptions: [
      `${hours} hours a month; schedule "${config.training.schedule}"${config.training.suspend ? " (suspended)" : ""} counted over ${REFERENCE_YEAR}`,
      `a run: ${provisionMinutes} min provisioning + ${jobMinutes} min job` +
        `${options.jobMinutes === undefined ? " (training.expectedDurationMinutes)" : " (measured)"}` +
        ` + ${azure.scaleDownUnneededMinutes} min idle before removal (azure.scaleDownUnneededMinutes)`,
      "not counted: OS disks, load balancer rules, bandwidth, storage, the shared registry, Grafana, the ML workspace",
    ],
  };
}

/** The training pod must fit one training node, or no run ever starts. */
function checkFits(config: PlatformConfig, table: PriceTable): void {
  const pool = config.azure!.trainingPool;
  const size = vmSize(table, pool.vmSize, "azure.trainingPool.vmSize");
  const { cpuRequestMillis, memoryRequestMib } = config.training;
  if (cpuRequestMillis > size.vCpus * 1000) {
    throw new Error(
      `mlops:training.cpuRequestMillis: got ${cpuRequestMillis}; a ${pool.vmSize} node has ${size.vCpus} vCPUs: request less, or choose a larger azure.trainingPool.vmSize`,
    );
  }
  if (memoryRequestMib > size.memoryGiB * 1024) {
    throw new Error(
      `mlops:training.memoryRequestMib: got ${memoryRequestMib}; a ${pool.vmSize} node has ${size.memoryGiB} GiB: request less, or choose a larger azure.trainingPool.vmSize`,
    );
  }
}

// ---- the schedule: how many times a cron expression fires in a year ----

const SHORTHANDS: Readonly<Record<string, string>> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};
const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/** The values of one cron field within [min, max]: `*`, `n`, `a-b`, steps `/s`, lists, and
 * month or weekday names. */
export function cronField(
  field: string,
  min: number,
  max: number,
  names: readonly string[] = [],
  offset = 0,
): Set<number> {
  const value = (text: string): number => {
    const named = names.indexOf(text.toLowerCase());
    const n = named >= 0 ? named + offset : /^\d+$/.test(text) ? Number(text) : NaN;
    if (!(n >= min && n <= max)) {
      throw new Error(`cron field "${field}": "${text}" is not a value from ${min} to ${max}`);
    }
    return n;
  };
  const out = new Set<number>();
  for (const part of field.split(",")) {
    const [range, stepText] = part.split("/");
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) {
      throw new Error(`cron field "${field}": step "${stepText}" is not a whole number ≥ 1`);
    }
    let [from, to] = [min, max];
    if (range !== "*" && range !== "?") {
      const [a, b] = range.split("-");
      from = value(a);
      to = b === undefined ? (stepText === undefined ? from : max) : value(b);
    }
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

/** How many times `schedule` (five fields or a shorthand, as Kubernetes CronJobs take it) fires
 * in `year`, in UTC. A restricted day of month and day of week match either (cron's rule). */
export function cronRunsInYear(schedule: string, year: number): number {
  const fields = (SHORTHANDS[schedule.trim()] ?? schedule).trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new Error(
      `mlops:training.schedule: got "${schedule}"; use five fields (minute hour day month weekday) or @daily/@weekly/...`,
    );
  }
  const [minute, hour, dom, month, dow] = fields;
  const perDay = cronField(minute, 0, 59).size * cronField(hour, 0, 23).size;
  const days = cronField(dom, 1, 31);
  const months = cronField(month, 1, 12, MONTHS, 1);
  const weekdays = cronField(dow, 0, 7, DAYS);
  if (weekdays.has(7)) weekdays.add(0);
  const domAny = dom.startsWith("*") || dom.startsWith("?");
  const dowAny = dow.startsWith("*") || dow.startsWith("?");
  let runs = 0;
  for (let d = new Date(Date.UTC(year, 0, 1)); d.getUTCFullYear() === year;) {
    const byDom = days.has(d.getUTCDate());
    const byDow = weekdays.has(d.getUTCDay());
    const dayMatches = domAny || dowAny ? byDom && byDow : byDom || byDow;
    if (months.has(d.getUTCMonth() + 1) && dayMatches) runs += perDay;
    d = new Date(d.getTime() + 86_400_000);
  }
  return runs;
}

/** `1,234.50`: an amount of the table's currency, two decimals, thousands separated. */
export function amount(n: number): string {
  return n.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
