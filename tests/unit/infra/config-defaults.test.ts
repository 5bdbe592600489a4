import { z } from "zod";
import {
  DERIVED,
  keyDefault,
  parseConfig,
  StackConfigSchema,
  type KeyDefault,
} from "../../../infra/config";
import { DIGEST, local, prod } from "../../support/config-errors";
import { stackConfig } from "../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** Every key of the schema, sections and their keys, depth first; a key of several release
 * strategies once per strategy. */
function keysOf(schema: z.ZodType, prefix = ""): Array<[path: string, schema: z.ZodType]> {
  let inner = schema;
  // .optional(), .default(), .prefault() wrap the section.
  while ("innerType" in inner._zod.def) inner = inner._zod.def.innerType as z.ZodType;
  const shapes =
    inner instanceof z.ZodObject
      ? [inner.shape]
      : inner instanceof z.ZodDiscriminatedUnion
        ? (inner.options as z.ZodObject[]).map((o) => o.shape)
        : [];
  return shapes.flatMap((shape) =>
    Object.entries(shape as Record<string, z.ZodType>).flatMap(([name, child]) => [
      [prefix + name, child] as [string, z.ZodType],
      ...keysOf(child, `${prefix}${name}.`),
    ]),
  );
}

const KEYS = keysOf(StackConfigSchema);
const WITH_DEFAULT = KEYS.flatMap(([path, schema]) => {
  const absent = keyDefault(schema);
  return absent === undefined ? [] : [[path, absent] as [string, KeyDefault]];
});

/** The value at `path`, or `missing` when an object on the way (or the key itself) is not there. */
function at(value: unknown, path: string): { missing: true } | { missing: false; value: unknown } {
  let node = value;
  for (const key of path.split(".")) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, key)) {
      return { missing: true };
    }
    node = (node as Obj)[key];
  }
  return { missing: false, value: node };
}

const TENANT = "00000000-1111-2222-3333-444444444444";
const entra = { mode: "entra", tenantId: TENANT, audience: "api://mlops-inference" };
const azureDev = { ...local, environment: "dev", target: "azure" };

/** Valid stack values that leave out many keys, between them every key that has a derived
 * default, each where it applies. */
const SAMPLES: Obj[] = [
  local,
  prod,
  azureDev,
  ...["local", "dev", "prod"].map((stack) => stackConfig(stack)),
  { ...local, app: { replicas: 4, namespace: "shop" } },
  { ...prod, app: {}, azure: { tier: "Premium" } },
  { ...local, ingress: { api: "ingress", className: "nginx", controllerNamespace: "nginx" } },
  { ...local, ingress: { tls: true } },
  { ...azureDev, ingress: { tls: true }, monitoring: { scraper: "prometheus-operator" } },
  { ...local, auth: entra },
  { ...local, auth: { ...entra, issuer: "https://issuer.example/" } },
  { ...local, training: { schedule: "0 3 * * 1", activeDeadlineSeconds: 601 } },
  { ...local, release: { strategy: "canary", canary: { image: DIGEST, weight: 10 } } },
  {
    ...local,
    app: { models: { "mpg-regressor": "3" } },
    release: { strategy: "blueGreen", green: { models: { "mpg-regressor": "2" } } },
  },
  { ...local, release: { strategy: "blueGreen" } },
  { ...local, monitoring: { scraper: "prometheus-operator" } },
];

describe("each default that is not one fixed value is one helper: its words and its code", () => {
  test("the text of every key's default is its helper's text, and only keys with a helper have one", () => {
    expect(WITH_DEFAULT.length).toBeGreaterThan(20);
    for (const [path, schema] of KEYS) {
      const documented = z.globalRegistry.get(schema)?.defaultText;
      expect(`${path}: ${documented}`).toBe(`${path}: ${keyDefault(schema)?.text}`);
    }
  });

  test("every DERIVED default is documented at a key, and every computed default is one of DERIVED", () => {
    const derived = new Set<KeyDefault>(Object.values(DERIVED));
    const documented = new Set(WITH_DEFAULT.map(([, absent]) => absent));
    for (const [name, d] of Object.entries(DERIVED)) {
      expect(`${name}: ${documented.has(d)}`).toBe(`${name}: true`);
    }
    for (const [path, absent] of WITH_DEFAULT) {
      expect(`${path}: ${absent.of !== undefined}`).toBe(`${path}: ${derived.has(absent)}`);
    }
    // The three Deployments of a release share one default for their models.
    expect(WITH_DEFAULT.filter(([, d]) => d === DERIVED.trackModels).map(([path]) => path)).toEqual(
      ["release.canary.models", "release.blue.models", "release.green.models"],
    );
  });

  test("parseConfig gives a key left out its helper's value, and leaves an unset key unset", () => {
    const applied = new Map<string, number>();
    for (const raw of SAMPLES) {
      const given = StackConfigSchema.parse(raw);
      const config = parseConfig(raw);
      for (const [path, absent] of WITH_DEFAULT) {
        const written = at(given, path);
        if (!written.missing && written.value !== undefined) continue;
        const result = at(config, path);
        if (absent.of === undefined) {
          expect(`${path}: ${result.missing ? undefined : result.value}`).toBe(
            `${path}: undefined`,
          );
        } else if (!result.missing) {
          // Missing: the key does not apply to this config (an azure key on the local target,
          // the Entra keys without auth.mode entra, the canary of a rolling release).
          expect([path, result.value]).toEqual([path, absent.of(given)]);
          applied.set(path, (applied.get(path) ?? 0) + 1);
        }
      }
    }
    const derivedKeys = WITH_DEFAULT.filter(([, d]) => d.of !== undefined).map(([path]) => path);
    expect(derivedKeys.filter((path) => !applied.has(path))).toEqual([]);
  });
});

/** Stack values -> what a key left out gets, as its text says. */
const EXAMPLES: { [K in keyof typeof DERIVED]: Array<[Obj, unknown]> } = {
  tier: [
    [prod, "Standard"],
    [azureDev, "Free"],
  ],
  availabilityZones: [
    [prod, ["1", "2", "3"]],
    [azureDev, []],
  ],
  replicas: [
    [{ ...prod, app: {} }, 2],
    [local, 1],
  ],
  maxReplicas: [
    [local, 3],
    [{ ...local, app: { replicas: 4 } }, 8],
    [{ ...prod, app: {} }, 4],
  ],
  gatewayClassName: [[local, "envoy-gateway"]],
  tls: [
    [prod, true],
    [{ ...local, environment: "dev" }, false],
  ],
  tlsSecretName: [
    [local, "mlops-tls"],
    [{ ...local, app: { namespace: "shop" } }, "shop-tls"],
  ],
  certificate: [
    [prod, "self-signed"],
    [local, "stack-ca"],
    [{ ...prod, ingress: { api: "ingress" } }, "external"],
    [{ ...local, ingress: { api: "ingress" } }, "external"],
  ],
  controllerNamespace: [[local, "envoy-gateway-system"]],
  metricsNamespace: [
    [prod, "kube-system"],
    [{ ...prod, monitoring: { scraper: "prometheus-operator" } }, "monitoring"],
    [local, "monitoring"],
  ],
  issuer: [[{ ...local, auth: entra }, `https://login.microsoftonline.com/${TENANT}/v2.0`]],
  jwksUrl: [
    [{ ...local, auth: entra }, `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`],
  ],
  expectedDurationMinutes: [
    [local, 60],
    [{ ...local, training: { activeDeadlineSeconds: 601 } }, 11],
  ],
  trackModels: [
    [{ ...local, app: { models: { "mpg-regressor": "3" } } }, { "mpg-regressor": "3" }],
  ],
  scraper: [
    [prod, "azure-managed"],
    [local, "none"],
  ],
  trainingMaxAgeHours: [
    [local, 26],
    [{ ...local, training: { schedule: "0 3 * * 1" } }, 170],
    [{ ...local, training: { schedule: "@weekly" } }, 170],
  ],
  grafana: [[prod, false]],
  operatorLabels: [[local, {}]],
};

test.each(
  Object.entries(EXAMPLES).map(
    ([name, cases]) => [name, DERIVED[name as keyof typeof DERIVED].text, cases] as const,
  ),
)("DERIVED.%s is what its text says: %s", (name, _text, cases) => {
  for (const [raw, expected] of cases) {
    const of = DERIVED[name as keyof typeof DERIVED].of as (c: unknown) => unknown;
    expect([raw, of(StackConfigSchema.parse(raw))]).toEqual([raw, expected]);
  }
});
