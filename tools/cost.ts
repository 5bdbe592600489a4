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
import { PRICE_TABLE, PriceTable } from "../infra/azure/prices";
import { parseConfig } from "../infra/config";
import {
  amount,
  costReport,
  CostReport,
  DEFAULT_PROVISION_MINUTES,
  DEFAULT_SERIES_PER_NODE,
} from "./cost-model";
import { argsOrExitCode, parseCli, UsageError, type Write } from "./cli";
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

const NUMBER_FLAGS = ["job-minutes", "provision-minutes", "series-per-node"] as const;

export interface CostArgs {
  readonly stack: string;
  readonly numbers: Partial<Record<(typeof NUMBER_FLAGS)[number], number>>;
}

/** Parses argv; throws a UsageError on anything unexpected. */
export function parseCostArgs(argv: readonly string[]): CostArgs | "help" {
  const { values } = parseCli(argv, {
    options: {
      stack: { type: "string" },
      "job-minutes": { type: "string" },
      "provision-minutes": { type: "string" },
      "series-per-node": { type: "string" },
    },
  });
  if (values.help) return "help";
  const stack = values.stack;
  if (stack === undefined) throw new UsageError("--stack is required");
  const numbers: CostArgs["numbers"] = {};
  for (const flag of NUMBER_FLAGS) {
    const text = values[flag];
    if (text === undefined) continue;
    if (!POSITIVE.test(text) || Number(text) <= 0) {
      throw new UsageError(`--${flag}: got ${JSON.stringify(text)}; expected a number above 0`);
    }
    numbers[flag] = Number(text);
  }
  return { stack, numbers };
}

/** Runs the CLI; returns the exit code. */
export function main(
  argv: readonly string[],
  stdout: Write,
  stderr: Write,
  table: PriceTable = PRICE_TABLE,
  root?: string,
): number {
  const args = argsOrExitCode({ name: "cost", usage: USAGE, stdout, stderr }, () =>
    parseCostArgs(argv),
  );
  if (typeof args === "number") return args;
  const { stack, numbers } = args;
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
