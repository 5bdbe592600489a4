/**
 * tools/prices.ts (`npm run cost:prices`) against answers shaped as Azure's retail prices API
 * documents them (Items, NextPageLink), served by a stand-in for the network.
 */
import { PRICE_TABLE } from "../../../infra/azure/prices";
import {
  fetchItems,
  main,
  PriceApiError,
  type PriceItem,
  queryUrl,
  refreshTable,
  stackNeeds,
  unitCount,
  vmPrice,
} from "../../../tools/prices";

const item = (fields: Partial<PriceItem>): PriceItem => ({
  currencyCode: "USD",
  retailPrice: 1,
  armRegionName: "westeurope",
  serviceName: "Virtual Machines",
  productName: "Virtual Machines Dsv5 Series",
  skuName: "D4s v5",
  meterName: "D4s v5",
  unitOfMeasure: "1 Hour",
  type: "Consumption",
  ...fields,
});

/** Answers by the filter of the URL; a NextPageLink for `paged` filters. */
function api(byFilter: (filter: string) => PriceItem[]) {
  const urls: string[] = [];
  const fetchJson = async (url: string) => {
    urls.push(url);
    const u = new URL(url);
    if (u.searchParams.get("page") === "2") return { Items: [], NextPageLink: null };
    const items = byFilter(u.searchParams.get("$filter") ?? "");
    return {
      BillingCurrency: "USD",
      Items: items,
      NextPageLink: null,
      Count: items.length,
    };
  };
  return { fetchJson, urls };
}

const D4 = "Standard_D4s_v5";
const vmItems = (sku: string, price: number): PriceItem[] => [
  item({ armSkuName: sku, retailPrice: price }),
  item({
    armSkuName: sku,
    retailPrice: price * 2,
    productName: "Virtual Machines Dsv5 Series Windows",
  }),
  item({ armSkuName: sku, retailPrice: price / 5, skuName: "D4s v5 Spot" }),
  item({ armSkuName: sku, retailPrice: price / 4, skuName: "D4s v5 Low Priority" }),
  item({ armSkuName: sku, retailPrice: price * 9, type: "Reservation", unitOfMeasure: "1 Hour" }),
];

function azureApi() {
  return api((filter) => {
    const sku = /armSkuName eq '([^']+)'/.exec(filter)?.[1];
    if (sku)
      return vmItems(
        sku,
        { Standard_D4s_v5: 0.21, Standard_D8s_v5: 0.42, Standard_D16s_v5: 0.84 }[sku] ?? 0,
      );
    if (filter.includes("'Azure Kubernetes Service'"))
      return [
        item({
          serviceName: "Azure Kubernetes Service",
          skuName: "Standard",
          meterName: "Standard Uptime SLA",
          retailPrice: 0.1,
        }),
        item({
          serviceName: "Azure Kubernetes Service",
          skuName: "Premium",
          meterName: "Premium Uptime SLA",
          retailPrice: 0.6,
        }),
      ];
    if (filter.includes("'IP Addresses'"))
      return [
        item({
          serviceName: "Virtual Network",
          productName: "IP Addresses",
          meterName: "Standard IPv4 Static Public IP",
          retailPrice: 0.005,
        }),
        item({
          serviceName: "Virtual Network",
          productName: "IP Addresses",
          meterName: "Basic IPv4 Dynamic Public IP",
          retailPrice: 0.004,
        }),
      ];
    if (filter.includes("'Azure Monitor'"))
      return [
        item({
          serviceName: "Azure Monitor",
          meterName: "Prometheus Metrics Ingestion",
          unitOfMeasure: "10M",
          retailPrice: 0.16,
        }),
        item({
          serviceName: "Azure Monitor",
          meterName: "Prometheus Metrics Queries",
          unitOfMeasure: "10M",
          retailPrice: 0.001,
        }),
      ];
    return [];
  });
}

describe("the queries and the paging", () => {
  it("asks the documented endpoint with an OData filter and follows NextPageLink to the end", async () => {
    const pages: Record<string, unknown> = {
      first: { Items: [item({ retailPrice: 1 })], NextPageLink: "https://prices.example/p2" },
      "https://prices.example/p2": { Items: [item({ retailPrice: 2 })], NextPageLink: null },
    };
    const urls: string[] = [];
    const items = await fetchItems(async (url) => {
      urls.push(url);
      return pages[url.startsWith("https://prices.azure.com/") ? "first" : url];
    }, "serviceName eq 'Virtual Machines'");
    expect(items.map((i) => i.retailPrice)).toEqual([1, 2]);
    expect(urls).toEqual([
      "https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview&$filter=serviceName%20eq%20'Virtual%20Machines'",
      "https://prices.example/p2",
    ]);
    expect(queryUrl("a eq 'b'")).toBe(urls[0].replace(/\$filter=.*/, "$filter=a%20eq%20'b'"));
  });

  it("an answer without Items is not the prices API", async () => {
    await expect(fetchItems(async () => ({ error: "nope" }), "x")).rejects.toThrow(
      new PriceApiError(
        `the answer to ${queryUrl("x")} has no Items list: not the retail prices API`,
      ),
    );
  });

  it("offline: names the API and the network's reason", async () => {
    await expect(
      fetchItems(async () => {
        throw new Error("fetch failed: ENOTFOUND");
      }, "x"),
    ).rejects.toThrow(
      new PriceApiError(
        `cannot reach Azure's retail prices API (${queryUrl("x")}): fetch failed: ENOTFOUND`,
      ),
    );
  });
});

describe("choosing a price", () => {
  it("a VM's price is Linux pay-as-you-go: not Windows, Spot, Low Priority or a reservation", () => {
    expect(vmPrice(vmItems(D4, 0.21), D4, "westeurope")).toBe(0.21);
  });

  it("two candidate prices are an error that lists them", () => {
    const items = [
      item({ armSkuName: D4, retailPrice: 0.21 }),
      item({ armSkuName: D4, retailPrice: 0.25, meterName: "D4s v5 other" }),
    ];
    expect(() => vmPrice(items, D4, "westeurope")).toThrow(
      "2 different prices for VM size Standard_D4s_v5 (Linux, pay as you go) in westeurope: Virtual Machines Dsv5 Series / D4s v5 / D4s v5: 0.21 per 1 Hour; Virtual Machines Dsv5 Series / D4s v5 / D4s v5 other: 0.25 per 1 Hour",
    );
    expect(() => vmPrice([], D4, "westeurope")).toThrow(
      "no price for VM size Standard_D4s_v5 (Linux, pay as you go) in westeurope",
    );
  });

  it.each([
    ["1 Hour", 1],
    ["10M", 1e7],
    ["1K", 1e3],
    ["1/Month", 1],
  ])("unit %s counts %d", (unit, n) => expect(unitCount(unit)).toBe(n));
});

describe("refreshTable", () => {
  it("writes every region and size of the table and the stacks, dated, from the API", async () => {
    const { fetchJson, urls } = azureApi();
    const table = await refreshTable(
      PRICE_TABLE,
      stackNeeds(["dev", "prod", "local"]),
      fetchJson,
      "2027-03-04",
    );
    expect(table).toEqual({
      takenOn: "2027-03-04",
      source:
        "Azure retail prices API (https://prices.azure.com/api/retail/prices, api-version 2023-01-01-preview), priceType Consumption, Linux pay as you go",
      retrievedBy: "api",
      currency: "USD",
      hoursPerMonth: 730,
      vmSizes: PRICE_TABLE.vmSizes,
      regions: {
        westeurope: {
          vmHourly: { Standard_D16s_v5: 0.84, Standard_D4s_v5: 0.21, Standard_D8s_v5: 0.42 },
          aksTierHourly: { Free: 0, Standard: 0.1, Premium: 0.6 },
          publicIpv4StaticHourly: 0.005,
          prometheusIngestionPer10MSamples: 0.16,
        },
      },
    });
    expect(urls).toHaveLength(3 + 3);
  });

  it("a size without its vCPUs and memory must be described first", async () => {
    const { fetchJson, urls } = azureApi();
    await expect(
      refreshTable(
        PRICE_TABLE,
        { regions: [], vmSizes: ["Standard_E4s_v5"] },
        fetchJson,
        "2027-03-04",
      ),
    ).rejects.toThrow(
      "add vCpus and memoryGiB of Standard_E4s_v5 to vmSizes in infra/azure/price-table.json first",
    );
    expect(urls).toEqual([]);
  });
});

describe("npm run cost:prices", () => {
  async function run(argv: string[], fetchJson: (url: string) => Promise<unknown>) {
    let out = "";
    let err = "";
    const written: string[] = [];
    const code = await main(
      argv,
      (t) => (out += t),
      (t) => (err += t),
      fetchJson,
      (t) => written.push(t),
    );
    return { code, out, err, written };
  }

  it("offline: exits 1, says why and that the table is unchanged, writes nothing", async () => {
    const r = await run([], async () => {
      throw new Error("fetch failed: ENOTFOUND");
    });
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.written).toEqual([]);
    expect(r.err).toMatch(
      new RegExp(
        `^cost:prices: cannot reach Azure's retail prices API \\(.*\\): fetch failed: ENOTFOUND; infra/azure/price-table.json is unchanged \\(prices of ${PRICE_TABLE.takenOn}\\)\\n$`,
      ),
    );
  });

  it("online: writes the new table (or prints it with --dry-run)", async () => {
    const written = await run([], azureApi().fetchJson);
    expect(written.code).toBe(0);
    expect(JSON.parse(written.written[0])).toMatchObject({ retrievedBy: "api" });
    const dry = await run(["--dry-run"], azureApi().fetchJson);
    expect(dry.written).toEqual([]);
    expect(JSON.parse(dry.out).regions.westeurope.vmHourly.Standard_D4s_v5).toBe(0.21);
  });

  it("exits 2 on an unknown flag", async () => {
    const r = await run(["--offline"], azureApi().fetchJson);
    expect(r.code).toBe(2);
    expect(r.err).toContain("usage: npm run cost:prices [-- --dry-run]");
  });
});
