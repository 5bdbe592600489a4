/**
 * `npm run synth [-- --stack local|dev|prod] [--out DIR]`: writes the manifests the stack deploys
 * as plain YAML (for kubectl and GitOps users), through the same config validation and the same
 * charts as `pulumi up`.
 *
 * Values that exist only once Azure resources do (the built image digest, the workload identity's
 * client id, the model store) are written as `${VARIABLE}` placeholders for envsubst, filled from
 * `pulumi stack output`.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { parseConfig } from "../infra/config";
import { MODEL_CONTAINER } from "../infra/azure/model-store";
import { synthManifests } from "../infra/manifests";
import { argsOrExitCode, parseCli, toStderr, toStdout } from "./cli";
import { readStackFile, REPO_ROOT } from "./stack-file";

export const PLACEHOLDERS = {
  image: "${IMAGE_REF}",
  clientId: "${MODEL_STORE_CLIENT_ID}",
  resourceGroup: "${RESOURCE_GROUP}",
  storageAccount: "${MODEL_STORE_ACCOUNT}",
  modelStoreUrl: "${MODEL_STORE_URL}",
} as const;

/** The stack's manifests as one multi-document YAML string. */
export function synthStack(stack: string, root = REPO_ROOT): string {
  const config = parseConfig(readStackFile(stack, root));
  const azure = config.target === "azure";
  const manifests = synthManifests({
    config,
    instance: stack,
    image: config.image.build ? PLACEHOLDERS.image : config.image.ref!,
    workloadIdentityClientId: azure ? PLACEHOLDERS.clientId : undefined,
    modelStore: azure
      ? {
          resourceGroup: PLACEHOLDERS.resourceGroup,
          storageAccount: PLACEHOLDERS.storageAccount,
          container: MODEL_CONTAINER,
          clientId: PLACEHOLDERS.clientId,
        }
      : undefined,
    env: azure ? { MODEL_STORE_URL: PLACEHOLDERS.modelStoreUrl } : undefined,
  });
  return manifests
    .map((m) => stringify(m, { aliasDuplicateObjects: false, lineWidth: 120 }))
    .join("---\n");
}

export const USAGE = "usage: npm run synth -- [--stack local|dev|prod] [--out DIR]";

export interface SynthArgs {
  readonly stack: string;
  /** The directory the stack's file is written to. */
  readonly out: string;
}

/** Parses argv; throws a UsageError on anything unexpected. */
export function parseSynthArgs(argv: readonly string[]): SynthArgs | "help" {
  const { values } = parseCli(argv, {
    options: { stack: { type: "string", default: "local" }, out: { type: "string" } },
  });
  if (values.help) return "help";
  return { stack: values.stack, out: path.resolve(values.out ?? path.join(REPO_ROOT, "synth")) };
}

/** Runs the CLI; returns the exit code. */
export function main(argv: readonly string[], stdout = toStdout, stderr = toStderr): number {
  const args = argsOrExitCode({ name: "synth", usage: USAGE, stdout, stderr }, () =>
    parseSynthArgs(argv),
  );
  if (typeof args === "number") return args;
  const { stack, out } = args;
  try {
    const text = synthStack(stack);
    fs.mkdirSync(out, { recursive: true });
    const file = path.join(out, `${stack}.yaml`);
    fs.writeFileSync(file, text);
    const count = text.split(/^---$/m).length;
    stdout(
      `synth: wrote ${count} manifests of stack ${stack} to ${path.relative(process.cwd(), file)}\n`,
    );
    return 0;
  } catch (err) {
    stderr(`synth: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
