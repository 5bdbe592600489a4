/**
 * The dated Azure price table (infra/azure/price-table.json) and the lookups the cost report, the PR
 * summary and the Karpenter NodePool use. Pure: a missing region or VM size is an error that names
 * the key asked for and what the table has.
 *
 * The table is written by `npm run cost:prices` (tools/prices.ts) from Azure's retail prices API,
 * or by hand where that API cannot be reached (`retrievedBy: "hand"`; the report says so).
 */
import TABLE from "./price-table.json";
import type { AksTier } from "../config";

/** vCPUs and memory of a VM size (Azure's size documentation; the retail API does not carry them). */
export interface VmSize {
  readonly vCpus: number;
  readonly memoryGiB: number;
}

/** List prices of one region, in the table's currency. */
export interface RegionPrices {
  /** VM size -> price of one node-hour (Linux, pay as you go). */
  readonly vmHourly: Readonly<Record<string, number>>;
  /** AKS pricing tier -> price of one cluster-hour (Free: 0). */
  readonly aksTierHourly: Readonly<Record<AksTier, number>>;
  /** One Standard static IPv4 public IP, per hour (the Gateway's LoadBalancer Service). */
  readonly publicIpv4StaticHourly: number;
  /** Azure Monitor workspace (managed Prometheus): ingestion of 10 million samples. */
  readonly prometheusIngestionPer10MSamples: number;
}

export interface PriceTable {
  /** The day the prices were taken (YYYY-MM-DD). */
  readonly takenOn: string;
  /** Where they were taken from. */
  readonly source: string;
  /** `api`: written by `npm run cost:prices`; `hand`: typed in, to be refreshed. */
  readonly retrievedBy: "api" | "hand";
  readonly currency: string;
  /** Hours in a billed month (Azure's calculator uses 730). */
  readonly hoursPerMonth: number;
  readonly vmSizes: Readonly<Record<string, VmSize>>;
  readonly regions: Readonly<Record<string, RegionPrices>>;
}

/** The table in the repository. */
export const PRICE_TABLE: PriceTable = checkPriceTable(TABLE);

/** A price the table does not have: names the key and what the table holds instead. */
export class PriceLookupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PriceLookupError";
  }
}

/** The prices of `region`. */
export function regionPrices(table: PriceTable, region: string): RegionPrices {
  const prices = table.regions[region];
  if (prices === undefined) {
    throw new PriceLookupError(
      `mlops:azure.location: no prices for region "${region}" in the price table of ${table.takenOn}; ` +
        `it has ${list(Object.keys(table.regions))} (add the region to infra/azure/price-table.json and run npm run cost:prices)`,
    );
  }
  return prices;
}

/** The price of one node-hour of `vmSize` in `region`; `key` is the config key that chose it. */
export function vmHourly(table: PriceTable, region: string, vmSize: string, key: string): number {
  const prices = regionPrices(table, region);
  const price = prices.vmHourly[vmSize];
  if (price === undefined) {
    throw new PriceLookupError(
      `mlops:${key}: no price for VM size "${vmSize}" in ${region} in the price table of ${table.takenOn}; ` +
        `it has ${list(Object.keys(prices.vmHourly))} (add the size to infra/azure/price-table.json and run npm run cost:prices)`,
    );
  }
  return price;
}

/** vCPUs and memory of `vmSize`; `key` is the config key that chose it. */
export function vmSize(table: PriceTable, name: string, key: string): VmSize {
  const size = table.vmSizes[name];
  if (size === undefined) {
    throw new PriceLookupError(
      `mlops:${key}: VM size "${name}" is not in the price table's sizes; it has ${list(Object.keys(table.vmSizes))}`,
    );
  }
  return size;
}

/** Checks the shape of a price table (the repository's, or one the refresh script wrote). */
export function checkPriceTable(raw: unknown): PriceTable {
  const t = raw as PriceTable;
  const fail = (what: string): never => {
    throw new Error(`infra/azure/price-table.json: ${what}`);
  };
  if (typeof t !== "object" || t === null) fail("expected an object");
  if (!/^\d{4}-\d{2}-\d{2}$/.test(String(t.takenOn))) fail("takenOn: expected YYYY-MM-DD");
  if (typeof t.source !== "string" || t.source === "") fail("source: expected a text");
  if (t.retrievedBy !== "api" && t.retrievedBy !== "hand") fail("retrievedBy: allowed: api, hand");
  if (!(t.hoursPerMonth > 0)) fail("hoursPerMonth: expected a positive number");
  for (const [name, size] of Object.entries(t.vmSizes ?? {})) {
    if (!(size.vCpus > 0 && size.memoryGiB > 0))
      fail(`vmSizes.${name}: expected vCpus and memoryGiB`);
  }
  for (const [region, p] of Object.entries(t.regions ?? {})) {
    const prices: Array<[string, unknown]> = [
      ...Object.entries(p.vmHourly ?? {}).map(([k, v]): [string, unknown] => [`vmHourly.${k}`, v]),
      ...Object.entries(p.aksTierHourly ?? {}).map(([k, v]): [string, unknown] => [
        `aksTierHourly.${k}`,
        v,
      ]),
      ["publicIpv4StaticHourly", p.publicIpv4StaticHourly],
      ["prometheusIngestionPer10MSamples", p.prometheusIngestionPer10MSamples],
    ];
    for (const [key, value] of prices) {
      if (typeof value !== "number" || !(value >= 0)) {
        fail(`regions.${region}.${key}: expected a price ≥ 0, got ${JSON.stringify(value)}`);
      }
    }
    for (const size of Object.keys(p.vmHourly)) {
      if (t.vmSizes[size] === undefined) fail(`regions.${region}.vmHourly.${size}: not in vmSizes`);
    }
  }
  return t;
}

function list(keys: readonly string[]): string {
  return keys.length === 0 ? "none" : keys.join(", ");
}
