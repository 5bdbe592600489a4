import { runCli } from "./cli";

try {
  process.exitCode = runCli(process.argv.slice(2), process.env, {
    out: (line) => process.stdout.write(line + "\n"),
    err: (line) => process.stderr.write(line + "\n"),
  });
} catch (e) {
  process.stderr.write(`train: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
}
