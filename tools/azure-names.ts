/**
 * `npm run azure:names -- --subscription <id> [--stack dev|prod] [--field <name>]`: the Azure names
 * a stack's program derives (the shared registry the bootstrap creates, the model store's storage
 * account), from the same functions and the same stack file, so the bootstrap (docs/azure.md) and
 * the workflows use the names the program will. Prints JSON, or one field's value.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { modelStoreAccountName } from "../infra/azure/model-store";
import { deployerRoleCondition, stableSuffix } from "../infra/azure/names";
import { sharedRegistryName } from "../infra/azure/registry";
import { parseConfig, type PlatformConfig } from "../infra/config";
import { argsOrExitCode, parseCli, toStderr, toStdout, UsageError } from "./cli";
import { readStackFile, REPO_ROOT } from "./stack-file";

export interface AzureNames {
  /** The shared registry (created by the bootstrap). */
  readonly registry: string;
  readonly registryResourceGroup: string;
  readonly registryLoginServer: string;
  /** The stack's model store storage account (created by `up`). */
  readonly modelStoreAccount: string;
  /** The condition of the deployer's RBAC Administrator role: exactly the roles the program
   * assigns (the bootstrap, docs/azure.md 1.3). */
  readonly deployerRoleCondition: string;
}

/** The names the program derives for `stack` of `project` in `subscriptionId`. Pure. */
export function azureNames(
  config: PlatformConfig,
  subscriptionId: string,
  project: string,
  stack: string,
): AzureNames {
  if (!config.azure) {
    throw new Error(`stack ${stack} does not target Azure (mlops:target is ${config.target})`);
  }
  const { registry, nameSuffix } = config.azure;
  const name = registry.name ?? sharedRegistryName(subscriptionId, project);
  return {
    registry: name,
    registryResourceGroup: registry.resourceGroup,
    registryLoginServer: `${name}.azurecr.io`,
    modelStoreAccount: modelStoreAccountName(
      nameSuffix ?? stableSuffix([subscriptionId, project, stack]),
    ),
    deployerRoleCondition: deployerRoleCondition(),
  };
}

export const USAGE =
  "usage: npm run azure:names -- --subscription <id> [--stack dev|prod] [--field registry|registryResourceGroup|registryLoginServer|modelStoreAccount|deployerRoleCondition]";

export interface AzureNamesArgs {
  readonly subscription: string;
  readonly stack: string;
  /** Print only this field's value. */
  readonly field?: string;
}

/** Parses argv (the subscription defaults to ARM_SUBSCRIPTION_ID); throws a UsageError on
 * anything unexpected. */
export function parseAzureNamesArgs(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): AzureNamesArgs | "help" {
  const { values } = parseCli(argv, {
    options: {
      subscription: { type: "string" },
      stack: { type: "string", default: "dev" },
      field: { type: "string" },
    },
  });
  if (values.help) return "help";
  const subscription = values.subscription ?? env.ARM_SUBSCRIPTION_ID;
  if (!subscription) throw new UsageError("--subscription (or ARM_SUBSCRIPTION_ID) is required");
  return { subscription, stack: values.stack, field: values.field };
}

/** Runs the CLI; returns the exit code. */
export function main(argv: readonly string[], stdout = toStdout, stderr = toStderr): number {
  const cli = { name: "azure:names", usage: USAGE, stdout, stderr };
  const args = argsOrExitCode(cli, () => parseAzureNamesArgs(argv));
  if (typeof args === "number") return args;
  const { subscription, stack, field } = args;
  try {
    const project = String(
      parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")).name,
    );
    const names = azureNames(
      parseConfig(readStackFile(stack, REPO_ROOT)),
      subscription,
      project,
      stack,
    );
    if (field === undefined) {
      stdout(JSON.stringify(names, null, 2) + "\n");
      return 0;
    }
    if (!(field in names)) {
      stderr(`azure:names: unknown field ${JSON.stringify(field)}\n${USAGE}\n`);
      return 2;
    }
    stdout(`${names[field as keyof AzureNames]}\n`);
    return 0;
  } catch (err) {
    stderr(`azure:names: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
