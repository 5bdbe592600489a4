/**
 * Changes: previews that name exactly what changes (nothing; replicas 1 -> 2; a new image
 * tag, which also returns to 1 replica) and the rolling update under load.
 */
import { find, get, waitFor, type KubeObject, deploymentContainer } from "../support/kube";
import { changed } from "../support/stack";
import { underLoad, versionsNow, report } from "../support/traffic";
import { type PlatformFixture, NS, BASE, D, HPA, PDB, CRON, objectChanges } from "./fixture";

export function register(platform: PlatformFixture): void {
  describe("changes: the preview names exactly what changes, up applies it", () => {
    test("a second preview reports no changes", async () => {
      const r = await platform.preview("preview (no changes)");
      expect(changed(r.steps)).toEqual([]);
      expect(Object.keys(r.changes)).toEqual(["same"]);
    });

    test("app.replicas 1 -> 2: Deployment (spread) and HPA (floor) update, the PDB is created", async () => {
      platform.stack.configure((c) => {
        c["mlops:app"].replicas = 2;
      });
      const r = await platform.preview("preview (replicas 1 -> 2)");
      expect(objectChanges(r)).toEqual(
        [
          `update ${D} ${NS}/inference`,
          `update ${HPA} ${NS}/inference`,
          `create ${PDB} ${NS}/inference`,
        ].sort(),
      );
      await platform.up("up (replicas 1 -> 2)");
      const pdb = await get("pdb", "inference", NS);
      expect(pdb.spec).toMatchObject({
        maxUnavailable: 1,
        selector: { matchLabels: { "mlops-platform/track": "stable" } },
      });
      expect((await get("hpa", "inference", NS)).spec.minReplicas).toBe(2);
      const d = await get("deployment", "inference", NS);
      expect(
        d.spec.template.spec.topologySpreadConstraints.map((t: KubeObject) => t.topologyKey),
      ).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
      // The HPA (the controller-manager's) raises the Deployment to its new floor.
      await waitFor(
        "the Deployment to reach 2 ready replicas",
        async () =>
          (await get("deployment", "inference", NS)).status.readyReplicas === 2 ? true : undefined,
        120000,
        2000,
      );
    });

    test("a new image tag: only the objects that run the image update; the rollout under load fails no request", async () => {
      platform.stack.configure((c) => {
        c["mlops:image"].ref = "mlops-inference:0.1.1";
      });
      const r = await platform.preview("preview (image tag)");
      // Back to 1 replica removes the PDB; the image changes the Deployment, its HPA (version
      // label) and the CronJob; nothing else.
      expect(objectChanges(r)).toEqual(
        [
          `delete ${PDB} ${NS}/inference`,
          `update ${D} ${NS}/inference`,
          `update ${HPA} ${NS}/inference`,
          `update ${CRON} ${NS}/training`,
        ].sort(),
      );
      const { traffic } = await underLoad(BASE, () => platform.up("up (image tag)"));
      report("rolling update 0.1.0 -> 0.1.1 under load", traffic);
      expect(traffic.failures).toEqual([]);
      expect(traffic.failed).toBe(0);
      // Both releases answered during the rollout, and only the new one after it.
      expect(Object.keys(traffic.versions).sort()).toEqual(["0.1.0", "0.1.1"]);
      expect(traffic.sequence[0]).toBe("0.1.0");
      // `up` returns when the rollout is complete; the old pod may still be leaving the Service's
      // endpoints (kube-proxy syncs within seconds), so "only the new one" is awaited, bounded.
      await waitFor(
        "only 0.1.1 to answer through the Service",
        async () => {
          const seen = new Set(await versionsNow(BASE));
          return seen.size === 1 && seen.has("0.1.1") ? true : undefined;
        },
        30000,
        1000,
      );
      expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.1.1"]));
      expect(deploymentContainer(await get("deployment", "inference", NS)).image).toBe(
        "mlops-inference:0.1.1",
      );
      const cj = await get("cronjob", "training", NS);
      expect(cj.spec.jobTemplate.spec.template.spec.containers[0].image).toBe(
        "mlops-inference:0.1.1",
      );
      expect(await find("pdb", "inference", NS)).toBeUndefined();
    });
  });
}
