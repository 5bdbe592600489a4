/**
 * `npm run promote -- --from dev --to prod [--dry-run]`: writes the image digest and model
 * versions that run in one stack into another stack's config file. See docs/delivery.md.
 *
 * Exit codes: 0 promoted (or nothing to change, or dry run), 1 refused, 2 bad usage.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  applyRelease,
  PromotionError,
  releaseFromOutputs,
  requireDigest,
  stackFileName,
  unifiedDiff,
  type Release,
} from "./promotion";
import { argsOrExitCode, parseCli, toStderr, toStdout, UsageError } from "./cli";

export const USAGE = `Usage: npm run promote -- --from <stack> --to <stack> [options]
       npm run promote -- --to <stack> --image <repo@sha256:digest> [options]

Writes the image digest and model versions deployed in <from> into Pulumi.<to>.yaml.

  --from <stack>          source stack; its outputs imageRef and modelVersions are read with
                          \`pulumi stack output --json --show-secrets=false --stack <from>\`
  --to <stack>            target stack; Pulumi.<to>.yaml is edited in place
  --outputs-file <path>   read the source outputs from this JSON file instead of the CLI
  --image <ref>           promote this digest instead of the source's (rollback); without
                          --from the target's model versions stay as they are
  --dry-run               print the diff and change nothing
  --project-dir <dir>     directory holding the stack files (default: current directory)
  -h, --help              show this help`;

/** Where the CLI reads and writes; replaced in tests. */
export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Returns the JSON text of `pulumi stack output` of `stack`. */
  readonly stackOutputs: (stack: string, cwd: string) => string;
}

const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

export interface PromoteArgs {
  readonly from?: string;
  readonly to: string;
  readonly outputsFile?: string;
  readonly image?: string;
  readonly dryRun: boolean;
  readonly projectDir: string;
}

/** Parses argv; throws a UsageError on anything unexpected. */
export function parsePromoteArgs(argv: readonly string[]): PromoteArgs | "help" {
  const { values } = parseCli(argv, {
    options: {
      from: { type: "string" },
      to: { type: "string" },
      "outputs-file": { type: "string" },
      image: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      "project-dir": { type: "string" },
    },
  });
  if (values.help) return "help";
  const { from, to, image } = values;
  const outputsFile = values["outputs-file"];
  if (to === undefined) throw new UsageError("--to <stack> is required");
  if (from === undefined && image === undefined) {
    throw new UsageError("give --from <stack>, or --image <repo@sha256:digest> to roll back");
  }
  if (outputsFile !== undefined && from === undefined) {
    throw new UsageError("--outputs-file needs --from <stack> (the stack it was recorded from)");
  }
  for (const [flag, stack] of [
    ["--from", from],
    ["--to", to],
  ] as const) {
    if (stack !== undefined && !STACK_NAME.test(stack)) {
      throw new UsageError(`${flag} ${JSON.stringify(stack)} is not a stack name`);
    }
  }
  if (from !== undefined && from === to) {
    throw new UsageError(`--from and --to are both "${to}"; promote between two stacks`);
  }
  return {
    from,
    to,
    outputsFile,
    image,
    dryRun: values["dry-run"],
    projectDir: values["project-dir"] ?? process.cwd(),
  };
}

/** Runs the CLI; returns the exit code. */
export function main(argv: readonly string[], io: Io = defaultIo): number {
  const cli = { name: "promote", usage: USAGE, stdout: io.stdout, stderr: io.stderr };
  const options = argsOrExitCode(cli, () => parsePromoteArgs(argv));
  if (typeof options === "number") return options;
  try {
    return promote(options, io);
  } catch (err) {
    if (err instanceof PromotionError) {
      io.stderr(`promote: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function promote(options: PromoteArgs, io: Io): number {
  const release = readRelease(options, io);
  const fileName = stackFileName(options.to);
  const file = path.join(options.projectDir, fileName);
  let before: string;
  try {
    before = fs.readFileSync(file, "utf8");
  } catch {
    throw new PromotionError(`no stack file ${fileName} in ${options.projectDir}`);
  }
  const after = applyRelease(before, fileName, release);
  const diff = unifiedDiff(before, after, `a/${fileName}`, `b/${fileName}`);
  const models = release.models === undefined ? "unchanged" : JSON.stringify(release.models);
  if (diff === "") {
    io.stdout(`${fileName} already pins ${release.imageRef} and models ${models}; nothing to do\n`);
    return 0;
  }
  io.stdout(diff);
  if (options.dryRun) {
    io.stdout(`dry run: ${fileName} not written\n`);
    return 0;
  }
  fs.writeFileSync(file, after);
  io.stdout(`wrote ${fileName}: image ${release.imageRef}, models ${models}\n`);
  return 0;
}

function readRelease(options: PromoteArgs, io: Io): Release {
  const image =
    options.image === undefined ? undefined : requireDigest(options.image, "--image is");
  if (options.from === undefined) {
    if (image === undefined)
      throw new Error("unreachable: parsePromoteArgs requires --from or --image");
    return { imageRef: image };
  }
  let text: string;
  let source: string;
  if (options.outputsFile !== undefined) {
    source = options.outputsFile;
    try {
      text = fs.readFileSync(options.outputsFile, "utf8");
    } catch (err) {
      throw new PromotionError(
        `cannot read --outputs-file ${options.outputsFile}: ${(err as Error).message}`,
      );
    }
  } else {
    source = `\`pulumi stack output --stack ${options.from}\``;
    text = io.stackOutputs(options.from, options.projectDir);
  }
  let outputs: unknown;
  try {
    outputs = text.trim() === "" ? {} : JSON.parse(text);
  } catch (err) {
    throw new PromotionError(`outputs from ${source} are not JSON: ${(err as Error).message}`);
  }
  const release = releaseFromOutputs(options.from, outputs);
  return image === undefined ? release : { ...release, imageRef: image };
}

const defaultIo: Io = {
  stdout: toStdout,
  stderr: toStderr,
  stackOutputs: (stack, cwd) => {
    try {
      return execFileSync(
        "pulumi",
        ["stack", "output", "--json", "--show-secrets=false", "--stack", stack],
        { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
      );
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      const why = (e.stderr ?? "").trim() || e.message;
      throw new PromotionError(`cannot read the outputs of stack "${stack}": ${why}`);
    }
  },
};

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
