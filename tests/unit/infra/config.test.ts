import { ConfigError, isDigestRef, parseConfig } from "../../../infra/config";
import { CONFIG_ERRORS, DIGEST, local, prod } from "../../support/config-errors";
import { stackConfig } from "../../support/program";

describe("parseConfig defaults", () => {
  test("a minimal local config gets every documented default", () => {
    const c = parseConfig(local);
    expect(c.target).toBe("local");
    expect(c.app).toEqual({
      namespace: "mlops",
      replicas: 1,
      autoscaling: { maxReplicas: 3, targetCpuPercent: 70 },
      resources: {
        cpuRequestMillis: 250,
        cpuLimitMillis: 1000,
        memoryRequestMib: 256,
        memoryLimitMib: 512,
      },
      models: { "mpg-regressor": "1", "penguin-classifier": "1" },
      modelTraffic: {},
      modelShadow: {},
      serviceType: "ClusterIP",
      terminationGracePeriodSeconds: 30,
      maxInFlight: 64,
    });
    expect(c.auth).toEqual({ mode: "key", role: "Score" });
    expect(c.ingress.tls).toBe(false);
    expect(c.training.schedule).toBe("0 3 * * *");
    expect(c.release.strategy).toBe("rolling");
    expect(c.azure).toBeUndefined();
  });

  test("an Azure config defaults the training pool to min 0 and the system pool to min 2", () => {
    const c = parseConfig(prod);
    expect(c.azure!.trainingPool.minCount).toBe(0);
    expect(c.azure!.systemPool.minCount).toBe(2);
    expect(c.ingress.tls).toBe(true);
  });

  test("a configured 0 stays 0 (no || defaults)", () => {
    const c = parseConfig({ ...prod, azure: { trainingPool: { minCount: 0, maxCount: 5 } } });
    expect(c.azure!.trainingPool).toMatchObject({ minCount: 0, maxCount: 5 });
  });

  test.each(["local", "dev", "prod"])("Pulumi.%s.yaml is valid", (stack) => {
    expect(() => parseConfig(stackConfig(stack))).not.toThrow();
  });

  test("isDigestRef accepts only repo@sha256:<64 hex>", () => {
    expect(isDigestRef(DIGEST)).toBe(true);
    expect(isDigestRef("repo:1.0")).toBe(false);
    expect(isDigestRef("repo@sha256:abc")).toBe(false);
  });
});

describe("traffic layer (mlops:ingress)", () => {
  test("defaults: the Gateway API, Envoy Gateway's class, its namespace as the data plane", () => {
    const c = parseConfig(local);
    expect(c.ingress).toEqual({
      api: "gateway",
      gatewayClassName: "envoy-gateway",
      className: undefined,
      host: "mlops.localtest.me",
      tls: false,
      tlsSecretName: "mlops-tls",
      certificate: "stack-ca",
      controllerNamespace: "envoy-gateway-system",
      metricsNamespace: "monitoring",
      rateLimitPerClient: 100,
    });
  });

  test("ingress.certificate: the program issues it on Azure with the Gateway API, from the stack's CA on the local target; with an Ingress it is external", () => {
    const dev = parseConfig(stackConfig("dev"));
    expect(dev.ingress.certificate).toBe("self-signed");
    const ingressApi = parseConfig({
      ...stackConfig("dev"),
      ingress: { api: "ingress", className: "c", controllerNamespace: "n", tls: true },
    });
    expect(ingressApi.ingress.certificate).toBe("external");
    // Said outright, self-signed is accepted where the program issues it, and on Azure with an
    // Ingress it is refused as on the local target.
    const explicit = { ...stackConfig("dev"), ingress: { tls: true, certificate: "self-signed" } };
    expect(parseConfig(explicit).ingress.certificate).toBe("self-signed");
    expect(() =>
      parseConfig({
        ...stackConfig("dev"),
        ingress: {
          api: "ingress",
          className: "c",
          controllerNamespace: "n",
          tls: true,
          certificate: "self-signed",
        },
      }),
    ).toThrow(
      'mlops:ingress.certificate: got "self-signed"; the program issues a certificate on mlops:target "azure" with ingress.api "gateway" only',
    );
    expect(() =>
      parseConfig({ ...local, ingress: { tls: true, certificate: "self-signed" } }),
    ).toThrow(
      'mlops:ingress.certificate: got "self-signed"; the program issues a certificate on mlops:target "azure" with ingress.api "gateway" only; use "external" and create the Secret',
    );
    expect(() => parseConfig({ ...local, ingress: { certificate: "external" } })).toThrow(
      'mlops:ingress.certificate: got "external"; only used with ingress.tls: true',
    );
    expect(() =>
      parseConfig({ ...stackConfig("dev"), ingress: { tls: true, certificate: "acme" } }),
    ).toThrow('mlops:ingress.certificate: got "acme"; allowed: self-signed, stack-ca, external');
    expect(() =>
      parseConfig({
        ...local,
        ingress: {
          api: "ingress",
          className: "c",
          controllerNamespace: "n",
          tls: true,
          certificate: "stack-ca",
        },
      }),
    ).toThrow(
      'mlops:ingress.certificate: got "stack-ca"; the stack\'s CA signs the certificate of a Gateway listener: needs ingress.api "gateway"; use "external" and create the Secret',
    );
  });

  test("ingress.api ingress: the class and the controller's namespace are the user's", () => {
    const c = parseConfig({
      ...local,
      ingress: { api: "ingress", className: "traefik", controllerNamespace: "traefik" },
    });
    expect(c.ingress).toMatchObject({
      api: "ingress",
      className: "traefik",
      controllerNamespace: "traefik",
    });
  });
});

describe("invalid config names the key, the value and what is allowed", () => {
  const cases = CONFIG_ERRORS;
  test.each(cases)("%s", (_name, raw, message) => {
    expect(() => parseConfig(raw)).toThrow(
      new ConfigError("x", 0, "").constructor as typeof ConfigError,
    );
    expect(() => parseConfig(raw)).toThrow(message);
  });
});
