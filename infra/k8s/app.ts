import { randomBytes } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { InferenceChart, KEY_SECRETS, SERVICE_PORT } from "./inference-chart";
import { recommendedLabels } from "./labels";
import { synthManifests } from "./manifests";
import type { BlobModelStore } from "./training-chart";

export interface InferenceAppArgs {
  /** The validated platform config (app, ingress, training sections are used). */
  readonly config: PlatformConfig;
  /** `app.kubernetes.io/instance` of every object. @default the stack name */
  readonly instance?: string;
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
  readonly provider?: k8s.Provider;
}

/**
 * The inference service and its training CronJob, authored as cdk8s charts and deployed by
 * Pulumi as one ConfigGroup (which orders the Namespace before the objects in it).
 */
export class InferenceApp extends pulumi.ComponentResource {
  /** The namespace every object lives in. */
  readonly namespace: pulumi.Output<string>;
  /** The URL of the ingress endpoint. */
  readonly endpointUrl: pulumi.Output<string>;
  /** In-cluster URL of the Service. */
  readonly serviceUrl: pulumi.Output<string>;
  /** `http://127.0.0.1:<app.nodePort>/` when the Service has a fixed node port, else "". */
  readonly nodePortUrl: pulumi.Output<string>;
  /** The deployed objects. */
  readonly manifests: k8s.yaml.v2.ConfigGroup;
  /** With `auth.mode: key`: the Secrets holding the primary and the secondary key. */
  readonly keySecrets: Partial<Record<KeyName, k8s.core.v1.Secret>>;
  /** The two keys (a secret output; `{}` unless `auth.mode` is `key`). */
  readonly inferenceKeys: pulumi.Output<Partial<Record<KeyName, string>>>;

  constructor(name: string, args: InferenceAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:InferenceApp", name, {}, opts);
    const { config } = args;
    const instance = args.instance ?? pulumi.getStack();

    const objs = pulumi
      .all([args.image, args.workloadIdentityClientId, args.modelStore, args.env ?? {}])
      .apply(([image, workloadIdentityClientId, modelStore, env]) =>
        synthManifests({ config, instance, image, workloadIdentityClientId, modelStore, env }),
      );
    this.manifests = new k8s.yaml.v2.ConfigGroup(
      `${name}-manifests`,
      { objs },
      { parent: this, provider: args.provider },
    );

    // The keys: generated once, then kept in the stack's state (`ignoreChanges`), so every `up`
    // leaves them as they are. `npm run keys -- rotate <name>` replaces one Secret (a new key);
    // the pods re-read their key files, so the other key keeps working throughout.
    this.keySecrets = {};
    if (config.auth.mode === "key") {
      for (const keyName of KEY_NAMES) {
        this.keySecrets[keyName] = new k8s.core.v1.Secret(
          keySecretResourceName(name, keyName),
          {
            metadata: {
              name: KEY_SECRETS[keyName],
              namespace: config.app.namespace,
              labels: recommendedLabels(instance, InferenceChart.NAME),
            },
            type: "Opaque",
            data: { [keyName]: Buffer.from(generateKey()).toString("base64") },
          },
          {
            parent: this,
            provider: args.provider,
            // The namespace comes with the manifests; the pods mount the Secrets as optional.
            dependsOn: [this.manifests],
            ignoreChanges: ["data", "stringData"],
            deleteBeforeReplace: true,
            additionalSecretOutputs: ["data"],
          },
        );
      }
    }
    this.inferenceKeys = pulumi.secret(
      pulumi
        .all(
          Object.entries(this.keySecrets).map(([keyName, secret]) =>
            secret!.data.apply((data) => [keyName, decodeKey(data?.[keyName])] as const),
          ),
        )
        .apply((pairs) => Object.fromEntries(pairs) as Partial<Record<KeyName, string>>),
    );

    this.namespace = pulumi.output(config.app.namespace);
    this.endpointUrl = pulumi.output(endpointUrl(config));
    this.serviceUrl = pulumi.output(
      `http://inference.${config.app.namespace}.svc.cluster.local:${SERVICE_PORT}`,
    );
    this.nodePortUrl = pulumi.output(nodePortUrl(config));
    this.registerOutputs({
      namespace: this.namespace,
      endpointUrl: this.endpointUrl,
      serviceUrl: this.serviceUrl,
      nodePortUrl: this.nodePortUrl,
      inferenceKeys: this.inferenceKeys,
    });
  }
}

/** The two keys of a stack, as Azure ML endpoints have them: clients move between them. */
export const KEY_NAMES = ["primary", "secondary"] as const;
export type KeyName = (typeof KEY_NAMES)[number];

/** The Pulumi name of a key's Secret: `npm run keys -- rotate` replaces it by this name. */
export function keySecretResourceName(appName: string, keyName: KeyName): string {
  return `${appName}-key-${keyName}`;
}

/** A new key: 32 random bytes, base64url (43 characters, safe in a header). */
export function generateKey(): string {
  return randomBytes(32).toString("base64url");
}

/** A key from a Secret's `data` (base64); "" while unknown (a preview). */
export function decodeKey(data: string | undefined): string {
  return data === undefined ? "" : Buffer.from(data, "base64").toString("utf8");
}

/** The public URL of the service: the ingress host, over TLS when it is on. */
export function endpointUrl(config: Pick<PlatformConfig, "ingress">): string {
  return `${config.ingress.tls ? "https" : "http"}://${config.ingress.host}/`;
}

/** Where a fixed node port answers on the node itself (kube-proxy serves it on 127.0.0.1). */
export function nodePortUrl(config: Pick<PlatformConfig, "app">): string {
  return config.app.nodePort === undefined ? "" : `http://127.0.0.1:${config.app.nodePort}/`;
}
