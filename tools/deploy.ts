/**
 * `npm run deploy -- <preview|up|destroy|outputs> [--stack local] [--policy-pack]`: runs this
 * project's program through the Pulumi Automation API with an inline program, so the Node process
 * serves the program itself and no `pulumi-language-nodejs` plugin is needed (the air-gapped
 * toolchain cannot build it). Config and state are the usual ones: Pulumi.yaml, Pulumi.<stack>.yaml,
 * and the backend of PULUMI_BACKEND_URL / `pulumi login`.
 *
 * `npm run up` / `npm run down` call this after preparing the toolchain and the cluster.
 */
import { LocalWorkspace, Stack, type EngineEvent } from "@pulumi/pulumi/automation";
import * as fs from "fs";
import * as path from "path";
import { loadConfig } from "../infra/config";
import { createPlatform } from "../stacks/platform";
import { argsOrExitCode, parseCli, toStderr, toStdout, UsageError } from "./cli";
import { ProgressView } from "./progress";
import { REPO_ROOT } from "./stack-file";

export const PROJECT = "mlops-platform";
const COMMANDS = ["preview", "up", "destroy", "outputs"] as const;
type Command = (typeof COMMANDS)[number];

export interface DeployArgs {
  command: Command;
  stack: string;
  /** Run the CrossGuard pack (policy/) with policy/config/<stack>.json on preview and up. */
  policyPack: boolean;
  /** Remove the stack (history and config in the backend) after a destroy. */
  remove: boolean;
  /** Print the engine's full output with each resource's diff, instead of one line per resource. */
  diff: boolean;
  /** After `up` or `outputs`, also write the outputs (JSON) to this file. */
  outputsFile?: string;
}

export const USAGE =
  "usage: npm run deploy -- <preview|up|destroy|outputs> [--stack <name>] [--policy-pack] [--remove] [--diff] [--outputs-file <path>]";

/** Parses argv; throws a UsageError on anything unexpected. */
export function parseDeployArgs(argv: readonly string[]): DeployArgs | "help" {
  const { values, positionals } = parseCli(argv, {
    allowPositionals: true,
    options: {
      stack: { type: "string", default: "local" },
      "policy-pack": { type: "boolean", default: false },
      remove: { type: "boolean", default: false },
      diff: { type: "boolean", default: false },
      "outputs-file": { type: "string" },
    },
  });
  if (values.help) return "help";
  const [command, ...rest] = positionals;
  if (!(COMMANDS as readonly string[]).includes(command ?? "")) {
    throw new UsageError(
      `unknown command ${JSON.stringify(command ?? "")}; allowed: ${COMMANDS.join(", ")}`,
    );
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  return {
    command: command as Command,
    stack: values.stack,
    policyPack: values["policy-pack"],
    remove: values.remove,
    diff: values.diff,
    outputsFile: values["outputs-file"],
  };
}

/** The program, inline: validate config once, compose the platform, return its outputs. */
export async function program(): Promise<Record<string, unknown>> {
  return { ...createPlatform(loadConfig()) };
}

export async function selectStack(stackName: string): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(
    { stackName, projectName: PROJECT, program },
    { workDir: REPO_ROOT },
  );
}

function policyOptions(args: DeployArgs) {
  return args.policyPack
    ? {
        policyPacks: [path.join(REPO_ROOT, "policy")],
        policyPackConfigs: [path.join(REPO_ROOT, "policy", "config", `${args.stack}.json`)],
      }
    : {};
}

export async function run(args: DeployArgs, log: (s: string) => void): Promise<void> {
  const stack = await selectStack(args.stack);
  // The engine's own output with every diff (--diff), or one line per resource.
  const view = new ProgressView();
  const display = args.diff
    ? { diff: true, onOutput: log }
    : {
        onEvent: (e: EngineEvent) => {
          for (const line of view.lines(e)) log(line + "\n");
        },
      };
  switch (args.command) {
    case "preview":
      // A preview shows what would change: always with the diff.
      await stack.preview({ diff: true, onOutput: log, ...policyOptions(args) });
      return;
    case "up":
      log(`Updating stack ${args.stack} ...\n`);
      await stack.up({ ...display, ...policyOptions(args) });
      log("Outputs:\n" + (await writeOutputs(stack, args)) + "\n");
      return;
    case "destroy":
      log(`Destroying stack ${args.stack} ...\n`);
      await stack.destroy(display);
      if (args.remove) await stack.workspace.removeStack(args.stack);
      return;
    case "outputs":
      log((await writeOutputs(stack, args)) + "\n");
      return;
  }
}

/** The outputs as indented JSON, also written to `--outputs-file` when given. */
async function writeOutputs(stack: Stack, args: DeployArgs): Promise<string> {
  const json = JSON.stringify(await outputs(stack), null, 2);
  if (args.outputsFile) fs.writeFileSync(args.outputsFile, json + "\n");
  return json;
}

/** The stack's outputs, secrets shown as "[secret]". */
async function outputs(stack: Stack): Promise<Record<string, unknown>> {
  const out = await stack.outputs();
  return Object.fromEntries(
    Object.entries(out).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]),
  );
}

/** Runs the CLI; resolves to the exit code. */
export async function main(
  argv: readonly string[],
  stdout = toStdout,
  stderr = toStderr,
): Promise<number> {
  const args = argsOrExitCode({ name: "deploy", usage: USAGE, stdout, stderr }, () =>
    parseDeployArgs(argv),
  );
  if (typeof args === "number") return args;
  try {
    await run(args, stdout);
    return 0;
  } catch (err) {
    stderr(`deploy: ${args.command} of stack ${args.stack} failed: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    if (code !== 0) process.exit(code);
  });
}
