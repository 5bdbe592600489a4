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
import { synthManifests } from "../infra/k8s/manifests";
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

function main(argv: string[]): number {
  let stack = "local";
  let out = path.join(REPO_ROOT, "synth");
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === "--stack" || flag === "--out") && value && !value.startsWith("--")) {
      if (flag === "--stack") stack = value;
      else out = path.resolve(value);
      i++;
    } else {
      process.stderr.write(
        `synth: unexpected argument ${JSON.stringify(flag)}\nusage: npm run synth -- [--stack local|dev|prod] [--out DIR]\n`,
      );
      return 2;
    }
  }
  try {
    const text = synthStack(stack);
    fs.mkdirSync(out, { recursive: true });
    const file = path.join(out, `${stack}.yaml`);
    fs.writeFileSync(file, text);
    const count = text.split(/^---$/m).length;
    process.stdout.write(
      `synth: wrote ${count} manifests of stack ${stack} to ${path.relative(process.cwd(), file)}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`synth: ${(err as Error).message}\n`);
    return 1;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
