/**
 * How the tools' CLIs read their arguments: node:util's `parseArgs`, strict, with `-h`/`--help`
 * in every CLI, and refusals that name the argument that is wrong and the flags that are allowed.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** The CLI was called wrongly (exit 2, with the usage). */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** What a CLI takes: its flags (`help` is added) and whether it takes positional arguments. */
export interface CliSpec {
  readonly options: Options;
  /** @default false */
  readonly allowPositionals?: boolean;
}

/** `-h`, `--help`: part of every CLI. */
const HELP = { help: { type: "boolean", short: "h" } } as const;

type Parsed<S extends CliSpec> = ReturnType<
  typeof parseArgs<{
    args: string[];
    strict: true;
    allowPositionals: S["allowPositionals"];
    options: S["options"] & typeof HELP;
  }>
>;

/** The flags of a spec as a refusal lists them: `--stack <value>, --dry-run, -h/--help`. */
export function allowedFlags(options: Options): string {
  const all: Options = { ...options, ...HELP };
  return Object.entries(all)
    .map(([name, o]) => {
      const flag = o.short === undefined ? `--${name}` : `-${o.short}/--${name}`;
      return o.type === "string" ? `${flag} <value>` : flag;
    })
    .join(", ");
}

/** Parses `argv` against `spec`; throws a UsageError that says what is wrong and what is allowed.
 * A flag given an empty value is refused as one given none. */
export function parseCli<const S extends CliSpec>(argv: readonly string[], spec: S): Parsed<S> {
  const options = { ...spec.options, ...HELP };
  let parsed: Parsed<S>;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: spec.allowPositionals ?? false,
      options,
    }) as Parsed<S>;
  } catch (err) {
    throw new UsageError(refusal(err as Error & { code?: string }, options));
  }
  for (const [name, value] of Object.entries(parsed.values)) {
    if (value === "") throw new UsageError(`--${name} needs a value`);
  }
  return parsed;
}

/** node's parse error in the words of this project's CLIs. */
function refusal(err: Error & { code?: string }, options: Options): string {
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? "";
  const allowed = `allowed: ${allowedFlags(options)}`;
  switch (err.code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${JSON.stringify(quoted)}; ${allowed}`;
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument ${JSON.stringify(quoted)} (this command takes only flags); ${allowed}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const flag = quoted.split(" ")[0];
      if (/does not take an argument/.test(err.message)) return `${flag} takes no value`;
      if (/ambiguous/.test(err.message)) {
        return `${flag} needs a value (a value that starts with "-" is written ${flag}=-...)`;
      }
      return `${flag} needs a value`;
    }
    default:
      return err.message;
  }
}

/** Where a CLI writes (replaced in tests). */
export type Write = (text: string) => void;
export const toStdout: Write = (text) => void process.stdout.write(text);
export const toStderr: Write = (text) => void process.stderr.write(text);

/** A CLI's name (the prefix of its messages), usage text and outputs. */
export interface Cli {
  readonly name: string;
  readonly usage: string;
  readonly stdout: Write;
  readonly stderr: Write;
}

/**
 * The arguments `parse` reads, or the exit code when there is nothing to run: 0 after `--help`
 * (the usage on stdout), 2 on a UsageError (the message and the usage on stderr).
 */
export function argsOrExitCode<A>(cli: Cli, parse: () => A | "help"): A | number {
  try {
    const args = parse();
    if (args !== "help") return args;
    cli.stdout(`${cli.usage}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    cli.stderr(`${cli.name}: ${err.message}\n${cli.usage}\n`);
    return 2;
  }
}
