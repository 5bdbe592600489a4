import { randomBytes } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { InferenceChart, KEY_SECRETS, SERVICE_PORT } from "./inference-chart";
import { recommendedLabels } from "./labels";

/** A Kubernetes manifest as cdk8s synthesises it. */
export type Manifest = { apiVersion: string; kind: string; metadata: { name: string } } & Record<
  string,
  unknown
>;

/** Where clients reach the service: the ingress host, over TLS or not. */
export interface Endpoint {
  readonly host: string;
  readonly tls: boolean;
}

export interface InferenceAppArgs {
  /** The objects to deploy: the inference and training charts' manifests (and the monitoring
   * chart's), the Namespace first (infra/manifests.ts synthesises them from the config). */
  readonly manifests: pulumi.Input<Manifest[]>;
  /** The namespace the manifests create and put the service in; the keys' Secrets go there. */
  readonly namespace: string;
  /** `app.kubernetes.io/instance` of the keys' Secrets (the manifests' own). @default the stack
   * name */
  readonly instance?: string;
  /** Make the stack's two keys (`auth.mode: key`), which the pods and the Gateway read. */
  readonly keys: boolean;
  /** The public endpoint (`ingress.host`, `ingress.tls`). */
  readonly endpoint: Endpoint;
  /** The Service's fixed node port (`app.nodePort`). @default no fixed port: Kubernetes picks
   * one for a NodePort or LoadBalancer Service, and `nodePortUrl` is "" */
  readonly nodePort?: number;
  /** Kubernetes provider. @default the ambient kube context */
  readonly provider?: k8s.Provider;
}

/**
 * The inference service and its training CronJob, authored as cdk8s charts and deployed by
 * Pulumi as one ConfigGroup (which orders the Namespace before the objects in it), with the
 * stack's keys when it authenticates by key.
 */
export class InferenceApp extends pulumi.ComponentResource {
  /** The namespace every object lives in. */
  readonly namespace: pulumi.Output<string>;
  /** The URL of the ingress endpoint. */
  readonly endpointUrl: pulumi.Output<string>;
  /** In-cluster URL of the Service. */
  readonly serviceUrl: pulumi.Output<string>;
  /** `http://127.0.0.1:<nodePort>/` when the Service has a fixed node port, else "". */
  readonly nodePortUrl: pulumi.Output<string>;
  /** The deployed objects. */
  readonly manifests: k8s.yaml.v2.ConfigGroup;
  /** With `keys`: the Secrets holding the primary and the secondary key. */
  readonly keySecrets: Partial<Record<KeyName, k8s.core.v1.Secret>>;
  /** The two keys (a secret output; `{}` without `keys`). */
  readonly inferenceKeys: pulumi.Output<Partial<Record<KeyName, string>>>;

  constructor(name: string, args: InferenceAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:InferenceApp", name, {}, opts);
    const { namespace } = args;
    const instance = args.instance ?? pulumi.getStack();

    this.manifests = new k8s.yaml.v2.ConfigGroup(
      `${name}-manifests`,
      { objs: args.manifests },
      { parent: this, provider: args.provider },
    );

    // The keys: generated once, then kept in the stack's state (`ignoreChanges`), so every `up`
    // leaves them as they are. `npm run keys -- rotate <name>` replaces one Secret (a new key);
    // the pods re-read their key files, so the other key keeps working throughout.
    this.keySecrets = {};
    if (args.keys) {
      for (const keyName of KEY_NAMES) {
        this.keySecrets[keyName] = new k8s.core.v1.Secret(
          keySecretResourceName(name, keyName),
          {
            metadata: {
              name: KEY_SECRETS[keyName],
              namespace,
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

    this.namespace = pulumi.output(namespace);
    this.endpointUrl = pulumi.output(endpointUrl(args.endpoint));
    this.serviceUrl = pulumi.output(
      `http://inference.${namespace}.svc.cluster.local:${SERVICE_PORT}`,
    );
    this.nodePortUrl = pulumi.output(nodePortUrl(args.nodePort));
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
export function endpointUrl(endpoint: Endpoint): string {
  return `${endpoint.tls ? "https" : "http"}://${endpoint.host}/`;
}

/** Where a fixed node port answers on the node itself (kube-proxy serves it on 127.0.0.1). */
export function nodePortUrl(nodePort: number | undefined): string {
  return nodePort === undefined ? "" : `http://127.0.0.1:${nodePort}/`;
}
