import { readFileSync } from "node:fs";
import * as path from "node:path";
import * as vm from "node:vm";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../service/src/app";
import { ModelStore } from "../../service/src/model/store";
import {
  artifacts,
  keysDir,
  localClient,
  SERVICE_DIR,
  testConfig,
  type HttpReply,
  type HttpRequest,
} from "./helpers";

interface FormApi {
  buildInferRequest(
    metadata: unknown,
    values: Record<string, string>,
  ): { inputs: { name: string; data: unknown[] }[] };
  predict(
    fetchFn: (
      url: string,
      init?: { method?: string; headers?: Record<string, string>; body?: string },
    ) => Promise<unknown>,
    metadata: unknown,
    values: Record<string, string>,
  ): Promise<{
    text: string;
    label?: string;
    value?: number;
    probabilities?: Record<string, number>;
  }>;
}

let app: FastifyInstance;
let call: (req: HttpRequest | string) => Promise<HttpReply>;

beforeAll(async () => {
  const { mpg, penguin } = artifacts();
  app = await buildApp({
    config: testConfig(),
    store: ModelStore.fromArtifacts([mpg, penguin], { driftWindow: 10 }),
    logger: false,
  });
  call = await localClient(app);
});
afterAll(() => app.close());

/** A 1980 Japanese car as the form's fields hold it (text). */
const CAR_FORM = {
  Cylinders: "4",
  Displacement: "97",
  Horsepower: "88",
  Weight_in_lbs: "2130",
  Acceleration: "14.5",
  Year: "1980",
  Origin: "Japan",
};

/** Loads the page's script the way a browser would (no DOM: it only exposes its API). */
async function loadScript(): Promise<FormApi> {
  const res = await call("/app.js");
  expect(res.statusCode).toBe(200);
  expect(res.headers["content-type"]).toMatch(/^text\/javascript/);
  const sandbox: Record<string, unknown> = {};
  sandbox.globalThis = sandbox;
  vm.runInNewContext(res.body, sandbox);
  return sandbox.InferenceForm as FormApi;
}

/** fetch() for the script, backed by a real server (`client`). */
const fetchVia =
  (client: () => (req: HttpRequest | string) => Promise<HttpReply>) =>
  async (
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  ) => {
    const r = await client()({
      method: init.method ?? "GET",
      url,
      headers: init.headers,
      payload: init.body,
    });
    return { ok: r.statusCode < 400, status: r.statusCode, json: async () => r.json() };
  };
const fetchViaServer = fetchVia(() => call);

describe("web form", () => {
  it("GET / returns the page, which loads only a same-origin script under a strict CSP", async () => {
    const res = await call("/");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.body).toContain('<script src="/app.js" defer></script>');
    const scripts = [...res.body.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    // No inline or third-party scripts: the form and the model-health view.
    expect(scripts).toEqual(['<script src="/app.js" defer>', '<script src="/health.js" defer>']);
    expect(res.body).not.toMatch(/https?:\/\//);
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("connect-src 'self'");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect((await call("/style.css")).headers["content-type"]).toMatch(/^text\/css/);
  });

  it("the served script is the file in service/public", async () => {
    const res = await call("/app.js");
    expect(res.body).toBe(readFileSync(path.join(SERVICE_DIR, "public", "app.js"), "utf8"));
  });

  it("its predict() performs a real regression prediction against the server", async () => {
    const form = await loadScript();
    const metadata = (await call("/v2/models/mpg-regressor")).json();
    const values = CAR_FORM;
    const d = await form.predict(fetchViaServer, metadata, values);
    const direct = await call({
      method: "POST",
      url: "/v2/models/mpg-regressor/infer",
      payload: form.buildInferRequest(metadata, values),
    });
    expect(d.value).toBe(direct.json().outputs[0].data[0]);
    expect(d.text).toBe(`Miles_per_Gallon: ${d.value!.toFixed(2)}`);
  });

  it("its predict() shows label and probabilities for the classifier", async () => {
    const form = await loadScript();
    const metadata = (await call("/v2/models/penguin-classifier")).json();
    const d = await form.predict(fetchViaServer, metadata, {
      Beak_Length_mm: "39.1",
      Beak_Depth_mm: "18.7",
      Flipper_Length_mm: "181",
      Body_Mass_g: "3750",
      Island: "Torgersen",
      Sex: "MALE",
    });
    expect(d.label).toBe("Adelie");
    expect(Object.keys(d.probabilities!)).toEqual(["Adelie", "Chinstrap", "Gentoo"]);
    expect(d.text).toMatch(
      /^Species: Adelie \(Adelie \d+\.\d%, Chinstrap \d+\.\d%, Gentoo \d+\.\d%\)$/,
    );
  });

  it("its predict() surfaces the server's 4xx message, and refuses non-numbers before sending", async () => {
    const form = await loadScript();
    const metadata = (await call("/v2/models/penguin-classifier")).json();
    const values = {
      Beak_Length_mm: "39",
      Beak_Depth_mm: "18",
      Flipper_Length_mm: "181",
      Body_Mass_g: "3750",
      Island: "Atlantis",
      Sex: "MALE",
    };
    await expect(form.predict(fetchViaServer, metadata, values)).rejects.toThrow(
      "input 'Island': unknown category",
    );
    expect(() => form.buildInferRequest(metadata, { ...values, Body_Mass_g: "heavy" })).toThrow(
      "Body_Mass_g: enter a number",
    );
  });

  it("its predict() shows the 422 naming the feature when the arithmetic overflows", async () => {
    const form = await loadScript();
    const metadata = (await call("/v2/models/mpg-regressor")).json();
    const values = {
      Cylinders: "-1.7e308",
      Displacement: "97",
      Horsepower: "88",
      Weight_in_lbs: "2130",
      Acceleration: "14.5",
      Year: "1.7e308",
      Origin: "Japan",
    };
    await expect(form.predict(fetchViaServer, metadata, values)).rejects.toThrow(
      "input 'Year' at row 0: value 1.7e+308 is too large in magnitude for the model",
    );
  });
});

describe("web form against a server that requires the key", () => {
  let keyed: FastifyInstance;
  let callKeyed: (req: HttpRequest | string) => Promise<HttpReply>;
  let keys: ReturnType<typeof keysDir>;
  beforeAll(async () => {
    keys = keysDir();
    const { mpg, penguin } = artifacts();
    keyed = await buildApp({
      config: testConfig({ AUTH_MODE: "key", AUTH_KEYS_DIR: keys.dir }),
      store: ModelStore.fromArtifacts([mpg, penguin], { driftWindow: 10 }),
      logger: false,
    });
    callKeyed = await localClient(keyed);
  });
  afterAll(() => keyed.close());

  /** A sessionStorage: what the page keeps for this tab only. */
  function storage() {
    const items = new Map<string, string>();
    return {
      getItem: (k: string) => items.get(k) ?? null,
      setItem: (k: string, v: string) => void items.set(k, v),
      removeItem: (k: string) => void items.delete(k),
      items,
    };
  }

  it("the page asks for the key: a password field, not remembered by the browser", async () => {
    const page = (await callKeyed("/")).body;
    expect(page).toContain('<input id="auth-key" type="password" autocomplete="off"');
    expect(page).toContain("sessionStorage");
  });

  it("without a key its predict() surfaces the 401; with the key from sessionStorage it predicts", async () => {
    const form = (await loadScript()) as FormApi & {
      withKey: (f: typeof fetchViaServer, s: ReturnType<typeof storage>) => typeof fetchViaServer;
      KEY_ITEM: string;
    };
    const viaKeyed = fetchVia(() => callKeyed);
    const metadata = (
      await callKeyed({
        url: "/v2/models/mpg-regressor",
        headers: { authorization: `Bearer ${keys.primary}` },
      })
    ).json();
    const values = CAR_FORM;
    const session = storage();
    await expect(form.predict(form.withKey(viaKeyed, session), metadata, values)).rejects.toThrow(
      "authentication required",
    );
    session.setItem(form.KEY_ITEM, keys.secondary);
    const d = await form.predict(form.withKey(viaKeyed, session), metadata, values);
    expect(d.text).toMatch(/^Miles_per_Gallon: \d+\.\d\d$/);
    expect([...session.items.keys()]).toEqual(["mlops-inference-key"]);
  });
});
