/**
 * `npm run keys -- show [--stack <s>] [--key primary|secondary]`: the two inference keys of a
 * stack (`auth.mode: key`), read from its outputs (a secret in the state; never in a file).
 * `npm run keys -- rotate <primary|secondary> [--stack <s>]`: a new key in place of that one: an
 * `up` that replaces only its Secret. The other key keeps working throughout, so clients move to
 * it first, then back once the rotated one is out (docs: README, Authentication).
 */
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { KEY_NAMES, keySecretResourceName, type KeyName } from "../infra/k8s/app";
import { argsOrExitCode, parseCli, toStderr, toStdout, UsageError } from "./cli";
import { selectStack } from "./deploy";
import { ProgressView } from "./progress";

export const USAGE = `usage: npm run keys -- show [--stack <name>] [--key primary|secondary]
       npm run keys -- rotate <primary|secondary> [--stack <name>]

  show     print both keys of the stack (or only --key, bare, for $(...))
  rotate   replace one key with a new one (an up that replaces only that key's Secret);
           the other key keeps working, and the pods pick up the new one within seconds
  --stack  the stack (default: local)`;

export type KeysArgs =
  | { readonly command: "show"; readonly stack: string; readonly key?: KeyName }
  | { readonly command: "rotate"; readonly stack: string; readonly key: KeyName };

const isKeyName = (v: unknown): v is KeyName => (KEY_NAMES as readonly unknown[]).includes(v);

/** Parses argv; throws a UsageError on anything unexpected. */
export function parseKeysArgs(argv: readonly string[]): KeysArgs | "help" {
  const { values, positionals } = parseCli(argv, {
    allowPositionals: true,
    options: { stack: { type: "string", default: "local" }, key: { type: "string" } },
  });
  if (values.help) return "help";
  const [command, name, ...rest] = positionals;
  const badKey = (v: unknown) =>
    new UsageError(`key: got ${JSON.stringify(v ?? "")}; allowed: ${KEY_NAMES.join(", ")}`);
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  switch (command) {
    case "show":
      if (name !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(name)}`);
      if (values.key !== undefined && !isKeyName(values.key)) throw badKey(values.key);
      return { command, stack: values.stack, key: values.key as KeyName | undefined };
    case "rotate":
      if (!isKeyName(name)) throw badKey(name);
      if (values.key !== undefined) throw new UsageError("rotate takes the key as its argument");
      return { command, stack: values.stack, key: name };
    default:
      throw new UsageError(
        `unknown command ${JSON.stringify(command ?? "")}; allowed: show, rotate`,
      );
  }
}

/** The keys in the stack's outputs; an error that says why there are none. */
export function keysFromOutputs(
  stack: string,
  outputs: Record<string, { value: unknown }>,
): Record<KeyName, string> {
  const mode = outputs.authMode?.value;
  if (mode === undefined) {
    throw new Error(`stack ${stack} has no outputs yet: deploy it first (npm run up)`);
  }
  if (mode !== "key") {
    throw new Error(
      `stack ${stack} authenticates with auth.mode ${JSON.stringify(mode)}: it has no keys`,
    );
  }
  const keys = (outputs.inferenceKeys?.value ?? {}) as Partial<Record<KeyName, string>>;
  for (const name of KEY_NAMES) {
    if (typeof keys[name] !== "string" || keys[name] === "") {
      throw new Error(`stack ${stack} has no ${name} key in its outputs: run npm run up`);
    }
  }
  return keys as Record<KeyName, string>;
}

/** The URN of a key's Secret in the stack's state (what `up --replace` takes). */
export function keySecretUrn(
  stack: string,
  resources: readonly { urn: string; type: string }[],
  key: KeyName,
): string {
  const name = keySecretResourceName("mlops", key);
  const hit = resources.find(
    (r) => r.type === "kubernetes:core/v1:Secret" && r.urn.endsWith(`::${name}`),
  );
  if (hit === undefined) {
    throw new Error(
      `stack ${stack} has no Secret ${name}: it is not deployed, or its auth.mode is not key`,
    );
  }
  return hit.urn;
}

async function rotate(
  stack: Stack,
  args: { stack: string; key: KeyName },
  log: (s: string) => void,
) {
  const state = await stack.exportStack();
  const resources = (state.deployment?.resources ?? []) as { urn: string; type: string }[];
  const urn = keySecretUrn(args.stack, resources, args.key);
  log(`Rotating the ${args.key} key of stack ${args.stack} (the other key keeps working) ...\n`);
  const view = new ProgressView();
  await stack.up({
    replace: [urn],
    onEvent: (e: EngineEvent) => {
      for (const line of view.lines(e)) log(line + "\n");
    },
  });
  log(
    `The ${args.key} key is new; pods read it within seconds. Show it with: npm run keys -- show --stack ${args.stack} --key ${args.key}\n`,
  );
}

export async function runKeys(args: KeysArgs, out: (s: string) => void, log: (s: string) => void) {
  const stack = await selectStack(args.stack);
  if (args.command === "rotate") {
    await rotate(stack, args, log);
    return;
  }
  const keys = keysFromOutputs(args.stack, await stack.outputs());
  if (args.key !== undefined) out(keys[args.key] + "\n");
  else out(KEY_NAMES.map((k) => `${k}: ${keys[k]}`).join("\n") + "\n");
}

/** Runs the CLI; resolves to the exit code. Keys go to stdout, progress to stderr. */
export async function main(
  argv: readonly string[],
  stdout = toStdout,
  stderr = toStderr,
): Promise<number> {
  const args = argsOrExitCode({ name: "keys", usage: USAGE, stdout, stderr }, () =>
    parseKeysArgs(argv),
  );
  if (typeof args === "number") return args;
  try {
    await runKeys(args, stdout, stderr);
    return 0;
  } catch (err) {
    stderr(`keys: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    if (code !== 0) process.exit(code);
  });
}
