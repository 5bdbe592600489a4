import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config";
import { SERVICE_PORT } from "./inference-chart";
import { synthManifests } from "./manifests";
import type { BlobModelStore } from "./training-chart";

export interface InferenceAppArgs {
  /** The validated platform config (app, ingress, training sections are used). */
  readonly config: PlatformConfig;
  /** `app.kubernetes.io/instance` of every object. @default the stack name */
  readonly instance?: string;
  /** The image to run (a built digest or the pinned reference). */
  readonly image: pulumi.Input<string>;
  /** Workload identity of the service's pods (Azure). @default none */
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
    });
  }
}

/** The public URL of the service: the ingress host, over TLS when it is on. */
export function endpointUrl(config: Pick<PlatformConfig, "ingress">): string {
  return `${config.ingress.tls ? "https" : "http"}://${config.ingress.host}/`;
}

/** Where a fixed node port answers on the node itself (kube-proxy serves it on 127.0.0.1). */
export function nodePortUrl(config: Pick<PlatformConfig, "app">): string {
  return config.app.nodePort === undefined ? "" : `http://127.0.0.1:${config.app.nodePort}/`;
}
