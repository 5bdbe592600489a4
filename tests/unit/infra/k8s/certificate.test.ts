/**
 * The stack CA's certificates (infra/k8s/certificate.ts): real keys and signatures, checked with
 * Node's own X.509 parser; the renewal window `up` applies; the objects the component writes.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import {
  CA_EARLY_RENEWAL_HOURS,
  caCertificateInputs,
  certificateProvider,
  dueForRenewal,
  issue,
  SERVING_EARLY_RENEWAL_HOURS,
  servingCertificateInputs,
} from "../../../../infra/k8s/certificate";

const HOST = "mlops.localtest.me";
const HOUR = 3_600_000;

describe("issue", () => {
  const now = new Date("2026-12-01T00:00:00Z");
  const ca = issue(caCertificateInputs(), now);
  const serving = issue(servingCertificateInputs(HOST, ca.certPem, ca.keyPem), now);
  const caCert = new X509Certificate(ca.certPem);
  const cert = new X509Certificate(serving.certPem);

  test("the CA is a CA, self-signed, for a year; it signs certificates only", () => {
    expect(caCert.ca).toBe(true);
    expect(ca.certPem).not.toContain("\r");
    expect(caCert.checkIssued(caCert)).toBe(true);
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(caCert.subject).toBe("CN=mlops-platform stack CA\nO=mlops-platform");
    expect(Date.parse(caCert.validTo)).toBe(now.getTime() + 365 * 24 * HOUR);
    expect(caCert.keyUsage).toBeUndefined(); // Node lists extended key usage only: none on the CA
  });

  test("the serving certificate: issued by the CA for the host only, a TLS server's, 30 days", () => {
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe(`DNS:${HOST}`);
    expect(cert.checkHost(HOST)).toBe(HOST);
    expect(cert.checkHost("other.localtest.me")).toBeUndefined();
    expect(cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(Date.parse(cert.validTo)).toBe(now.getTime() + 30 * 24 * HOUR);
    expect(serving.notAfter).toBe(new Date(now.getTime() + 30 * 24 * HOUR).toISOString());
    // Its key is the one written beside it.
    expect(cert.checkPrivateKey(createPrivateKey(serving.keyPem))).toBe(true);
  });

  test("not signed by another CA", () => {
    const other = new X509Certificate(issue(caCertificateInputs(), now).certPem);
    expect(cert.verify(other.publicKey)).toBe(false);
  });
});

describe("renewal: up replaces a certificate inside its window, and nothing else", () => {
  const notAfter = "2027-01-01T00:00:00.000Z";
  const end = Date.parse(notAfter);

  test.each([
    [SERVING_EARLY_RENEWAL_HOURS, end - SERVING_EARLY_RENEWAL_HOURS * HOUR - 1, false],
    [SERVING_EARLY_RENEWAL_HOURS, end - SERVING_EARLY_RENEWAL_HOURS * HOUR, true],
    [CA_EARLY_RENEWAL_HOURS, end - CA_EARLY_RENEWAL_HOURS * HOUR - 1, false],
    [CA_EARLY_RENEWAL_HOURS, end + 1, true],
  ])("window %d h, at %d: due %s", (hours, at, due) => {
    expect(dueForRenewal(notAfter, hours, new Date(at))).toBe(due);
  });

  test("an unreadable end of validity is due", () => {
    expect(dueForRenewal("", 240, new Date())).toBe(true);
  });

  test("diff: unchanged inputs inside validity change nothing; a new host or CA replaces; an expired one is replaced", async () => {
    const inputs = servingCertificateInputs(HOST, "ca-pem", "ca-key");
    const fresh = {
      ...inputs,
      certPem: "",
      keyPem: "",
      notAfter: new Date(Date.now() + 20 * 24 * HOUR).toISOString(),
    };
    expect(await certificateProvider.diff!("id", fresh, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    expect(
      await certificateProvider.diff!(
        "id",
        fresh,
        servingCertificateInputs("b.localtest.me", "ca-pem", "ca-key"),
      ),
    ).toMatchObject({ changes: true, replaces: ["commonName", "dnsName"] });
    expect(
      await certificateProvider.diff!(
        "id",
        fresh,
        servingCertificateInputs(HOST, "new-ca", "new-key"),
      ),
    ).toMatchObject({ changes: true, replaces: ["caCertPem"] });
    const ending = { ...fresh, notAfter: new Date(Date.now() + 5 * 24 * HOUR).toISOString() };
    expect(await certificateProvider.diff!("id", ending, inputs)).toMatchObject({
      changes: true,
      replaces: ["notAfter"],
    });
  });
});
