/**
 * `mlops:auth` in the config: key by default in every stack, none only in a local stack, entra's
 * required keys and derived issuer and key set, and the entra-only keys refused in any other mode.
 * What the chart and the program make of each mode: tests/unit/infra/k8s/auth.test.ts.
 */
import { ConfigError, parseConfig } from "../../../infra/config";
import { stackConfig, type StackName } from "../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const TENANT = "0d9c1e52-7a4b-4c39-9f0e-2b8a6d5e4f31";
const ENTRA = { mode: "entra", tenantId: TENANT, audience: "api://mlops-inference" };

function config(stack: StackName, overrides: Obj = {}) {
  return parseConfig({ ...stackConfig(stack), ...overrides });
}

describe("config: mlops:auth", () => {
  test.each(["local", "dev", "prod"] as const)("%s authenticates with keys by default", (stack) => {
    expect(config(stack).auth).toEqual({ mode: "key", role: "Score" });
  });

  test("none is accepted in a local stack that says so", () => {
    expect(config("local", { auth: { mode: "none" } }).auth.mode).toBe("none");
  });

  test.each(["dev", "prod"] as const)("%s refuses none, naming the key", (stack) => {
    const parse = () => config(stack, { auth: { mode: "none" } });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(
      `mlops:auth.mode: got "none"; only a stack whose environment is "local" may serve without authentication; a ${stack} stack uses "key" or "entra"`,
    );
  });

  test("an unknown mode is refused with the allowed ones", () => {
    expect(() => config("dev", { auth: { mode: "open" } })).toThrow(
      'mlops:auth.mode: got "open"; allowed: key, entra, none',
    );
  });

  test("entra derives the issuer and key set of the tenant", () => {
    expect(config("prod", { auth: ENTRA }).auth).toEqual({
      mode: "entra",
      role: "Score",
      tenantId: TENANT,
      audience: "api://mlops-inference",
      issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
      jwksUrl: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
    });
  });

  test.each([
    [
      { mode: "entra", audience: "api://x" },
      "mlops:auth.tenantId: got nothing; required with auth.mode: entra",
    ],
    [
      { mode: "entra", tenantId: TENANT },
      "mlops:auth.audience: got nothing; required with auth.mode: entra",
    ],
    [{ tenantId: TENANT }, `mlops:auth.tenantId: got "${TENANT}"; only used with auth.mode: entra`],
    [
      { ...ENTRA, tenantId: "Not-A-Guid" },
      'mlops:auth.tenantId: got "Not-A-Guid"; expected an Entra tenant id',
    ],
    [
      { ...ENTRA, jwksUrl: "http://keys.example/" },
      'mlops:auth.jwksUrl: got "http://keys.example/"; expected an https URL',
    ],
  ])("%j is refused: %s", (auth, message) => {
    expect(() => config("dev", { auth })).toThrow(message);
  });
});

describe.each(["key", "none"] as const)("auth.mode %s refuses every entra-only key", (mode) => {
  const VALUES = {
    tenantId: TENANT,
    audience: "api://mlops-inference",
    issuer: "https://issuer.example/v2.0",
    jwksUrl: "https://issuer.example/keys",
  } as const;
  test.each(Object.entries(VALUES))("auth.%s", (key, value) => {
    expect(() => config("local", { auth: { mode, [key]: value } })).toThrow(
      `mlops:auth.${key}: got ${JSON.stringify(value)}; only used with auth.mode: entra`,
    );
  });
});
