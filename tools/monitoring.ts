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
import { readStackFile, REPO_ROOT } from "./stack-file";

const USAGE =
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

function main(argv: string[]): number {
  const flags: Record<string, string> = { "--stack": "local" };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (!["--stack", "--out", "--kubeconfig"].includes(flag) || !value || value.startsWith("--")) {
      process.stderr.write(`monitoring: unexpected argument ${JSON.stringify(flag)}\n${USAGE}\n`);
      return 2;
    }
    flags[flag] = value;
  }
  const stack = flags["--stack"];
  const out = path.resolve(flags["--out"] ?? path.join(REPO_ROOT, "synth", `monitoring-${stack}`));
  try {
    const kubeconfig = flags["--kubeconfig"] && path.resolve(flags["--kubeconfig"]);
    for (const file of writeMonitoringFiles(stack, out, kubeconfig)) {
      process.stdout.write(`monitoring: wrote ${path.relative(process.cwd(), file)}\n`);
    }
    return 0;
  } catch (err) {
    process.stderr.write(`monitoring: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
