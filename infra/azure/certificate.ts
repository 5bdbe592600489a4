/**
 * The certificate of the app Gateway's HTTPS listener on Azure, issued by the program itself, so
 * the first `up` needs nothing made by hand: with a listener whose Secret does not exist, Envoy
 * Gateway marks the listener not Programmed, creates no proxy and gives the Gateway no address,
 * and `up` times out waiting for it. The app's namespace is created with the app (it cannot hold
 * the Secret beforehand), so the Secret lives in Envoy Gateway's namespace, which exists first,
 * and a ReferenceGrant there lets Gateways of the app's namespace use it.
 *
 * The certificate is self-signed for `ingress.host`: browsers and clients that need a public CA
 * reject it (docs/traffic.md says how to replace it). `ingress.certificate: external` leaves the
 * Secret to someone else.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { ENVOY_GATEWAY_NAMESPACE } from "../k8s/envoy-gateway";
import { MANAGED_BY, PART_OF } from "../k8s/labels";

/** Validity of the certificate: a year. */
export const CERTIFICATE_VALIDITY_HOURS = 365 * 24;
/** The first `up` in the last 30 days of the validity issues a new certificate. */
export const CERTIFICATE_EARLY_RENEWAL_HOURS = 30 * 24;
/** The API of ReferenceGrant (Gateway API standard channel). */
export const REFERENCE_GRANT_API_VERSION = "gateway.networking.k8s.io/v1beta1";

export interface ListenerCertificateArgs {
  /** The listener's host name (`ingress.host`): the certificate's only DNS name. */
  readonly host: string;
  /** Name of the Secret (`ingress.tlsSecretName`). */
  readonly secretName: string;
  /** Namespace of the Gateways that may use it (`app.namespace`). */
  readonly gatewayNamespace: string;
  /** The Namespace resource of {@link ENVOY_GATEWAY_NAMESPACE}, which must exist first. */
  readonly namespace: pulumi.Resource;
  readonly provider: k8s.Provider;
}

export class ListenerCertificate extends pulumi.ComponentResource {
  /** The `kubernetes.io/tls` Secret the listener's `certificateRefs` name. */
  readonly secret: k8s.core.v1.Secret;
  readonly referenceGrant: k8s.apiextensions.CustomResource;

  constructor(name: string, args: ListenerCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:azure:ListenerCertificate", name, {}, opts);
    const { provider } = args;
    const key = new tls.PrivateKey(
      `${name}-key`,
      { algorithm: "ECDSA", ecdsaCurve: "P256" },
      { parent: this },
    );
    const cert = new tls.SelfSignedCert(
      `${name}-cert`,
      listenerCertificateArgs(args.host, key.privateKeyPem),
      { parent: this },
    );
    const objects = listenerCertificateObjects(args.secretName, args.gatewayNamespace);
    this.secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        ...objects.secret,
        // Both are secret outputs: encrypted in the state, never shown in a preview.
        stringData: { "tls.crt": cert.certPem, "tls.key": key.privateKeyPem },
      },
      { parent: this, provider, dependsOn: [args.namespace] },
    );
    this.referenceGrant = new k8s.apiextensions.CustomResource(
      `${name}-grant`,
      objects.referenceGrant,
      { parent: this, provider, dependsOn: [args.namespace] },
    );
    this.registerOutputs({});
  }
}

/** The self-signed certificate of `host`: a TLS server certificate, renewed early by `up`. */
export function listenerCertificateArgs(host: string, privateKeyPem: pulumi.Input<string>) {
  return {
    privateKeyPem,
    dnsNames: [host],
    subject: { commonName: host, organization: PART_OF },
    validityPeriodHours: CERTIFICATE_VALIDITY_HOURS,
    earlyRenewalHours: CERTIFICATE_EARLY_RENEWAL_HOURS,
    allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
  };
}

/** The Secret (without its data) in `namespace` ({@link ENVOY_GATEWAY_NAMESPACE} unless given),
 * and the ReferenceGrant there that lets Gateways of `gatewayNamespace` name it, and only it. */
export function listenerCertificateObjects(
  secretName: string,
  gatewayNamespace: string,
  namespace: string = ENVOY_GATEWAY_NAMESPACE,
) {
  const metadata = (name: string) => ({
    name,
    namespace,
    labels: {
      "app.kubernetes.io/component": "gateway-certificate",
      "app.kubernetes.io/part-of": PART_OF,
      "app.kubernetes.io/managed-by": MANAGED_BY,
    },
  });
  return {
    secret: {
      apiVersion: "v1" as const,
      kind: "Secret" as const,
      metadata: metadata(secretName),
      type: "kubernetes.io/tls",
    },
    referenceGrant: {
      apiVersion: REFERENCE_GRANT_API_VERSION,
      kind: "ReferenceGrant",
      metadata: metadata(`${secretName}-from-${gatewayNamespace}`),
      spec: {
        from: [
          { group: "gateway.networking.k8s.io", kind: "Gateway", namespace: gatewayNamespace },
        ],
        to: [{ group: "", kind: "Secret", name: secretName }],
      },
    },
  };
}
