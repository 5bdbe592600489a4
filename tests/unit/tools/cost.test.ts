/**
 * tools/cost-model.ts and the `npm run cost` CLI on a price table of round numbers (so each
 * figure can be worked out by hand, and a refreshed repository table changes no expectation).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { checkPriceTable, PRICE_TABLE } from "../../../infra/azure/prices";
import { parseConfig, type RawConfig } from "../../../infra/config";
import { amount, costReport, cronField, cronRunsInYear } from "../../../tools/cost-model";
import { main } from "../../../tools/cost";
import { readStackFile } from "../../../tools/stack-file";
import { TEST_PRICE_TABLE } from "../../support/prices";

const TABLE = TEST_PRICE_TABLE;

/** dev's stack file with `mlops:` keys replaced. */
const dev = (overrides: RawConfig = {}) =>
  parseConfig({ ...readStackFile("dev"), ...overrides } as RawConfig);
const devAzure = readStackFile("dev").azure as Record<string, unknown>;
const training = readStackFile("dev").training as Record<string, unknown>;
const line = (report: ReturnType<typeof costReport>, item: string) =>
  report.lines.find((l) => l.item === item);

describe("cronRunsInYear: how often the training schedule fires in 2027 (365 days, starts on a Friday)", () => {
  it.each([
    ["0 3 * * *", 365],
    ["0 3 * * 0", 52],
    ["0 3 * * 7", 52],
    ["@weekly", 52],
    ["@daily", 365],
    ["@hourly", 8760],
    ["@monthly", 12],
    ["*/15 * * * *", 96 * 365],
    ["0 0,12 1-7 * *", 2 * 7 * 12],
    // A restricted day of month and day of week match either: 12 firsts + 52 Mondays - 3 both.
    ["0 0 1 * 1", 61],
    ["0 12 * JAN,jul MON-FRI", 43],
  ])("%s fires %d times", (schedule, runs) => {
    expect(cronRunsInYear(schedule, 2027)).toBe(runs);
  });

  it("refuses what is not a cron expression, naming the field", () => {
    expect(() => cronRunsInYear("0 3 * *", 2027)).toThrow(
      'mlops:training.schedule: got "0 3 * *"; use five fields (minute hour day month weekday) or @daily/@weekly/...',
    );
    expect(() => cronField("61", 0, 59)).toThrow(
      'cron field "61": "61" is not a value from 0 to 59',
    );
    expect(() => cronField("*/0", 0, 59)).toThrow(
      'cron field "*/0": step "0" is not a whole number ≥ 1',
    );
  });
});

describe("costReport: dev with a 10-minute run", () => {
  const report = costReport(dev({ training: { ...training, expectedDurationMinutes: 10 } }), TABLE);
  // 365 runs / 12 months; a node lives 4 min provisioning + 10 min run + 5 min idle = 19 min.
  const trainingNodeHours = ((365 / 12) * 19) / 60;

  it("prices the system pool at its minimum at rest and its maximum at maximum", () => {
    expect(line(report, "system pool")).toEqual({
      item: "system pool",
      detail: "1–3 × Standard_D4s_v5",
      atRest: 1 * 0.2 * 730,
      withSchedule: 1 * 0.2 * 730,
      atMaximum: 3 * 0.2 * 730,
    });
  });

  it("costs nothing for the training pool at rest, one node per run with the schedule", () => {
    expect(report.runsPerMonth).toBeCloseTo(365 / 12, 10);
    expect(report.nodeMinutesPerRun).toBe(19);
    const pool = line(report, "training pool")!;
    expect(pool.atRest).toBe(0);
    expect(pool.withSchedule).toBeCloseTo(trainingNodeHours * 0.5, 10);
    expect(pool.withSchedule).toBeCloseTo(4.815972222, 8);
    expect(pool.atMaximum).toBeCloseTo(2 * 0.5 * 730, 10);
    expect(pool.detail).toBe("0–2 × Standard_D8s_v5; 30.42 runs a month × 19 node-minutes");
  });

  it("adds the Free tier, the Gateway's public IP and the workspace's samples", () => {
    expect(line(report, "AKS tier")).toMatchObject({ atRest: 0, atMaximum: 0, detail: "Free" });
    expect(line(report, "Gateway public IP")).toMatchObject({ atRest: 7.3, withSchedule: 7.3 });
    // 1000 series every 30 s = 120,000 samples a node-hour = $0.0024 at $0.20 per 10 M.
    const workspace = line(report, "monitoring workspace")!;
    expect(workspace.atRest).toBeCloseTo(730 * 0.0024, 10);
    expect(workspace.withSchedule).toBeCloseTo((730 + trainingNodeHours) * 0.0024, 10);
    expect(workspace.atMaximum).toBeCloseTo(5 * 730 * 0.0024, 10);
  });

  it("totals each column", () => {
    expect(report.total.atRest).toBeCloseTo(146 + 0 + 0 + 7.3 + 1.752, 10);
    expect(report.total.withSchedule).toBeCloseTo(
      146 + trainingNodeHours * 0.5 + 7.3 + (730 + trainingNodeHours) * 0.0024,
      10,
    );
    expect(report.total.atMaximum).toBeCloseTo(438 + 730 + 7.3 + 8.76, 10);
  });
});

describe("costReport: what changes the figures", () => {
  it("a measured run time replaces training.expectedDurationMinutes", () => {
    const report = costReport(dev(), TABLE, { jobMinutes: 1, provisionMinutes: 2 });
    expect(report.nodeMinutesPerRun).toBe(2 + 1 + 5);
    expect(report.assumptions[1]).toBe(
      "a run: 2 min provisioning + 1 min job (measured) + 5 min idle before removal (azure.scaleDownUnneededMinutes)",
    );
  });

  it("without a configured duration a run lasts its whole activeDeadlineSeconds, rounded up", () => {
    const report = costReport(
      dev({ training: { ...training, activeDeadlineSeconds: 1801 } }),
      TABLE,
    );
    expect(report.nodeMinutesPerRun).toBe(4 + 31 + 5);
  });

  it("a longer scale-down delay keeps each training node longer", () => {
    const fast = costReport(dev(), TABLE).lines[1].withSchedule;
    const slow = costReport(dev({ azure: { ...devAzure, scaleDownUnneededMinutes: 35 } }), TABLE)
      .lines[1].withSchedule;
    // 30 more node-minutes on each of 365/12 runs at $0.50 an hour.
    expect(slow - fast).toBeCloseTo(((365 / 12) * 30 * 0.5) / 60, 10);
  });

  it("a suspended CronJob never runs: the schedule adds nothing", () => {
    const report = costReport(dev({ training: { ...training, suspend: true } }), TABLE);
    expect(report.runsPerMonth).toBe(0);
    expect(report.lines[1].withSchedule).toBe(0);
  });

  it("prod's Standard tier costs $0.10 an hour", () => {
    const prod = parseConfig({
      ...readStackFile("dev"),
      azure: { ...devAzure, tier: "Standard" },
    } as RawConfig);
    expect(line(costReport(prod, TABLE), "AKS tier")).toMatchObject({ atRest: 73, atMaximum: 73 });
  });

  it("no Gateway, no public IP; no managed Prometheus, no workspace", () => {
    const report = costReport(
      dev({
        ingress: {
          ...(readStackFile("dev").ingress as object),
          api: "ingress",
          className: "nginx",
          controllerNamespace: "ingress-nginx",
        },
        monitoring: { scraper: "none" },
      }),
      TABLE,
    );
    expect(report.lines.map((l) => l.item)).toEqual(["system pool", "training pool", "AKS tier"]);
  });
});

describe("costReport refuses what it cannot price, naming the key and what the table has", () => {
  it("a region the table lacks", () => {
    expect(() =>
      costReport(dev({ azure: { ...devAzure, location: "swedencentral" } }), TABLE),
    ).toThrow(
      'mlops:azure.location: no prices for region "swedencentral" in the price table of 2026-01-02; it has westeurope (add the region to infra/azure/price-table.json and run npm run cost:prices)',
    );
  });

  it("a VM size the table lacks", () => {
    const azure = {
      ...devAzure,
      trainingPool: { vmSize: "Standard_NC6s_v3", minCount: 0, maxCount: 2 },
    };
    expect(() => costReport(dev({ azure }), TABLE)).toThrow(
      'mlops:azure.trainingPool.vmSize: no price for VM size "Standard_NC6s_v3" in westeurope in the price table of 2026-01-02; it has Standard_D4s_v5, Standard_D8s_v5, Standard_D16s_v5 (add the size to infra/azure/price-table.json and run npm run cost:prices)',
    );
  });

  it("a training pod no training node can hold", () => {
    expect(() =>
      costReport(dev({ training: { ...training, cpuRequestMillis: 8001 } }), TABLE),
    ).toThrow(
      "mlops:training.cpuRequestMillis: got 8001; a Standard_D8s_v5 node has 8 vCPUs: request less, or choose a larger azure.trainingPool.vmSize",
    );
    expect(() =>
      costReport(dev({ training: { ...training, memoryRequestMib: 32 * 1024 + 1 } }), TABLE),
    ).toThrow(
      "mlops:training.memoryRequestMib: got 32769; a Standard_D8s_v5 node has 32 GiB: request less, or choose a larger azure.trainingPool.vmSize",
    );
  });

  it("a local stack", () => {
    expect(() => costReport(parseConfig(readStackFile("local")), TABLE)).toThrow(
      'mlops:target is "local": only an Azure stack has a cloud cost',
    );
  });
});

describe("checkPriceTable", () => {
  it("accepts the repository's table, which prices every size and region the stacks use", () => {
    expect(PRICE_TABLE.takenOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const stack of ["dev", "prod"]) {
      expect(() => costReport(parseConfig(readStackFile(stack)), PRICE_TABLE)).not.toThrow();
    }
  });

  it("refuses a price that is not a number, and a size without its vCPUs and memory", () => {
    const bad = JSON.parse(JSON.stringify(TABLE));
    bad.regions.westeurope.vmHourly.Standard_D4s_v5 = "0.2";
    expect(() => checkPriceTable(bad)).toThrow(
      'infra/azure/price-table.json: regions.westeurope.vmHourly.Standard_D4s_v5: expected a price ≥ 0, got "0.2"',
    );
    const unsized = JSON.parse(JSON.stringify(TABLE));
    unsized.regions.westeurope.vmHourly.Standard_E4s_v5 = 0.3;
    expect(() => checkPriceTable(unsized)).toThrow(
      "infra/azure/price-table.json: regions.westeurope.vmHourly.Standard_E4s_v5: not in vmSizes",
    );
  });
});

describe("npm run cost", () => {
  function run(argv: string[]) {
    let out = "";
    let err = "";
    const code = main(
      argv,
      (t) => (out += t),
      (t) => (err += t),
      TABLE,
    );
    return { code, out, err };
  }

  it("prints dev's table with the price table's date, and exits 0", () => {
    const r = run(["--stack", "dev", "--job-minutes", "10"]);
    expect(r).toMatchObject({ code: 0, err: "" });
    const lines = r.out.split("\n");
    expect(lines[0]).toBe(
      "Monthly cost of stack dev in westeurope, USD, list prices of 2026-01-02 (from Azure's retail prices API):",
    );
    expect(lines[2]).toBe("item                  at rest  with schedule  at maximum  what");
    expect(lines[3]).toBe(
      "system pool            146.00         146.00      438.00  1–3 × Standard_D4s_v5",
    );
    expect(r.out).toContain("\ntotal                  155.05         159.89    1,184.06\n");
  });

  it("says a local stack has no cloud cost", () => {
    expect(run(["--stack", "local"])).toEqual({
      code: 0,
      out: 'Stack local targets a local Kubernetes cluster (mlops:target is "local"): it has no cloud cost.\n',
      err: "",
    });
  });

  it("says where a hand-entered table comes from", () => {
    let out = "";
    main(
      ["--stack", "prod"],
      (t) => (out += t),
      () => undefined,
      { ...TABLE, retrievedBy: "hand" },
    );
    expect(out.split("\n")[0]).toBe(
      "Monthly cost of stack prod in westeurope, USD, list prices of 2026-01-02 (entered by hand; refresh with npm run cost:prices):",
    );
  });

  it("exits 2 on bad usage, 1 on an unknown stack", () => {
    expect(run([])).toMatchObject({
      code: 2,
      err: expect.stringContaining("cost: --stack is required\nusage:"),
    });
    expect(run(["--stack", "dev", "--job-minutes", "ten"])).toMatchObject({
      code: 2,
      err: expect.stringContaining('cost: --job-minutes: got "ten"; expected a number above 0'),
    });
    expect(run(["--stak", "dev"]).code).toBe(2);
    expect(run(["--stack", "staging"])).toMatchObject({
      code: 1,
      err: expect.stringMatching(
        /^cost: no stack file .*Pulumi\.staging\.yaml; stacks here: dev, local, prod\n$/,
      ),
    });
  });

  it("--help prints the usage and exits 0", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: npm run cost -- --stack <local\|dev\|prod> \[options\]\n/);
  });
});

describe("README", () => {
  it("says the table's date and the figures npm run cost prints with it", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "..", "..", "README.md"), "utf8");
    expect(readme).toContain(`**taken on ${PRICE_TABLE.takenOn} and entered by hand**`);
    const money = (n: number) => `$${amount(n)}`;
    for (const stack of ["dev", "prod"]) {
      const { total } = costReport(parseConfig(readStackFile(stack)), PRICE_TABLE);
      expect(readme).toMatch(
        new RegExp(
          `\\| \`${stack}\` \\([^)]*\\) \\| \\${money(total.atRest)} \\| \\${money(total.withSchedule)} \\| \\${money(total.atMaximum)} \\|`,
        ),
      );
    }
  });
});
