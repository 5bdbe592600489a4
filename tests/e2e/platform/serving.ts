/**
 * Real traffic: the deployed pods answer as the same code and data run locally; in-cluster
 * DNS; Pod Security. Its probe pod in the scraper's namespace is removed by the edge block.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recordTiming, REPO_ROOT } from "../support/context";
import {
  get,
  kubectl,
  list,
  waitFor,
  type KubeObject,
  deploymentContainer,
  envOf,
} from "../support/kube";
import { probePod } from "../support/probe";
import { runOk } from "../support/proc";
import { freePort, request, SERVICE_DIR, startService } from "../support/service";
import { MPG_ROW, send } from "../support/traffic";
import { type PlatformFixture, NS, BASE, SCRAPER_NS } from "./fixture";

export function register(platform: PlatformFixture): void {
  describe("real traffic: the deployed pods serve from the cluster", () => {
    test("through the Service from the host: ready, and each model's answer equals the same code and data run locally", async () => {
      const out = await platform.stack.outputs();
      expect(out.nodePortUrl).toBe(BASE);
      await waitFor(
        `${BASE}v2/health/ready to answer 200 through the Service`,
        async () =>
          (await send(BASE, "/v2/health/ready").catch(() => undefined))?.status === 200
            ? true
            : undefined,
        60000,
        500,
      );
      // The expected answers: the service built and trained here (deterministic training on the
      // same data), run as a local process with the Deployment's own environment.
      await runOk("npm", ["run", "build", "-w", "service"], { cwd: REPO_ROOT, timeoutMs: 300000 });
      const modelDir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-models-"));
      try {
        await runOk(
          process.execPath,
          [path.join(SERVICE_DIR, "dist/train/main.js"), "--out", modelDir],
          {
            cwd: SERVICE_DIR,
            timeoutMs: 300000,
          },
        );
        const env = envOf(deploymentContainer(await get("deployment", "inference", NS)));
        // The same code and models; the local copy checks no key (its answers are compared).
        platform.service = startService(
          { ...env, AUTH_MODE: "none", MODEL_DIR: modelDir, LOG_LEVEL: "warn" },
          await freePort(),
        );
        const local = `http://127.0.0.1:${platform.service.port}/`;
        await waitFor(
          "the local service to be ready",
          async () =>
            (await request(platform.service!.port, `${local}v2/health/ready`)).status === 200
              ? true
              : undefined,
          30000,
          250,
        ).catch((err: Error) => {
          throw new Error(`${err.message}\nservice output:\n${platform.service?.output()}`);
        });

        const models = out.modelVersions as Record<string, string>;
        expect(Object.keys(models).sort()).toEqual(["mpg-regressor", "penguin-classifier"]);
        const answers: string[] = [];
        for (const [name, version] of Object.entries(models)) {
          const meta = await send(BASE, `/v2/models/${name}`);
          expect(meta.status).toBe(200);
          const metadata = JSON.parse(meta.body) as KubeObject;
          expect(metadata.versions).toContain(version);
          // One row from the model's own metadata (training minimum, first category), and for the
          // regressor also the known car of the smoke test.
          const rows = [
            (metadata.inputs as KubeObject[]).map((i) => ({
              name: i.name,
              shape: [1],
              datatype: i.datatype,
              data: [
                i.datatype === "BYTES" ? i.parameters.categories[0] : i.parameters.training_min,
              ],
            })),
            ...(name === "mpg-regressor" ? [MPG_ROW] : []),
          ];
          for (const inputs of rows) {
            const body = { id: `e2e-${name}`, inputs };
            const fromPod = await send(BASE, `/v2/models/${name}/infer`, body);
            expect(fromPod.status).toBe(200);
            const podAnswer = JSON.parse(fromPod.body) as KubeObject;
            expect(podAnswer).toMatchObject({
              model_name: name,
              model_version: version,
              id: `e2e-${name}`,
            });
            const localAnswer = await request(
              platform.service.port,
              `${local}v2/models/${name}/infer`,
              {
                method: "POST",
                body,
              },
            );
            expect(localAnswer.status).toBe(200);
            expect(podAnswer.outputs).toEqual(localAnswer.body.outputs);
            const predict = (podAnswer.outputs as KubeObject[]).find((o) => o.name === "predict");
            answers.push(`${name} ${JSON.stringify(predict!.data)}`);
          }
        }
        const car = answers.find((a) => a.startsWith("mpg-regressor")) ?? "";
        process.stderr.write(
          `[e2e] answers from the pods (equal to the local run): ${answers.join("; ")}\n`,
        );
        recordTiming("inference through the Service", 0, car);
        expect(await platform.service.stop()).toBe(0);
        platform.service = undefined;
      } finally {
        fs.rmSync(modelDir, { recursive: true, force: true });
      }
    });

    test("in-cluster DNS: from a pod of the scraper's namespace, the serviceUrl output resolves and answers", async () => {
      const url = (await platform.stack.outputs()).serviceUrl as string;
      const script =
        `require("dns").promises.lookup(new URL(${JSON.stringify(url)}).hostname)` +
        `.then((a) => fetch(${JSON.stringify(`${url}/v2/health/ready`)}).then((r) => console.log(a.address, r.status)))` +
        `.catch((e) => { console.error(e.message); process.exit(1); })`;
      // From the scraper's namespace: the one besides the data plane the NetworkPolicy admits.
      await probePod(SCRAPER_NS);
      const printed = (
        await kubectl("exec", "-n", SCRAPER_NS, "probe", "--", "node", "-e", script)
      ).trim();
      const svc = await get("service", "inference", NS);
      expect(printed).toBe(`${svc.spec.clusterIP} 200`);
    });

    test("Pod Security: the namespace enforces restricted, and every pod of the stack was admitted", async () => {
      const ns = await get("namespace", NS);
      expect(ns.metadata.labels).toMatchObject({
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      });
      // Admission refusals show as FailedCreate events naming PodSecurity (a FailedCreate for a
      // ServiceAccount the ReplicaSet saw before it existed is retried, not a refusal).
      const failed = await list("events", ["-n", NS, "--field-selector", "reason=FailedCreate"]);
      const refused = failed.map((e) => e.message as string).filter((m) => /PodSecurity/.test(m));
      expect(refused).toEqual([]);
      const d = await get("deployment", "inference", NS);
      const pods = await list("pods", ["-n", NS, "-l", "mlops-platform/track=stable"]);
      expect(pods.filter((p) => p.status.phase === "Running").length).toBe(d.status.replicas);
    });
  });
}
