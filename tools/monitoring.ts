/**
 * `npm run monitoring [-- --stack local|dev|prod] [--out DIR] [--kubeconfig FILE]`: writes a
 * stack's monitoring as files (prometheus.yml, rules.yml, dashboard.json) through the same config
 * validation and the same rule source as `pulumi up`, for a Prometheus no operator manages, for
 * promtool, and for importing the dashboard into Grafana (docs/monitoring.md).
 */
import * as fs from "fs";
import * as path from "path";
import { parseConfig } from "../infra/config";
import { monitoringFiles } from "../infra/monitoring/files";
import { argsOrExitCode, parseCli, toStderr, toStdout } from "./cli";
import { readStackFile, REPO_ROOT } from "./stack-file";

export const USAGE =
  "usage: npm run monitoring -- [--stack local|dev|prod] [--out DIR] [--kubeconfig FILE]";

/** Writes the files of `stack` into `out`; returns their paths. */
export function writeMonitoringFiles(
  stack: string,
  out: string,
  kubeconfigFile?: string,
  root = REPO_ROOT,
): string[] {
  const files = monitoringFiles(parseConfig(readStackFile(stack, root)), stack, {
    kubeconfigFile,
  });
  fs.mkdirSync(out, { recursive: true });
  return Object.entries(files).map(([name, text]) => {
    const file = path.join(out, name);
    fs.writeFileSync(file, text);
    return file;
  });
}

export interface MonitoringArgs {
  readonly stack: string;
  readonly out: string;
  /** The kubeconfig file prometheus.yml names for Kubernetes discovery. */
  readonly kubeconfig?: string;
}

/** Parses argv; throws a UsageError on anything unexpected. */
export function parseMonitoringArgs(argv: readonly string[]): MonitoringArgs | "help" {
  const { values } = parseCli(argv, {
    options: {
      stack: { type: "string", default: "local" },
      out: { type: "string" },
      kubeconfig: { type: "string" },
    },
  });
  if (values.help) return "help";
  const { stack } = values;
  return {
    stack,
    out: path.resolve(values.out ?? path.join(REPO_ROOT, "synth", `monitoring-${stack}`)),
    kubeconfig: values.kubeconfig && path.resolve(values.kubeconfig),
  };
}

/** Runs the CLI; returns the exit code. */
export function main(argv: readonly string[], stdout = toStdout, stderr = toStderr): number {
  const args = argsOrExitCode({ name: "monitoring", usage: USAGE, stdout, stderr }, () =>
    parseMonitoringArgs(argv),
  );
  if (typeof args === "number") return args;
  try {
    for (const file of writeMonitoringFiles(args.stack, args.out, args.kubeconfig)) {
      stdout(`monitoring: wrote ${path.relative(process.cwd(), file)}\n`);
    }
    return 0;
  } catch (err) {
    stderr(`monitoring: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
