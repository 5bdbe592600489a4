/** Training: a Job from the CronJob on the training node, and the quality gate that fails it. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { recordTiming } from "../support/context";
import { condition, get, kubectl, list, waitFor, type KubeObject } from "../support/kube";
import { type PlatformFixture, NS, TRAINING_NODE } from "./fixture";

export function register(platform: PlatformFixture): void {
  describe("training: a Job from the CronJob runs on the training node", () => {
    /** A Job from the CronJob's template (as `kubectl create job --from=cronjob/training`), with
     * extra environment; waits until it completes or fails; returns it with its pods' logs. */
    async function trainingJob(name: string, env: Record<string, string> = {}) {
      const job = JSON.parse(
        await kubectl(
          "create",
          "job",
          name,
          "-n",
          NS,
          "--from=cronjob/training",
          "--dry-run=client",
          "-o",
          "json",
        ),
      ) as KubeObject;
      const container = job.spec.template.spec.containers[0] as KubeObject;
      container.env = [
        ...((container.env ?? []) as KubeObject[]),
        ...Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
      ];
      const file = path.join(os.tmpdir(), `mlops-e2e-${name}.json`);
      fs.writeFileSync(file, JSON.stringify(job));
      try {
        await kubectl("create", "-f", file);
      } finally {
        fs.rmSync(file, { force: true });
      }
      const started = Date.now();
      const done = await waitFor(
        `Job ${name} to complete or fail`,
        async () => {
          const j = await get("job", name, NS);
          return condition(j, "Complete") === "True" || condition(j, "Failed") === "True"
            ? j
            : undefined;
        },
        300000,
        2000,
      );
      const pods = await list("pods", ["-n", NS, "-l", `job-name=${name}`]);
      const logs = await Promise.all(pods.map((p) => kubectl("logs", "-n", NS, p.metadata.name)));
      recordTiming(
        `training Job ${name}`,
        (Date.now() - started) / 1000,
        condition(done, "Complete") === "True" ? "complete" : "failed",
      );
      return { job: done, pods, logs };
    }

    test("runs to completion on the training node; its log shows the held-out metrics and the gate passing", async () => {
      const { job, pods, logs } = await trainingJob("e2e-train");
      expect(condition(job, "Complete")).toBe("True");
      expect(pods.length).toBeGreaterThanOrEqual(1);
      for (const p of pods) {
        if (platform.ownCluster()) expect(p.spec.nodeName).toBe(TRAINING_NODE);
        // The pool's label and taint are what put it there.
        expect(p.spec.tolerations).toContainEqual({
          key: "mlops-platform/pool",
          operator: "Equal",
          value: "training",
          effect: "NoSchedule",
        });
      }
      const node = await get("node", pods[0].spec.nodeName as string);
      expect(node.metadata.labels?.["mlops-platform/pool"]).toBe("training");
      expect(node.spec.taints).toContainEqual({
        key: "mlops-platform/pool",
        value: "training",
        effect: "NoSchedule",
      });
      const log = logs.join("\n");
      expect(log).toMatch(/train: mpg-regressor@\S+ held-out .*r2=0\.\d+.*\(gate: r2 >= 0\.7\)/);
      expect(log).toMatch(
        /train: penguin-classifier@\S+ held-out .*accuracy=[01]\.\d+.*\(gate: accuracy >= 0\.9\)/,
      );
      expect(log).not.toMatch(/quality gate failed/);
      process.stderr.write(
        `[e2e] training log: ${log
          .split("\n")
          .filter((l) => l.includes("held-out"))
          .join(" | ")}\n`,
      );
      // Nothing else runs on the training node: only this Job's pods carry the toleration.
      if (platform.ownCluster()) {
        const onTraining = await list("pods", [
          "-A",
          "--field-selector",
          `spec.nodeName=${TRAINING_NODE}`,
        ]);
        expect(onTraining.map((p) => p.metadata.labels?.["job-name"])).toEqual(
          onTraining.map(() => "e2e-train"),
        );
      }
    });

    test("with the quality floor raised (MIN_R2=0.99) the Job fails with the gate's message", async () => {
      const { job, logs } = await trainingJob("e2e-train-gate", { MIN_R2: "0.99" });
      expect(condition(job, "Failed")).toBe("True");
      const log = logs.join("\n");
      expect(log).toContain("train: quality gate failed; no artifact was published");
      expect(log).toMatch(
        /mpg-regressor: held-out r2 0\.\d{4} is below the floor 0\.99 \(set with --min-r2\)/,
      );
    });
  });
}
