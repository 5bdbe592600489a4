/**
 * The model-health view of the web page (service/public/health.js): its /metrics arithmetic in a
 * sandbox, then the real page in headless Chromium (Debian's `chromium`, driven by playwright-core)
 * against a real server on 127.0.0.1: it draws each model's charts, and they move when traffic
 * arrives and when the inputs shift. Without Chromium this FAILS (install: apt-get install chromium).
 */
import * as vm from "node:vm";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { chromium, type Browser, type Page } from "playwright-core";
import { loadDataset } from "../../service/train/datasets";
import { MPG_REGRESSOR, parseYear } from "../../service/train/models";
import { buildApp } from "../../service/src/app";
import { ModelStore } from "../../service/src/model/store";
import { artifacts, localClient, testConfig, type HttpReply, type HttpRequest } from "./helpers";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
/** The page polls /metrics every 2 s; a change shows within a few polls. */
const SEEN_WITHIN_MS = 20_000;
/** Rows in each model version's drift window; each traffic phase fills it exactly. */
const WINDOW = 100;

interface HealthApi {
  parseMetrics(text: string): { name: string; labels: Record<string, string>; value: number }[];
  snapshot(samples: unknown[], atMs: number): unknown;
  rates(
    before: unknown,
    after: unknown,
  ): Record<string, { rps: number; p90Ms: number | null; psi: Record<string, number> }>;
  quantileMs(
    before: Record<string, number>,
    after: Record<string, number>,
    q: number,
  ): number | null;
}

let app: FastifyInstance;
let call: (req: HttpRequest | string) => Promise<HttpReply>;
let origin: string;

beforeAll(async () => {
  const { mpg, penguin } = artifacts();
  app = await buildApp({
    config: testConfig(),
    store: ModelStore.fromArtifacts([mpg, penguin], { driftWindow: WINDOW }),
    logger: false,
  });
  call = await localClient(app);
  origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(() => app.close());

async function healthApi(): Promise<HealthApi> {
  const res = await call("/health.js");
  expect(res.statusCode).toBe(200);
  const sandbox: Record<string, unknown> = {};
  sandbox.globalThis = sandbox;
  vm.runInNewContext(res.body, sandbox);
  return sandbox.ModelHealth as HealthApi;
}

describe("health.js arithmetic (no browser)", () => {
  test("parses the exposition format, escaped label values and +Inf included", async () => {
    const h = await healthApi();
    expect(
      h.parseMetrics(
        [
          "# HELP x help",
          'inference_http_request_duration_seconds_bucket{le="+Inf",model="m",route="/a\\"b"} 7',
          "inference_ready 1",
          "",
        ].join("\n"),
      ),
    ).toEqual([
      {
        name: "inference_http_request_duration_seconds_bucket",
        labels: { le: "+Inf", model: "m", route: '/a"b' },
        value: 7,
      },
      { name: "inference_ready", labels: {}, value: 1 },
    ]);
  });

  test("p90 interpolates within the bucket, as histogram_quantile does", async () => {
    const h = await healthApi();
    // 100 new requests: 80 within 10 ms, 20 between 10 and 25 ms -> p90 at half that bucket.
    const before = { "0.01": 10, "0.025": 10, "+Inf": 10 };
    const after = { "0.01": 90, "0.025": 110, "+Inf": 110 };
    expect(h.quantileMs(before, after, 0.9)).toBeCloseTo(17.5, 9);
    expect(h.quantileMs(after, after, 0.9)).toBeNull();
  });

  test("rates per model from two scrapes of the real server; requests of no model are left out", async () => {
    const h = await healthApi();
    const scrape = async (atMs: number) =>
      h.snapshot(h.parseMetrics((await call("/metrics")).body), atMs);
    const before = await scrape(0);
    const metadata = (await call("/v2/models/penguin-classifier")).json();
    expect(metadata.name).toBe("penguin-classifier");
    for (let i = 0; i < 4; i++) await call("/v2/health/ready");
    const r = h.rates(before, await scrape(2000));
    expect(Object.keys(r).sort()).toEqual(["mpg-regressor", "penguin-classifier"]);
    // One metadata request in 2 s; the health checks concern no model.
    expect(r["penguin-classifier"].rps).toBe(0.5);
    expect(r["mpg-regressor"].rps).toBe(0);
  });
});

describe("the page in headless Chromium", () => {
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    page = await browser.newPage();
    const external: string[] = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(origin)) external.push(r.url());
    });
    await page.goto(`${origin}/`);
    // Same origin only: nothing else is ever requested.
    expect(external).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Sends one prediction of mpg-regressor per row, from the page itself (its form's API). */
  const predict = (rows: Record<string, string>[]) =>
    page.evaluate(async (rows) => {
      const g = globalThis as unknown as {
        InferenceForm: { buildInferRequest(m: unknown, v: Record<string, string>): unknown };
      };
      const metadata = await (await fetch("/v2/models/mpg-regressor")).json();
      for (const values of rows) {
        const res = await fetch("/v2/models/mpg-regressor/infer", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(g.InferenceForm.buildInferRequest(metadata, values)),
        });
        if (!res.ok) throw new Error(`infer: HTTP ${res.status}`);
      }
    }, rows);
  const attr = (selector: string, name: string) =>
    page.locator(selector).getAttribute(name, { timeout: SEEN_WITHIN_MS });
  const psi = async (feature: string) =>
    Number(
      await attr(
        `svg[data-chart="drift"][data-model="mpg-regressor"] rect[data-feature="${feature}"]`,
        "data-psi",
      ),
    );
  /** In-distribution inputs: WINDOW complete rows spread over the training data (cars.json). */
  const cars = loadDataset(MPG_REGRESSOR)
    .records.filter((r) =>
      MPG_REGRESSOR.features.every((f) => r[f.source] !== null && r[f.source] !== undefined),
    )
    .map((r) => ({
      Cylinders: String(r.Cylinders),
      Displacement: String(r.Displacement),
      Horsepower: String(r.Horsepower),
      Weight_in_lbs: String(r.Weight_in_lbs),
      Acceleration: String(r.Acceleration),
      Year: String(parseYear(r.Year)),
      Origin: String(r.Origin),
    }));
  const sample = Array.from(
    { length: WINDOW },
    (_, i) => cars[Math.floor((i * cars.length) / WINDOW)],
  );
  const rate = (model: string) => `svg[data-chart="rate"][data-model="${model}"]`;
  /** Waits until `test` holds for the attribute `name` of the element at `selector`. (The page's
   * CSP forbids eval, so predicates are functions, typed without a DOM library.) */
  const until = (selector: string, name: string, test: "zero" | "positive" | "shifted") =>
    page.waitForFunction(
      ({ selector, name, test }) => {
        const d = (
          globalThis as unknown as {
            document: {
              querySelector(s: string): { getAttribute(n: string): string | null } | null;
            };
          }
        ).document;
        const v = d.querySelector(selector)?.getAttribute(name) ?? null;
        if (test === "zero") return v === "0.000";
        if (test === "positive") return Number(v) > 0;
        return v === "bar shifted";
      },
      { selector, name, test },
      { timeout: SEEN_WITHIN_MS },
    );
  const quiet = (model: string) => until(rate(model), "data-last", "zero");

  test("draws the three charts of every model", async () => {
    for (const model of ["mpg-regressor", "penguin-classifier"]) {
      for (const chart of ["rate", "latency", "drift"]) {
        await page
          .locator(`svg[data-chart="${chart}"][data-model="${model}"]`)
          .waitFor({ timeout: SEEN_WITHIN_MS });
      }
    }
    // Once the page's own metadata requests are past, no model is asked anything.
    await quiet("mpg-regressor");
    await quiet("penguin-classifier");
  });

  test("traffic moves the request-rate and latency charts", async () => {
    await predict(sample);
    await until(rate("mpg-regressor"), "data-last", "positive");
    const p90 = await attr('svg[data-chart="latency"][data-model="mpg-regressor"]', "data-last");
    expect(Number(p90)).toBeGreaterThan(0);
    // The other model got no traffic.
    expect(await attr(rate("penguin-classifier"), "data-last")).toBe("0.000");
  });

  test("inputs shifted far out of the training range turn that feature's drift bar red, only it", async () => {
    await page.waitForSelector(
      'svg[data-chart="drift"][data-model="mpg-regressor"] rect[data-feature="Weight_in_lbs"]',
      { timeout: SEEN_WITHIN_MS },
    );
    const weightBefore = await psi("Weight_in_lbs");
    expect(weightBefore).toBeLessThan(0.2);
    // A full drift window of the same cars, ten times heavier (far beyond any in the data).
    await predict(
      sample.map((car) => ({ ...car, Weight_in_lbs: String(10 * Number(car.Weight_in_lbs)) })),
    );
    await until(
      'svg[data-chart="drift"][data-model="mpg-regressor"] rect[data-feature="Weight_in_lbs"]',
      "class",
      "shifted",
    );
    const weightAfter = await psi("Weight_in_lbs");
    expect(weightAfter).toBeGreaterThan(weightBefore);
    expect(weightAfter).toBeGreaterThanOrEqual(0.2);
    // Every other feature saw the same cars: its bar stays below the threshold and not red.
    // (Not compared with its earlier reading: the page may have drawn that one before the
    // previous test's rows reached the window.)
    for (const feature of [
      "Cylinders",
      "Displacement",
      "Horsepower",
      "Acceleration",
      "Year",
      "Origin",
    ]) {
      const bar = `svg[data-chart="drift"][data-model="mpg-regressor"] rect[data-feature="${feature}"]`;
      expect({ feature, shifted: (await attr(bar, "class")) === "bar shifted" }).toEqual({
        feature,
        shifted: false,
      });
      expect(await psi(feature)).toBeLessThan(0.2);
    }
    // To look at it: HEALTH_SCREENSHOT=/tmp/health.png npm run test:service
    const shot = process.env.HEALTH_SCREENSHOT;
    if (shot) await page.locator("#health").screenshot({ path: shot });
  });
});
