/**
 * Monitoring: a real Prometheus scrapes the pods through the scrape config the platform
 * renders (skipped on a cluster of MLOPS_E2E_KUBE_CONTEXT).
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as yamlParse } from "yaml";
import { parseConfig } from "../../../infra/config";
import { monitoringFiles } from "../../../infra/monitoring/files";
import { recordTiming, REPO_ROOT } from "../support/context";
import { waitFor } from "../support/kube";
import { runOk } from "../support/proc";
import { freePort, SERVICE_DIR } from "../support/service";
import { localConfig, STACK_NAME } from "../support/stack";
import { send } from "../support/traffic";
import { type PlatformFixture, BASE, NS } from "./fixture";

export function register(platform: PlatformFixture): void {
  describe("monitoring on real pods: a real Prometheus scrapes them through the rendered scrape config", () => {
    let prometheus: ChildProcess | undefined;
    let dir: string;
    let api: string;
    let promOutput = "";

    /** Instant query; the result vector's samples as `{labels, value}`. */
    async function query(
      expr: string,
    ): Promise<{ labels: Record<string, string>; value: number }[]> {
      const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as {
        status: string;
        data: { result: { metric: Record<string, string>; value: [number, string] }[] };
      };
      if (body.status !== "success") throw new Error(`query ${expr}: ${JSON.stringify(body)}`);
      return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
    }

    /** mpg-regressor rows of the training data set (vega-datasets cars.json), as OIP v2 inputs. */
    function carsBatch(rows: number, scale: Record<string, number> = {}) {
      const file = [REPO_ROOT, SERVICE_DIR]
        .map((d) => path.join(d, "node_modules/vega-datasets/data/cars.json"))
        .find((f) => fs.existsSync(f));
      if (!file) throw new Error("vega-datasets/data/cars.json not found: run npm ci");
      const cars = (JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>[]).filter(
        (c) =>
          ["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"].every(
            (k) => typeof c[k] === "number",
          ),
      );
      const pick = Array.from({ length: rows }, (_, i) => cars[i % cars.length]);
      const num = (name: string, value: (c: Record<string, unknown>) => number) => ({
        name,
        shape: [rows],
        datatype: "FP64",
        data: pick.map((c) => value(c) * (scale[name] ?? 1)),
      });
      return {
        inputs: [
          ...["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration"].map((n) =>
            num(n, (c) => c[n] as number),
          ),
          num("Year", (c) => Number(String(c.Year).slice(0, 4))),
          {
            name: "Origin",
            shape: [rows],
            datatype: "BYTES",
            data: pick.map((c) => c.Origin as string),
          },
        ],
      };
    }

    beforeAll(async () => {
      if (!platform.ownCluster()) return;
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-prometheus-"));
      // The local stack's config with a short scrape interval, rendered as the platform renders it.
      const raw = Object.fromEntries(
        Object.entries(localConfig())
          .filter(([k]) => k.startsWith("mlops:"))
          .map(([k, v]) => [k.slice("mlops:".length), v]),
      );
      const config = parseConfig({
        ...raw,
        monitoring: { scrapeIntervalSeconds: 5, driftForMinutes: 1 },
      });
      const files = monitoringFiles(config, STACK_NAME, {
        kubeconfigFile: process.env.KUBECONFIG,
        evaluationIntervalSeconds: 5,
      });
      for (const [name, content] of Object.entries(files))
        fs.writeFileSync(path.join(dir, name), content);
      const binDir = (
        await runOk(
          "bash",
          [path.join(REPO_ROOT, "scripts/toolchain/prometheus.sh"), "--print-bin-dir"],
          {
            timeoutMs: 30000,
          },
        )
      ).stdout.trim();
      const port = await freePort();
      api = `http://127.0.0.1:${port}`;
      prometheus = spawn(
        path.join(binDir, "prometheus"),
        [
          `--config.file=${path.join(dir, "prometheus.yml")}`,
          `--storage.tsdb.path=${path.join(dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--log.level=warn",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      prometheus.stdout?.on("data", (d: Buffer) => (promOutput += d.toString()));
      prometheus.stderr?.on("data", (d: Buffer) => (promOutput += d.toString()));
    }, 60000);

    afterAll(async () => {
      if (prometheus && prometheus.exitCode === null) {
        const exited = new Promise((r) => prometheus!.once("exit", r));
        prometheus.kill("SIGTERM");
        await exited;
      }
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    (process.env.MLOPS_E2E_KUBE_CONTEXT ? test.skip : test)(
      "drift rises for the shifted features only and the drift alert's expression holds; bad requests move the 4xx ratio",
      async () => {
        const started = Date.now();
        const targets = await waitFor(
          "Prometheus to scrape the inference pod (up == 1)",
          async () => {
            const up = await query(`up{namespace="${NS}"}`).catch(() => []);
            return up.length > 0 && up.every((s) => s.value === 1) ? up : undefined;
          },
          90000,
          1000,
        ).catch((err: Error) => {
          throw new Error(`${err.message}\nprometheus output:\n${promOutput.slice(-2000)}`);
        });
        expect(targets.map((t) => t.labels.track)).toEqual(targets.map(() => "stable"));
        const psi = `inference_feature_drift_psi{namespace="${NS}",model="mpg-regressor"}`;
        const threshold = 0.2;
        const byFeature = (samples: { labels: Record<string, string>; value: number }[]) =>
          Object.fromEntries(samples.map((s) => [s.labels.feature, Number(s.value.toFixed(3))]));

        // In-distribution: the training data itself fills the drift window (1,000 rows).
        for (let i = 0; i < 2; i++) {
          expect((await send(BASE, "/v2/models/mpg-regressor/infer", carsBatch(500))).status).toBe(
            200,
          );
        }
        const calm = await waitFor(
          "the PSI series of every feature below the threshold after in-distribution traffic",
          async () => {
            const s = await query(psi);
            return s.length === 7 && s.every((x) => x.value < threshold) ? byFeature(s) : undefined;
          },
          60000,
          2000,
        );
        // Shifted: the same cars, three times heavier and three times more powerful.
        const shift = { Weight_in_lbs: 3, Horsepower: 3 };
        for (let i = 0; i < 2; i++) {
          expect(
            (await send(BASE, "/v2/models/mpg-regressor/infer", carsBatch(500, shift))).status,
          ).toBe(200);
        }
        const shifted = await waitFor(
          "the PSI of the shifted features to rise above the threshold",
          async () => {
            const s = byFeature(await query(psi));
            return s.Weight_in_lbs > threshold && s.Horsepower > threshold ? s : undefined;
          },
          60000,
          2000,
        );
        for (const [feature, value] of Object.entries(shifted)) {
          if (feature in shift) expect(value).toBeGreaterThan(threshold);
          else expect(value).toBeLessThan(threshold);
        }
        // The drift alert's own expression (from the rendered rules) is true for exactly those.
        const rules = yamlParse(fs.readFileSync(path.join(dir, "rules.yml"), "utf8")) as {
          groups: { rules: { alert?: string; expr: string }[] }[];
        };
        const drift = rules.groups
          .flatMap((g) => g.rules)
          .find((r) => r.alert === "InferenceFeatureDrift");
        expect(drift).toBeDefined();
        const firing = await query(drift!.expr);
        expect(
          firing
            .filter((f) => f.labels.model === "mpg-regressor")
            .map((f) => f.labels.feature)
            .sort(),
        ).toEqual(["Horsepower", "Weight_in_lbs"]);

        // A burst of bad requests (wrong datatype: 400, answered by the model's route) moves the
        // recorded 4xx ratio from 0.
        const ratio = `namespace_model:inference_http_errors_4xx:ratio_rate5m{namespace="${NS}",model="mpg-regressor"}`;
        const bad = {
          inputs: [{ name: "Cylinders", shape: [1], datatype: "BYTES", data: ["four"] }],
        };
        // A counter's first sample is its baseline (rate() sees no increase in a series that just
        // appeared): one bad request first, scraped, then the burst.
        expect((await send(BASE, "/v2/models/mpg-regressor/infer", bad)).status).toBe(400);
        const first400 = `inference_http_requests_total{namespace="${NS}",model="mpg-regressor",status="400"}`;
        await waitFor(
          "the first 400 to be scraped",
          async () => ((await query(first400)).length > 0 ? true : undefined),
          60000,
          1000,
        );
        const before = (await query(ratio))[0]?.value ?? 0;
        for (let i = 0; i < 40; i++) {
          const a = await send(BASE, "/v2/models/mpg-regressor/infer", bad);
          expect(a.status).toBe(400);
        }
        const after = await waitFor(
          "the 4xx ratio recording to rise",
          async () => {
            const v = (await query(ratio))[0]?.value;
            return v !== undefined && v > before ? v : undefined;
          },
          60000,
          2000,
        );
        const line = `in-distribution PSI ${JSON.stringify(calm)}; shifted ${JSON.stringify(shifted)}; drift alert expression true for Horsepower, Weight_in_lbs; 4xx ratio ${before.toFixed(3)} -> ${after.toFixed(3)}`;
        process.stderr.write(`[e2e] monitoring: ${line}\n`);
        recordTiming("monitoring on real pods", (Date.now() - started) / 1000, line);
      },
      300000,
    );
  });
}
