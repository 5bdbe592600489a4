/**
 * `npm run cost:prices [-- --dry-run]`: refreshes infra/azure/price-table.json from Azure's public
 * retail prices API (no account needed), for every region and VM size the table or an Azure stack
 * file names. Where the API cannot be reached it changes nothing and exits 1 saying so.
 *
 * The API (learn.microsoft.com, "Azure Retail Prices overview"): `GET <API>?$filter=<OData>`
 * answers `{ BillingCurrency, Items: [{ currencyCode, retailPrice, unitPrice, armRegionName,
 * armSkuName, serviceName, productName, skuName, meterName, unitOfMeasure, type,
 * effectiveStartDate, ... }], NextPageLink, Count }`, 100 items a page; `NextPageLink` is null on
 * the last page. Filter values are case-sensitive from api-version 2023-01-01-preview.
 *
 * Exit codes: 0 written (or printed with --dry-run), 1 the API unreachable or its answer not
 * understood, 2 bad usage.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { checkPriceTable, PRICE_TABLE, PriceTable, RegionPrices } from "../infra/azure/prices";
import { parseConfig } from "../infra/config";
import { argsOrExitCode, parseCli, type Write } from "./cli";
import { readStackFile, REPO_ROOT, stackNames } from "./stack-file";

export const API = "https://prices.azure.com/api/retail/prices";
export const API_VERSION = "2023-01-01-preview";
export const TABLE_FILE = path.join(REPO_ROOT, "infra", "azure", "price-table.json");
/** More pages than any of these filters returns: a loop of NextPageLinks stops here. */
const MAX_PAGES = 50;

/** One price item of the API's answer (the fields this script reads). */
export interface PriceItem {
  readonly currencyCode: string;
  readonly retailPrice: number;
  readonly armRegionName: string;
  readonly armSkuName?: string;
  readonly serviceName: string;
  readonly productName: string;
  readonly skuName: string;
  readonly meterName: string;
  readonly unitOfMeasure: string;
  readonly type: string;
}

/** Fetches one URL and returns its JSON; throws when the network or the server fails. */
export type FetchJson = (url: string) => Promise<unknown>;

/** The API cannot be reached, or its answer is not what the documentation describes. */
export class PriceApiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PriceApiError";
  }
}

/** The URL of the first page for an OData filter. */
export function queryUrl(filter: string): string {
  return `${API}?api-version=${API_VERSION}&$filter=${encodeURIComponent(filter)}`;
}

/** Every item of a filter, following NextPageLink. */
export async function fetchItems(fetchJson: FetchJson, filter: string): Promise<PriceItem[]> {
  const items: PriceItem[] = [];
  let url: string | null = queryUrl(filter);
  for (let page = 0; url !== null; page++) {
    if (page === MAX_PAGES) {
      throw new PriceApiError(`more than ${MAX_PAGES} pages for ${filter}: narrow the filter`);
    }
    let body: unknown;
    try {
      body = await fetchJson(url);
    } catch (err) {
      throw new PriceApiError(
        `cannot reach Azure's retail prices API (${url}): ${(err as Error).message}`,
      );
    }
    const b = body as { Items?: unknown; NextPageLink?: unknown };
    if (typeof b !== "object" || b === null || !Array.isArray(b.Items)) {
      throw new PriceApiError(`the answer to ${url} has no Items list: not the retail prices API`);
    }
    items.push(...(b.Items as PriceItem[]));
    url = typeof b.NextPageLink === "string" && b.NextPageLink !== "" ? b.NextPageLink : null;
  }
  return items;
}

/** Exactly one price among `items`, or an error listing what matched (so a person can choose). */
function onePrice(items: readonly PriceItem[], what: string): number {
  const prices = [...new Set(items.map((i) => i.retailPrice))];
  if (prices.length === 1 && typeof prices[0] === "number") return prices[0];
  const found = items.map(
    (i) =>
      `${i.productName} / ${i.skuName} / ${i.meterName}: ${i.retailPrice} per ${i.unitOfMeasure}`,
  );
  throw new PriceApiError(
    prices.length === 0
      ? `no price for ${what}`
      : `${prices.length} different prices for ${what}: ${found.join("; ")}`,
  );
}

/** The Linux pay-as-you-go hourly price of a VM size: not Windows, Spot or Low Priority. */
export function vmPrice(items: readonly PriceItem[], sku: string, region: string): number {
  return onePrice(
    items.filter(
      (i) =>
        i.armSkuName === sku &&
        i.armRegionName === region &&
        i.type === "Consumption" &&
        i.unitOfMeasure === "1 Hour" &&
        !/Windows|Cloud Services/.test(i.productName) &&
        !/Spot|Low Priority/.test(i.skuName),
    ),
    `VM size ${sku} (Linux, pay as you go) in ${region}`,
  );
}

/** `1 Hour`, `10M`, `1K`...: how many units one price is for. */
export function unitCount(unitOfMeasure: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMB]?)\b/.exec(unitOfMeasure.trim());
  if (!m) throw new PriceApiError(`unit of measure "${unitOfMeasure}" is not understood`);
  return Number(m[1]) * { "": 1, K: 1e3, M: 1e6, B: 1e9 }[m[2] as "" | "K" | "M" | "B"];
}

/** The prices of one region, from the API. */
export async function regionFromApi(
  fetchJson: FetchJson,
  region: string,
  vmSizes: readonly string[],
): Promise<RegionPrices> {
  const base = `armRegionName eq '${region}' and priceType eq 'Consumption'`;
  const vmHourly: Record<string, number> = {};
  for (const sku of vmSizes) {
    const items = await fetchItems(
      fetchJson,
      `serviceName eq 'Virtual Machines' and ${base} and armSkuName eq '${sku}'`,
    );
    vmHourly[sku] = vmPrice(items, sku, region);
  }
  const aks = await fetchItems(fetchJson, `serviceName eq 'Azure Kubernetes Service' and ${base}`);
  const tier = (name: string) =>
    onePrice(
      aks.filter((i) => i.skuName === name && i.unitOfMeasure === "1 Hour"),
      `the AKS ${name} tier in ${region}`,
    );
  const ips = await fetchItems(
    fetchJson,
    `serviceName eq 'Virtual Network' and productName eq 'IP Addresses' and ${base}`,
  );
  const monitor = await fetchItems(fetchJson, `serviceName eq 'Azure Monitor' and ${base}`);
  const ingestion = monitor.filter(
    (i) => /Prometheus/i.test(i.meterName) && /Ingest/i.test(i.meterName),
  );
  const per10M = ingestion.map((i) => ({
    ...i,
    retailPrice: (i.retailPrice / unitCount(i.unitOfMeasure)) * 1e7,
  }));
  return {
    vmHourly,
    aksTierHourly: { Free: 0, Standard: tier("Standard"), Premium: tier("Premium") },
    publicIpv4StaticHourly: onePrice(
      ips.filter((i) => i.meterName === "Standard IPv4 Static Public IP"),
      `a Standard static IPv4 public IP in ${region}`,
    ),
    prometheusIngestionPer10MSamples: onePrice(per10M, `managed Prometheus ingestion in ${region}`),
  };
}

/** A new table for the regions and sizes of `current` and `wanted`, taken from the API on `today`. */
export async function refreshTable(
  current: PriceTable,
  wanted: { regions: readonly string[]; vmSizes: readonly string[] },
  fetchJson: FetchJson,
  today: string,
): Promise<PriceTable> {
  const regions = [...new Set([...Object.keys(current.regions), ...wanted.regions])].sort();
  const sizes = [...new Set([...Object.keys(current.vmSizes), ...wanted.vmSizes])].sort();
  const missing = sizes.filter((s) => current.vmSizes[s] === undefined);
  if (missing.length > 0) {
    throw new PriceApiError(
      `add vCpus and memoryGiB of ${missing.join(", ")} to vmSizes in infra/azure/price-table.json first (Azure's size documentation; the prices API does not carry them)`,
    );
  }
  const prices: Record<string, RegionPrices> = {};
  for (const region of regions) prices[region] = await regionFromApi(fetchJson, region, sizes);
  return checkPriceTable({
    takenOn: today,
    source: `Azure retail prices API (${API}, api-version ${API_VERSION}), priceType Consumption, Linux pay as you go`,
    retrievedBy: "api",
    currency: "USD",
    hoursPerMonth: current.hoursPerMonth,
    vmSizes: Object.fromEntries(sizes.map((s) => [s, current.vmSizes[s]])),
    regions: prices,
  });
}

/** The regions and VM sizes the Azure stack files use. */
export function stackNeeds(stacks: readonly string[], root = REPO_ROOT) {
  const regions = new Set<string>();
  const vmSizes = new Set<string>();
  for (const stack of stacks) {
    const azure = parseConfig(readStackFile(stack, root)).azure;
    if (azure === undefined) continue;
    regions.add(azure.location);
    vmSizes.add(azure.systemPool.vmSize).add(azure.trainingPool.vmSize);
  }
  return { regions: [...regions], vmSizes: [...vmSizes] };
}

async function defaultFetchJson(url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    // Node's fetch says only "fetch failed"; the reason (DNS, refused, timeout) is its cause.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(
      cause ? `${(err as Error).message}: ${cause.code ?? cause.message}` : String(err),
    );
  }
  if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  return res.json();
}

export const USAGE = "usage: npm run cost:prices [-- --dry-run]";

/** Parses argv: whether to print the table instead of writing it. Throws a UsageError on
 * anything unexpected. */
export function parsePricesArgs(argv: readonly string[]): { readonly dryRun: boolean } | "help" {
  const { values } = parseCli(argv, {
    options: { "dry-run": { type: "boolean", default: false } },
  });
  return values.help ? "help" : { dryRun: values["dry-run"] };
}

/** Runs the CLI; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  stdout: Write,
  stderr: Write,
  fetchJson: FetchJson = defaultFetchJson,
  write: Write = (text) => fs.writeFileSync(TABLE_FILE, text),
): Promise<number> {
  const args = argsOrExitCode({ name: "cost:prices", usage: USAGE, stdout, stderr }, () =>
    parsePricesArgs(argv),
  );
  if (typeof args === "number") return args;
  const { dryRun } = args;
  try {
    const stacks = stackNames();
    const today = new Date().toISOString().slice(0, 10);
    const table = await refreshTable(PRICE_TABLE, stackNeeds(stacks), fetchJson, today);
    const text = JSON.stringify(table, null, 2) + "\n";
    if (dryRun) stdout(text);
    else {
      write(text);
      stdout(
        `cost:prices: wrote ${path.relative(process.cwd(), TABLE_FILE)} (prices of ${today})\n`,
      );
    }
    return 0;
  } catch (err) {
    stderr(
      `cost:prices: ${(err as Error).message}; infra/azure/price-table.json is unchanged (prices of ${PRICE_TABLE.takenOn})\n`,
    );
    return 1;
  }
}

if (require.main === module) {
  void main(
    process.argv.slice(2),
    (t) => process.stdout.write(t),
    (t) => process.stderr.write(t),
  ).then((code) => (process.exitCode = code));
}
