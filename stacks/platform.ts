/**
 * Composes the platform from validated config: the Azure foundation when the target is `azure`,
 * then the inference app and its training job on whichever cluster that is.
 */
import * as authorization from "@pulumi/azure-native/authorization";
import * as pulumi from "@pulumi/pulumi";
import { Cluster, TRAINING_POOL_NAME } from "../infra/azure/cluster";
import { ListenerCertificate } from "../infra/azure/certificate";
import { EnvoyGateway, gatewayImageProblem } from "../infra/azure/gateway";
import { MlWorkspace } from "../infra/azure/ml-workspace";
import { ManagedPrometheus } from "../infra/azure/monitoring";
import { MODEL_CONTAINER, ModelStore } from "../infra/azure/model-store";
import { stableSuffix } from "../infra/azure/names";
import { pullProblem, Registry } from "../infra/azure/registry";
import type { PlatformConfig } from "../infra/config";
import { ServiceImage } from "../infra/image";
import { InferenceApp, type InferenceAppArgs, type KeyName } from "../infra/k8s/app";
import { StackCertificate, type StackCertificateArgs } from "../infra/k8s/certificate";
import { InferenceChart } from "../infra/k8s/inference-chart";
import { pinnedReleaseImages, releaseOutput, type ReleaseOutput } from "../infra/k8s/release";
import { TrainingChart, type BlobModelStore } from "../infra/k8s/training-chart";
import { synthManifests } from "../infra/manifests";
import { stackRuleGroups } from "../infra/monitoring/files";

/** The stack outputs (see README: "Stack outputs"). */
export interface PlatformOutputs {
  endpointUrl: pulumi.Output<string>;
  /** In-cluster URL of the Service (resolves through the cluster's DNS from any pod). */
  serviceUrl: pulumi.Output<string>;
  /** `http://127.0.0.1:<app.nodePort>/` where the Service has a fixed node port, else "". */
  nodePortUrl: pulumi.Output<string>;
  namespace: pulumi.Output<string>;
  imageRef: pulumi.Output<string>;
  modelVersions: pulumi.Output<Record<string, string>>;
  modelStoreUrl: pulumi.Output<string>;
  kubeconfig: pulumi.Output<string>;
  registryLoginServer: pulumi.Output<string>;
  trainingPool: pulumi.Output<{ name: string; minCount: number; maxCount: number }>;
  release: pulumi.Output<ReleaseOutput>;
  /** How clients authenticate: `key`, `entra` or `none`. */
  authMode: pulumi.Output<string>;
  /** `auth.mode: key`: the primary and secondary key (secret; `npm run keys -- show`). */
  inferenceKeys: pulumi.Output<Partial<Record<KeyName, string>>>;
  /** `ingress.certificate: stack-ca`: the stack's CA certificate (PEM), which clients of the
   * HTTPS listener trust; else "". */
  caCertificate: pulumi.Output<string>;
}

/** Component names: part of the contract (renaming one replaces everything under it). */
const NAME = "mlops";

/** The suffix of this stack's globally unique names: subscription, project and stack. */
function stackNameSuffix(): pulumi.Output<string> {
  return authorization
    .getClientConfigOutput()
    .subscriptionId.apply((s) => stableSuffix([s, pulumi.getProject(), pulumi.getStack()]));
}

export function createPlatform(config: PlatformConfig): PlatformOutputs {
  const tags = { ...config.tags, environment: config.environment, owner: config.owner };
  const { namespace } = config.app;

  if (config.target === "local" || !config.azure) {
    const image = new ServiceImage(`${NAME}-image`, { image: config.image });
    const certificate = stackCertificate(config);
    const app = inferenceApp(
      config,
      { image: image.ref },
      { dependsOn: certificate ? [certificate] : [] },
    );
    return platformOutputs(config, app, image.ref, certificate, {
      modelStoreUrl: pulumi.output(`emptyDir://${namespace}/${TrainingChart.NAME}`),
      kubeconfig: pulumi.secret(""),
      registryLoginServer: pulumi.output(""),
      trainingPool: pulumi.output({ name: "", minCount: 0, maxCount: 0 }),
    });
  }

  const azure = config.azure;
  const cluster = new Cluster(`${NAME}-cluster`, {
    location: azure.location,
    kubernetesVersion: azure.kubernetesVersion,
    systemPool: azure.systemPool,
    trainingPool: azure.trainingPool,
    scaleDownUnneededMinutes: azure.scaleDownUnneededMinutes,
    tier: azure.tier,
    availabilityZones: azure.availabilityZones,
    kubeloginMode: azure.kubeloginMode,
    deployerPrincipalType: azure.deployerPrincipalType,
    tags,
    managedPrometheus: config.monitoring.scraper === "azure-managed",
  });
  const resourceGroupName = cluster.resourceGroup.name;
  const registry = new Registry(`${NAME}-registry`, {
    name: azure.registry.name,
    resourceGroupName: azure.registry.resourceGroup,
    pullPrincipalId: cluster.kubeletObjectId,
  });
  const store = new ModelStore(`${NAME}-models`, {
    resourceGroupName,
    nameSuffix: azure.nameSuffix ?? stackNameSuffix(),
    location: azure.location,
    oidcIssuerUrl: cluster.oidcIssuerUrl,
    namespace,
    serviceAccounts: [InferenceChart.NAME, TrainingChart.NAME],
    tags,
  });
  if (azure.mlWorkspace) {
    new MlWorkspace(`${NAME}-aml`, {
      resourceGroupName,
      location: azure.location,
      storageAccountId: store.account.id,
      vmSize: azure.trainingPool.vmSize,
      maxNodes: azure.trainingPool.maxCount,
      tags,
    });
  }
  if (config.monitoring.scraper === "azure-managed") {
    new ManagedPrometheus(`${NAME}-monitoring`, {
      resourceGroupName,
      location: azure.location,
      clusterId: cluster.cluster.id,
      clusterName: cluster.cluster.name,
      ruleGroups: stackRuleGroups(config),
      actionGroupId: config.monitoring.actionGroupId,
      grafana: config.monitoring.grafana,
      tags,
    });
  }
  const image = new ServiceImage(`${NAME}-image`, {
    image: config.image,
    registryServer: registry.loginServer,
  });
  // A pinned image (prod) must be one the kubelet can pull: from the shared registry.
  const pinned = [config.image.ref, ...pinnedReleaseImages(config)].filter((r) => r !== undefined);
  const imageRef = pulumi.all([image.ref, registry.loginServer]).apply(([ref, server]) => {
    const problems = [
      ...pinned.map((r) => pullProblem(r, server)),
      gatewayImageProblem(config, server, "gatewayImage"),
      gatewayImageProblem(config, server, "envoyProxyImage"),
    ];
    for (const problem of problems) {
      if (problem === undefined) continue;
      // A preview only warns, so a pull request can still show the rest of its changes.
      if (pulumi.runtime.isDryRun()) pulumi.log.warn(problem);
      else throw new Error(problem);
    }
    return ref;
  });
  // The Gateway API implementation the app's Gateway needs (an Ingress names the user's own).
  const gateway =
    config.ingress.api === "gateway"
      ? new EnvoyGateway(`${NAME}-gateway`, {
          gatewayClassName: config.ingress.gatewayClassName,
          controllerReplicas: config.environment === "prod" ? 2 : 1,
          controllerImage: config.ingress.gatewayImage,
          proxyImage: config.ingress.envoyProxyImage,
          provider: cluster.provider,
        })
      : undefined;
  // The HTTPS listener's certificate, written before the Gateway that names it.
  const selfSigned =
    gateway && config.ingress.tls && config.ingress.certificate === "self-signed"
      ? new ListenerCertificate(`${NAME}-tls`, {
          host: config.ingress.host,
          secretName: config.ingress.tlsSecretName,
          gatewayNamespace: namespace,
          namespace: gateway.namespace,
          provider: cluster.provider,
        })
      : undefined;
  const stackCa = gateway
    ? stackCertificate(config, { dependsOn: [gateway.namespace], provider: cluster.provider })
    : undefined;
  const certificate = selfSigned ?? stackCa;
  const app = inferenceApp(
    config,
    {
      image: imageRef,
      workloadIdentityClientId: store.identity.clientId,
      modelStore: pulumi
        .all([resourceGroupName, store.account.name, store.identity.clientId])
        .apply(([rg, account, clientId]) => ({
          resourceGroup: rg,
          storageAccount: account,
          container: MODEL_CONTAINER,
          clientId,
        })),
      env: { MODEL_STORE_URL: store.url },
      provider: cluster.provider,
    },
    { dependsOn: [registry, ...(gateway ? [gateway] : []), ...(certificate ? [certificate] : [])] },
  );
  return platformOutputs(config, app, imageRef, stackCa, {
    modelStoreUrl: store.url,
    kubeconfig: cluster.kubeconfig,
    registryLoginServer: registry.loginServer,
    trainingPool: pulumi.output({
      name: TRAINING_POOL_NAME,
      minCount: azure.trainingPool.minCount,
      maxCount: azure.trainingPool.maxCount,
    }),
  });
}

/** What the app's manifests take besides the config, as the target has it (Outputs on Azure). */
interface AppInputs {
  /** The image to run (a built digest or the pinned reference). */
  readonly image: pulumi.Input<string>;
  /** Workload identity of the service's pods (Azure). @default no workload identity: the pods
   * get no Azure token */
  readonly workloadIdentityClientId?: pulumi.Input<string>;
  /** Where the training job writes artifacts (Azure). @default an emptyDir */
  readonly modelStore?: pulumi.Input<BlobModelStore>;
  /** Extra environment of the service container. @default {} */
  readonly env?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Kubernetes provider. @default the ambient kube context */
  readonly provider?: InferenceAppArgs["provider"];
}

/** The inference app: the manifests of the stack's config (infra/manifests.ts) once the target's
 * inputs are known, with the keys, the endpoint and the node port the config gives. */
function inferenceApp(
  config: PlatformConfig,
  inputs: AppInputs,
  opts: pulumi.ComponentResourceOptions,
): InferenceApp {
  const instance = pulumi.getStack();
  const manifests = pulumi
    .all([inputs.image, inputs.workloadIdentityClientId, inputs.modelStore, inputs.env ?? {}])
    .apply(([image, workloadIdentityClientId, modelStore, env]) =>
      synthManifests({ config, instance, image, workloadIdentityClientId, modelStore, env }),
    );
  return new InferenceApp(
    NAME,
    {
      manifests,
      namespace: config.app.namespace,
      instance,
      keys: config.auth.mode === "key",
      endpoint: { host: config.ingress.host, tls: config.ingress.tls },
      nodePort: config.app.nodePort,
      provider: inputs.provider,
    },
    opts,
  );
}

/** The outputs that depend on where the platform runs (Azure, or a local cluster). */
type TargetOutputs = Pick<
  PlatformOutputs,
  "modelStoreUrl" | "kubeconfig" | "registryLoginServer" | "trainingPool"
>;

/** The stack outputs of either target: the app's, the image's and the config's, with the
 * target's own. */
function platformOutputs(
  config: PlatformConfig,
  app: InferenceApp,
  imageRef: pulumi.Output<string>,
  certificate: StackCertificate | undefined,
  target: TargetOutputs,
): PlatformOutputs {
  return {
    endpointUrl: app.endpointUrl,
    serviceUrl: app.serviceUrl,
    nodePortUrl: app.nodePortUrl,
    namespace: app.namespace,
    imageRef,
    modelVersions: pulumi.output({ ...config.app.models }),
    modelStoreUrl: target.modelStoreUrl,
    kubeconfig: target.kubeconfig,
    registryLoginServer: target.registryLoginServer,
    trainingPool: target.trainingPool,
    release: imageRef.apply((ref) => releaseOutput(config, ref)),
    authMode: pulumi.output(config.auth.mode),
    inferenceKeys: app.inferenceKeys,
    caCertificate: certificate?.caCertPem ?? pulumi.output(""),
  };
}

/** With `ingress.certificate: stack-ca` (and TLS on a Gateway): the listener's certificate from
 * the stack's CA, in the data plane's namespace, written before the Gateway that names it. */
function stackCertificate(
  config: PlatformConfig,
  opts: Pick<StackCertificateArgs, "dependsOn" | "provider"> = {},
): StackCertificate | undefined {
  const { ingress } = config;
  if (!ingress.tls || ingress.api !== "gateway" || ingress.certificate !== "stack-ca") {
    return undefined;
  }
  return new StackCertificate(`${NAME}-ca`, {
    host: ingress.host,
    secretName: ingress.tlsSecretName,
    namespace: ingress.controllerNamespace!,
    gatewayNamespace: config.app.namespace,
    ...opts,
  });
}
