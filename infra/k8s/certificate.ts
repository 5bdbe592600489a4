/**
 * The HTTPS listener's certificate from the stack's own CA (`ingress.certificate: stack-ca`): the
 * program makes a CA and a short-lived serving certificate for `ingress.host` signed by it, and
 * writes the certificate as a `kubernetes.io/tls` Secret in the data plane's namespace, with the
 * ReferenceGrant that lets the app's Gateway name it. A client trusts the endpoint by trusting
 * the CA: the stack's `caCertificate` output (`curl --cacert`, a gRPC channel's root
 * certificates). Nothing is made by hand, and `up` renews both before they expire.
 *
 * Both certificates are dynamic resources (issued with node-forge in the program's own process,
 * so no provider plugin is needed), kept in the stack's state: the keys are secret outputs
 * (encrypted there), never in a file. `up` compares each one's end of validity with the clock:
 * inside its renewal window it is replaced (a new CA replaces the serving certificate too).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { pki as forgePki } from "node-forge";
import { listenerCertificateObjects } from "../azure/certificate";
import { PART_OF } from "./labels";

/** The CA: valid a year, replaced (with a new serving certificate) by the first `up` in its
 * last 30 days. Clients holding the old CA must take the new `caCertificate` then. */
export const CA_VALIDITY_HOURS = 365 * 24;
export const CA_EARLY_RENEWAL_HOURS = 30 * 24;
/** The serving certificate: valid 30 days, reissued by the first `up` in its last 10. */
export const SERVING_VALIDITY_HOURS = 30 * 24;
export const SERVING_EARLY_RENEWAL_HOURS = 10 * 24;

/** What a certificate is issued from: its inputs (a change replaces it). */
export interface IssueInputs {
  readonly commonName: string;
  /** A CA (signs certificates only) or a TLS server certificate for `dnsName`. */
  readonly isCa: boolean;
  readonly dnsName?: string;
  readonly validityHours: number;
  readonly earlyRenewalHours: number;
  /** The issuer; none: self-signed. */
  readonly caCertPem?: string;
  readonly caKeyPem?: string;
}

/** What issuing gives: the certificate, its key, and when it stops being valid (ISO 8601). */
export interface Issued {
  readonly certPem: string;
  readonly keyPem: string;
  readonly notAfter: string;
}

/** Issues a certificate: a new RSA 2048 key (Node's own generator), X.509 v3, SHA-256. */
export function issue(inputs: IssueInputs, now: Date = new Date()): Issued {
  // Required here, not at the top: the dynamic provider below is serialized with this function.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const forge: typeof import("node-forge") = require("node-forge");
  const { generateKeyPairSync, randomBytes } =
    require("node:crypto") as typeof import("node:crypto");
  /* eslint-enable @typescript-eslint/no-require-imports */
  const { pki } = forge;
  const pair = generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
  });
  const cert = pki.createCertificate();
  cert.publicKey = pki.publicKeyFromPem(pair.publicKey);
  // A positive 128-bit serial (the top bit clear).
  cert.serialNumber = "0" + randomBytes(16).toString("hex");
  // A minute of slack for clocks behind this one.
  cert.validity.notBefore = new Date(now.getTime() - 60_000);
  cert.validity.notAfter = new Date(now.getTime() + inputs.validityHours * 3_600_000);
  const subject = [
    { name: "commonName", value: inputs.commonName },
    { name: "organizationName", value: "mlops-platform" },
  ];
  cert.setSubject(subject);
  const issuer =
    inputs.caCertPem === undefined ? undefined : pki.certificateFromPem(inputs.caCertPem);
  cert.setIssuer(issuer ? issuer.subject.attributes : subject);
  cert.setExtensions(
    inputs.isCa
      ? [
          { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
          { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
          { name: "subjectKeyIdentifier" },
        ]
      : [
          { name: "basicConstraints", cA: false, critical: true },
          { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
          { name: "extKeyUsage", serverAuth: true },
          { name: "subjectAltName", altNames: [{ type: 2, value: inputs.dnsName }] },
          { name: "subjectKeyIdentifier" },
          ...(issuer
            ? [
                {
                  name: "authorityKeyIdentifier",
                  keyIdentifier: issuer.generateSubjectKeyIdentifier().getBytes(),
                },
              ]
            : []),
        ],
  );
  const signingKey = pki.privateKeyFromPem(inputs.caKeyPem ?? pair.privateKey);
  cert.sign(signingKey as forgePki.rsa.PrivateKey, forge.md.sha256.create());
  return {
    // PEM with LF line ends, as OpenSSL and Node write it (forge writes CRLF).
    certPem: pki.certificateToPem(cert).replace(/\r\n/g, "\n"),
    keyPem: pair.privateKey,
    notAfter: cert.validity.notAfter.toISOString(),
  };
}

/** Whether `up` at `now` must replace a certificate valid until `notAfter`. */
export function dueForRenewal(notAfter: string, earlyRenewalHours: number, now: Date): boolean {
  const end = Date.parse(notAfter);
  return Number.isNaN(end) || now.getTime() >= end - earlyRenewalHours * 3_600_000;
}

/** The inputs whose change replaces a certificate. */
const ISSUE_KEYS = [
  "commonName",
  "isCa",
  "dnsName",
  "validityHours",
  "earlyRenewalHours",
  "caCertPem",
] as const;

/** Issues on create; on every `up`, replaces what is due for renewal or issued from other inputs. */
export const certificateProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: IssueInputs) {
    const issued = issue(inputs);
    return { id: issued.notAfter, outs: { ...inputs, ...issued } };
  },
  async diff(_id: string, olds: IssueInputs & Issued, news: IssueInputs) {
    const changed = ISSUE_KEYS.filter((k) => olds[k] !== news[k]);
    const renew = dueForRenewal(olds.notAfter, olds.earlyRenewalHours, new Date());
    const replaces = renew ? [...changed, "notAfter"] : changed;
    return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
  },
};

/** One certificate in the stack's state. */
class IssuedCertificate extends pulumi.dynamic.Resource {
  declare readonly certPem: pulumi.Output<string>;
  declare readonly keyPem: pulumi.Output<string>;
  declare readonly notAfter: pulumi.Output<string>;

  constructor(
    name: string,
    inputs: { [K in keyof IssueInputs]: pulumi.Input<IssueInputs[K]> },
    opts?: pulumi.CustomResourceOptions,
  ) {
    super(
      certificateProvider,
      name,
      { ...inputs, certPem: undefined, keyPem: undefined, notAfter: undefined },
      { ...opts, additionalSecretOutputs: ["keyPem", "caKeyPem"] },
    );
  }
}

export interface StackCertificateArgs {
  /** The listener's host name (`ingress.host`): the serving certificate's only DNS name. */
  readonly host: string;
  /** Name of the Secret (`ingress.tlsSecretName`). */
  readonly secretName: string;
  /** Where the Secret goes: the data plane's namespace (`ingress.controllerNamespace`), which
   * exists before the app's. */
  readonly namespace: string;
  /** Namespace of the Gateways that may use it (`app.namespace`). */
  readonly gatewayNamespace: string;
  /** What must exist first (the data plane's Namespace, where the program makes it). */
  readonly dependsOn?: pulumi.Input<pulumi.Resource>[];
  readonly provider?: k8s.Provider;
}

export class StackCertificate extends pulumi.ComponentResource {
  /** The CA certificate (PEM): what clients trust. Public. */
  readonly caCertPem: pulumi.Output<string>;
  readonly secret: k8s.core.v1.Secret;
  readonly referenceGrant: k8s.apiextensions.CustomResource;

  constructor(name: string, args: StackCertificateArgs, opts?: pulumi.ComponentResourceOptions) {
    super("mlops:k8s:StackCertificate", name, {}, opts);
    const { provider } = args;
    const ca = new IssuedCertificate(`${name}-ca`, caCertificateInputs(), { parent: this });
    const serving = new IssuedCertificate(
      `${name}-cert`,
      servingCertificateInputs(args.host, ca.certPem, ca.keyPem),
      { parent: this },
    );
    const objects = listenerCertificateObjects(
      args.secretName,
      args.gatewayNamespace,
      args.namespace,
    );
    const childOpts = { parent: this, provider, dependsOn: args.dependsOn };
    this.secret = new k8s.core.v1.Secret(
      `${name}-secret`,
      {
        ...objects.secret,
        // Secret outputs: encrypted in the state, never shown in a preview.
        stringData: { "tls.crt": serving.certPem, "tls.key": serving.keyPem },
      },
      childOpts,
    );
    this.referenceGrant = new k8s.apiextensions.CustomResource(
      `${name}-grant`,
      objects.referenceGrant,
      childOpts,
    );
    this.caCertPem = ca.certPem;
    this.registerOutputs({ caCertPem: this.caCertPem });
  }
}

/** The stack's CA: signs serving certificates only (path length 0). */
export function caCertificateInputs(): IssueInputs {
  return {
    commonName: `${PART_OF} stack CA`,
    isCa: true,
    validityHours: CA_VALIDITY_HOURS,
    earlyRenewalHours: CA_EARLY_RENEWAL_HOURS,
  };
}

/** The serving certificate of the listener, signed by the stack's CA. */
export function servingCertificateInputs<T>(host: string, caCertPem: T, caKeyPem: T) {
  return {
    commonName: host,
    isCa: false,
    dnsName: host,
    validityHours: SERVING_VALIDITY_HOURS,
    earlyRenewalHours: SERVING_EARLY_RENEWAL_HOURS,
    caCertPem,
    caKeyPem,
  };
}
