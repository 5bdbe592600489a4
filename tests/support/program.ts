/**
 * Runs the real program under Pulumi mocks and records every resource it registers.
 *
 * The config comes from the real stack file (Pulumi.<stack>.yaml), optionally with some `mlops:`
 * keys replaced, and goes through `loadConfig` exactly as `pulumi up` would.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Alias } from "@pulumi/pulumi/proto/alias_pb";
import * as path from "path";
import { readStackFile } from "../../tools/stack-file";

export type StackName = "local" | "dev" | "prod";

export interface RecordedResource {
  type: string;
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inputs: Record<string, any>;
  /** Names of the resources it depends on (`dependsOn` and inputs), as the engine is told. */
  dependsOn?: string[];
  /** Its `ignoreChanges` option. */
  ignoreChanges?: string[];
  /** Set when it has `retainOnDelete` (destroy and replacement leave it in the cloud). */
  retainOnDelete?: true;
  /** Set when it has `deleteBeforeReplace`. */
  deleteBeforeReplace?: true;
  /** The provider reference it is created with (`<provider urn>::<id>`), when one is given. */
  provider?: string;
  /** The name of its parent resource, when it has one. */
  parent?: string;
  /** The keys a component registers as its outputs (`registerOutputs`). */
  registeredOutputs?: string[];
  /** Its `aliases` option: the former identities the engine matches it against. */
  aliases?: RecordedAlias[];
}

/** One alias of a resource: a former URN, or the parts of it that differ (type, name, ...). */
export interface RecordedAlias {
  urn?: string;
  type?: string;
  name?: string;
  parentUrn?: string;
  noParent?: true;
}

/** The subscription id the mocks report (getClientConfig). */
export const MOCK_SUBSCRIPTION_ID = "00000000-1111-2222-3333-444444444444";

/** The id of a built-in role definition in the mocks' subscription. */
export const mockRoleDefinitionId = (roleId: string) =>
  `/subscriptions/${MOCK_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${roleId}`;

/** The shared registry's login server under the mocks (its name derives from the subscription). */
export const MOCK_REGISTRY_SERVER = "mlopsacr0f901435.azurecr.io";

/** What a promotion writes into Pulumi.prod.yaml: a digest dev pushed to the shared registry. */
export const PROMOTED_IMAGE = `${MOCK_REGISTRY_SERVER}/mlops-inference@sha256:${"3f".repeat(32)}`;

/** The Envoy Gateway controller image, imported into the shared registry (docs/traffic.md). */
export const IMPORTED_GATEWAY_IMAGE = `${MOCK_REGISTRY_SERVER}/envoyproxy/gateway@sha256:${"9e".repeat(32)}`;

/** The Envoy proxy image the controller runs, imported into the shared registry (docs/traffic.md). */
export const IMPORTED_PROXY_IMAGE = `${MOCK_REGISTRY_SERVER}/envoyproxy/envoy@sha256:${"7d".repeat(32)}`;

/** The exec kubeconfig AKS returns for a cluster with Entra ID and no local accounts. */
export const AKS_EXEC_KUBECONFIG = [
  "apiVersion: v1",
  "kind: Config",
  "clusters:",
  "  - name: mlops-cluster-aks",
  "    cluster:",
  "      server: https://mlops-cluster.hcp.westeurope.azmk8s.io:443",
  "contexts:",
  "  - name: mlops-cluster-aks",
  "    context: { cluster: mlops-cluster-aks, user: clusterUser }",
  "current-context: mlops-cluster-aks",
  "users:",
  "  - name: clusterUser",
  "    user:",
  "      exec:",
  "        apiVersion: client.authentication.k8s.io/v1beta1",
  "        command: kubelogin",
  "        args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, tenant-id, --login, devicecode]",
  "",
].join("\n");

export interface ProgramRun {
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
}

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/** The `mlops:` values of a stack file, keyed without the namespace. */
export const stackConfig = (stack: string) =>
  readStackFile(stack, REPO_ROOT) as Record<string, unknown>;

/** Canned outputs of the Azure resources whose outputs the program reads. */
function mockState(type: string, name: string, inputs: Record<string, unknown>) {
  const resourceName =
    (inputs.registryName as string) ??
    (inputs.accountName as string) ??
    (inputs.agentPoolName as string) ??
    (inputs.vaultName as string) ??
    name;
  const common = { ...inputs, name: resourceName };
  switch (type) {
    case "azure-native:authorization:RoleAssignment":
      // Long enough ago that no AKS RBAC propagation wait applies.
      return { ...common, createdOn: "2026-01-01T00:00:00.000Z" };
    case "azure-native:containerservice:ManagedCluster":
      return {
        ...common,
        identityProfile: { kubeletidentity: { objectId: "kubelet-object-id" } },
        oidcIssuerProfile: { enabled: true, issuerURL: "https://oidc.example/issuer/" },
      };
    case "azure-native:storage:StorageAccount":
      return {
        ...common,
        primaryEndpoints: { blob: `https://${resourceName}.blob.core.windows.net/` },
      };
    case "azure-native:managedidentity:UserAssignedIdentity":
      return {
        ...common,
        clientId: "model-store-client-id",
        principalId: "model-store-principal-id",
      };
    case "tls:index/privateKey:PrivateKey":
      return { ...common, privateKeyPem: "mock private key" };
    case "tls:index/selfSignedCert:SelfSignedCert":
      return { ...common, certPem: "mock certificate" };
    case "docker:index/image:Image":
      return {
        ...common,
        repoDigest:
          `${inputs.imageName as string}`.replace(/:[^:/]+$/, "") + "@sha256:" + "ab".repeat(32),
      };
    default:
      return common;
  }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function mockCall(token: string, inputs: Record<string, any>): Record<string, unknown> {
  switch (token) {
    case "azure-native:containerregistry:getRegistry":
      return {
        id: `/subscriptions/${MOCK_SUBSCRIPTION_ID}/resourceGroups/${inputs.resourceGroupName}/providers/Microsoft.ContainerRegistry/registries/${inputs.registryName}`,
        name: inputs.registryName,
        loginServer: `${inputs.registryName}.azurecr.io`,
        adminUserEnabled: false,
      };
    case "azure-native:authorization:getClientConfig":
      return {
        subscriptionId: MOCK_SUBSCRIPTION_ID,
        tenantId: "tenant-id",
        clientId: "client-id",
        objectId: "object-id",
      };
    case "azure-native:containerservice:listManagedClusterUserCredentials":
      return {
        kubeconfigs: [
          {
            name: "clusterUser",
            value: Buffer.from(AKS_EXEC_KUBECONFIG).toString("base64"),
          },
        ],
      };
    default:
      return {};
  }
}

/**
 * Runs the program for `stack`, with `overrides` replacing whole `mlops:` keys, and returns every
 * registered resource and the stack outputs. Throws what the program throws (e.g. ConfigError).
 */
export async function runProgram(
  stack: StackName,
  overrides: Record<string, unknown> = {},
): Promise<RecordedResource[]> {
  return (await runProgramWithOutputs(stack, overrides)).resources;
}

export async function runProgramWithOutputs(
  stack: StackName,
  overrides: Record<string, unknown> = {},
): Promise<ProgramRun> {
  // prod as it is after its first promotion (the stack file holds a placeholder until then).
  const base = stackConfig(stack);
  const promoted =
    stack === "prod"
      ? {
          image: { build: false, ref: PROMOTED_IMAGE },
          ingress: {
            ...(base.ingress as object),
            gatewayImage: IMPORTED_GATEWAY_IMAGE,
            envoyProxyImage: IMPORTED_PROXY_IMAGE,
          },
        }
      : {};
  const values = { ...base, ...promoted, ...overrides };
  const config: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    config[`mlops:${key}`] = typeof value === "string" ? value : JSON.stringify(value);
  }

  const { resources, value: outputs } = await recordResources(
    async () => {
      pulumi.runtime.setAllConfig(config);
      // Load the real entry program afresh, so each run reads its own config.
      let program: Record<string, unknown> = {};
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        program = require("../../stacks/index");
      });
      const resolved: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(program)) {
        resolved[key] = await outputValue(value);
      }
      return resolved;
    },
    { stack },
  );
  return { resources, outputs };
}

export interface RecordOptions {
  /** The stack the mocks report (`pulumi.getStack()`). @default "dev" */
  stack?: string;
  /** Run as a preview (`pulumi.runtime.isDryRun()`). @default false */
  preview?: boolean;
  /** Replaces the canned outputs of a resource (return undefined to keep them). */
  state?: (
    type: string,
    name: string,
    inputs: Record<string, unknown>,
  ) => Record<string, unknown> | undefined;
  /** Replaces the canned result of a call (return undefined to keep it). */
  call?: (token: string, inputs: Record<string, unknown>) => Record<string, unknown> | undefined;
}

/** A call (data source or function) the program made. */
export interface RecordedCall {
  token: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inputs: Record<string, any>;
  /** The provider reference it was made with, when one is given. */
  provider?: string;
}

export interface Recording<T> {
  /** Every resource registered, components included, with the options the engine was told. */
  resources: RecordedResource[];
  /** Every call made, in order. */
  calls: RecordedCall[];
  /** What `build` returned. */
  value: T;
}

/**
 * Runs `build` (which creates resources) under Pulumi mocks with the canned Azure outputs and
 * calls above, waits until no more resources are registered, and returns what was registered.
 */
export async function recordResources<T>(
  build: () => T | Promise<T>,
  options: RecordOptions = {},
): Promise<Recording<T>> {
  const resources: RecordedResource[] = [];
  const calls: RecordedCall[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          ...(args.provider ? { provider: args.provider } : {}),
        });
        const state =
          options.state?.(args.type, args.name, args.inputs) ??
          mockState(args.type, args.name, args.inputs);
        return { id: `${args.name}-id`, state };
      },
      call: (args) => {
        calls.push({
          token: args.token,
          inputs: args.inputs,
          ...(args.provider ? { provider: args.provider } : {}),
        });
        return options.call?.(args.token, args.inputs) ?? mockCall(args.token, args.inputs);
      },
    },
    "mlops-platform",
    options.stack ?? "dev",
    options.preview ?? false,
  );
  // The mocks see no resource options: record what the engine is told about each resource.
  const told = new Map<string, Partial<RecordedResource>>();
  const outputKeys = new Map<string, string[]>();
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const monitor = pulumi.runtime.getMonitor() as any;
  const register = monitor.registerResource.bind(monitor);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  monitor.registerResource = (req: any, callback: unknown) => {
    const parent: string = req.getParent();
    told.set(`${req.getType()}::${req.getName()}`, {
      dependsOn: (req.getDependenciesList() as string[]).map((urn) => urn.split("::").pop()!),
      ignoreChanges: req.getIgnorechangesList(),
      ...(req.getRetainondelete() ? { retainOnDelete: true as const } : {}),
      ...(req.getDeletebeforereplace() ? { deleteBeforeReplace: true as const } : {}),
      ...(parent ? { parent: parent.split("::").pop()! } : {}),
      ...aliasesOf(req),
    });
    return register(req, callback);
  };
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  monitor.registerResourceOutputs = (req: any, callback: unknown) => {
    // urn:pulumi:<stack>::<project>::<parent types$>type::name
    const [types, name] = (req.getUrn() as string).split("::").slice(-2);
    const outputs = req.getOutputs()?.toJavaScript() ?? {};
    outputKeys.set(`${types.split("$").pop()}::${name}`, Object.keys(outputs).sort());
    return registerOutputs(req, callback);
  };
  const value = await build();
  await settle(resources);
  for (const r of resources) {
    Object.assign(r, told.get(`${r.type}::${r.name}`));
    const registered = outputKeys.get(`${r.type}::${r.name}`);
    if (registered) r.registeredOutputs = registered;
  }
  return { resources, calls, value };
}

/** The `aliases` a registration request carries, each with only the parts it sets. */
function aliasesOf(req: { getAliasesList(): Alias[] }): { aliases?: RecordedAlias[] } {
  const aliases = req.getAliasesList().map((alias): RecordedAlias => {
    const spec = alias.getSpec();
    if (spec === undefined) return { urn: alias.getUrn() };
    return {
      ...(spec.getType() ? { type: spec.getType() } : {}),
      ...(spec.getName() ? { name: spec.getName() } : {}),
      ...(spec.getParenturn() ? { parentUrn: spec.getParenturn() } : {}),
      ...(spec.getNoparent() ? { noParent: true as const } : {}),
    };
  });
  return aliases.length ? { aliases } : {};
}

/** The value of an output as the engine would see it (rejecting with the error of a failed
 * apply), or `value` itself when it is not an output. */
export function outputValue<T>(value: pulumi.Output<T> | T): Promise<T> {
  if (!pulumi.Output.isInstance(value)) return Promise.resolve(value as T);
  return (value as unknown as { promise(): Promise<T> }).promise();
}

/** Waits until no new resource has been registered for a few turns of the event loop. */
async function settle(resources: RecordedResource[]): Promise<void> {
  let last = -1;
  let quiet = 0;
  while (quiet < 5) {
    await new Promise((r) => setTimeout(r, 5));
    if (resources.length === last) quiet++;
    else {
      last = resources.length;
      quiet = 0;
    }
  }
}

/** The Kubernetes objects inside a ConfigGroup's `objs`, as pseudo-resources. */
export function expandConfigGroups(resources: RecordedResource[]): RecordedResource[] {
  const out = [...resources];
  for (const r of resources) {
    if (r.type !== "kubernetes:yaml/v2:ConfigGroup") continue;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    for (const obj of (r.inputs.objs ?? []) as Array<Record<string, any>>) {
      const apiVersion = String(obj.apiVersion);
      const groupVersion = apiVersion.includes("/") ? apiVersion : `core/${apiVersion}`;
      out.push({
        type: `kubernetes:${groupVersion}:${obj.kind}`,
        name: obj.metadata?.name,
        inputs: obj,
      });
    }
  }
  return out;
}

/** The one resource of `type` named `name`; throws listing what exists otherwise. */
export function findResource(
  resources: RecordedResource[],
  type: string,
  name?: string,
): RecordedResource {
  const hits = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (hits.length !== 1) {
    const names = resources.filter((r) => r.type === type).map((r) => r.name);
    throw new Error(
      `expected one ${type}${name ? ` named ${name}` : ""}, found ${hits.length} (${names.join(", ")})`,
    );
  }
  return hits[0];
}
