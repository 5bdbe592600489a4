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

/** Parses argv; throws with the usage line on anything unexpected. */
export function parseArgs(argv: string[]): DeployArgs {
  const [command, ...rest] = argv;
  if (!(COMMANDS as readonly string[]).includes(command ?? "")) {
    throw new Error(`unknown command ${JSON.stringify(command ?? "")}\n${USAGE}`);
  }
  const args: DeployArgs = {
    command: command as Command,
    stack: "local",
    policyPack: false,
    remove: false,
    diff: false,
  };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    if (flag === "--stack" && rest[i + 1] && !rest[i + 1].startsWith("--")) args.stack = rest[++i];
    else if (flag === "--policy-pack") args.policyPack = true;
    else if (flag === "--remove") args.remove = true;
    else if (flag === "--diff") args.diff = true;
    else if (flag === "--outputs-file" && rest[i + 1] && !rest[i + 1].startsWith("--"))
      args.outputsFile = rest[++i];
    else throw new Error(`unexpected argument ${JSON.stringify(flag)}\n${USAGE}`);
  }
  return args;
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

if (require.main === module) {
  let args: DeployArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`deploy: ${(err as Error).message}\n`);
    process.exit(2);
  }
  run(args, (s) => process.stdout.write(s)).catch((err: Error) => {
    process.stderr.write(`deploy: ${args.command} of stack ${args.stack} failed: ${err.message}\n`);
    process.exit(1);
  });
}
