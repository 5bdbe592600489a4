/**
 * `npm run cost -- --stack <s> [--job-minutes N] [--provision-minutes N] [--series-per-node N]`:
 * the monthly cost of an Azure stack at rest, with its training schedule, and at maximum, per
 * pool, for the AKS tier, the Gateway's public IP and the monitoring workspace, from the stack
 * file (validated as `pulumi up` does) and the dated price table infra/azure/price-table.json
 * (tools/cost-model.ts does the arithmetic).
 *
 * Exit codes: 0 printed (a local stack prints that it has no cloud cost), 1 config or price table
 * problem, 2 bad usage.
 */
import { parseArgs } from "node:util";
import { PRICE_TABLE, PriceTable } from "../infra/azure/prices";
import { parseConfig } from "../infra/config";
import {
  amount,
  costReport,
  CostReport,
  DEFAULT_PROVISION_MINUTES,
  DEFAULT_SERIES_PER_NODE,
} from "./cost-model";
import { readStackFile } from "./stack-file";

export const USAGE = `usage: npm run cost -- --stack <local|dev|prod> [options]
  --stack <name>             the stack file Pulumi.<name>.yaml (required)
  --job-minutes <n>          a measured training run, in minutes (default: training.expectedDurationMinutes)
  --provision-minutes <n>    minutes from a node's creation to Ready (default: ${DEFAULT_PROVISION_MINUTES})
  --series-per-node <n>      Prometheus series per node (default: ${DEFAULT_SERIES_PER_NODE})
  -h, --help                 this text`;

/** The report as a text table. */
export function renderCost(stack: string, r: CostReport): string {
  const rows = [
    ["item", "at rest", "with schedule", "at maximum", "what"],
    ...r.lines.map((l) => [
      l.item,
      amount(l.atRest),
      amount(l.withSchedule),
      amount(l.atMaximum),
      l.detail,
    ]),
    ["total", amount(r.total.atRest), amount(r.total.withSchedule), amount(r.total.atMaximum), ""],
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((row) => row[c].length)));
  const table = rows.map((row) =>
    [row[0].padEnd(widths[0]), ...[1, 2, 3].map((c) => row[c].padStart(widths[c])), row[4]]
      .join("  ")
      .trimEnd(),
  );
  const origin =
    r.retrievedBy === "hand"
      ? "entered by hand; refresh with npm run cost:prices"
      : "from Azure's retail prices API";
  return [
    `Monthly cost of stack ${stack} in ${r.region}, ${r.currency}, list prices of ${r.takenOn} (${origin}):`,
    "",
    ...table,
    "",
    ...r.assumptions.map((a) => `- ${a}`),
    "",
  ].join("\n");
}

const POSITIVE = /^\d+(\.\d+)?$/;

/** Runs the CLI; returns the exit code. */
export function main(
  argv: readonly string[],
  stdout: (text: string) => void,
  stderr: (text: string) => void,
  table: PriceTable = PRICE_TABLE,
  root?: string,
): number {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        stack: { type: "string" },
        "job-minutes": { type: "string" },
        "provision-minutes": { type: "string" },
        "series-per-node": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (err) {
    stderr(`cost: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    stdout(`${USAGE}\n`);
    return 0;
  }
  const stack = values.stack;
  if (typeof stack !== "string" || stack === "") {
    stderr(`cost: --stack is required\n${USAGE}\n`);
    return 2;
  }
  const numbers: Record<string, number | undefined> = {};
  for (const flag of ["job-minutes", "provision-minutes", "series-per-node"]) {
    const text = values[flag];
    if (text === undefined) continue;
    if (typeof text !== "string" || !POSITIVE.test(text) || Number(text) <= 0) {
      stderr(`cost: --${flag}: got ${JSON.stringify(text)}; expected a number above 0\n${USAGE}\n`);
      return 2;
    }
    numbers[flag] = Number(text);
  }
  try {
    const config = parseConfig(readStackFile(stack, root));
    if (config.target !== "azure") {
      stdout(
        `Stack ${stack} targets a local Kubernetes cluster (mlops:target is "${config.target}"): it has no cloud cost.\n`,
      );
      return 0;
    }
    const report = costReport(config, table, {
      jobMinutes: numbers["job-minutes"],
      provisionMinutes: numbers["provision-minutes"],
      seriesPerNode: numbers["series-per-node"],
    });
    stdout(renderCost(stack, report));
    return 0;
  } catch (err) {
    stderr(`cost: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(
    process.argv.slice(2),
    (t) => process.stdout.write(t),
    (t) => process.stderr.write(t),
  );
}
