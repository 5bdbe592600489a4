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

function main(argv: string[]): number {
  const flags: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (
      !["--subscription", "--stack", "--field"].includes(flag) ||
      !value ||
      value.startsWith("--")
    ) {
      process.stderr.write(`azure:names: unexpected argument ${JSON.stringify(flag)}\n${USAGE}\n`);
      return 2;
    }
    flags[flag.slice(2)] = value;
  }
  const subscription = flags.subscription ?? process.env.ARM_SUBSCRIPTION_ID;
  if (!subscription) {
    process.stderr.write(
      `azure:names: --subscription (or ARM_SUBSCRIPTION_ID) is required\n${USAGE}\n`,
    );
    return 2;
  }
  try {
    const stack = flags.stack ?? "dev";
    const project = String(
      parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")).name,
    );
    const names = azureNames(
      parseConfig(readStackFile(stack, REPO_ROOT)),
      subscription,
      project,
      stack,
    );
    if (flags.field === undefined) {
      process.stdout.write(JSON.stringify(names, null, 2) + "\n");
      return 0;
    }
    if (!(flags.field in names)) {
      process.stderr.write(`azure:names: unknown field ${JSON.stringify(flags.field)}\n${USAGE}\n`);
      return 2;
    }
    process.stdout.write(`${names[flags.field as keyof AzureNames]}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`azure:names: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
