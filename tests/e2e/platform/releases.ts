/**
 * Release strategies: the blue-green switch and rollback under load, the canary's weights
 * through the Gateway.
 */
import { recordTiming } from "../support/context";
import { gatewayRequest, splitThroughGateway } from "../support/gateway";
import {
  condition,
  find,
  get,
  list,
  waitFor,
  type KubeObject,
  deploymentContainer,
} from "../support/kube";
import { underLoad, credentialHeaders, versionsNow, report } from "../support/traffic";
import { type PlatformFixture, NS, BASE, SVC, ROUTE, GRPC_ROUTE, objectChanges } from "./fixture";

/** Requests the canary split is measured over, through the Gateway. */
const SPLIT_REQUESTS = 400;

/** `hits` of `n` is within 4 standard deviations of a binomial(n, p) mean. */
function expectBinomial(hits: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(hits - n * p)).toBeLessThanOrEqual(4 * sd);
}

/** `pod restarts` of every pod of the stack's namespace. */
async function restarts(): Promise<string[]> {
  const pods = await list("pods", ["-n", NS]);
  return pods
    .filter((p) => !p.metadata.deletionTimestamp && p.status.phase === "Running")
    .map(
      (p) =>
        `${p.metadata.name} ${((p.status.containerStatuses ?? []) as KubeObject[]).reduce((n, c) => n + (c.restartCount as number), 0)}`,
    )
    .sort();
}

export function register(platform: PlatformFixture): void {
  describe("release strategies on the real engine", () => {
    test("blueGreen: switching blue -> green previews one update, of the Service, and up applies it", async () => {
      const green = "mlops-inference:0.2.0";
      const blueGreen = (active: string) =>
        platform.stack.configure((c) => {
          c["mlops:release"] = { strategy: "blueGreen", active, green: { image: green } };
        });
      blueGreen("blue");
      await platform.up("up (blueGreen, blue)");
      expect(deploymentContainer(await get("deployment", "inference-blue", NS)).image).toBe(
        "mlops-inference:0.1.0",
      );
      expect(deploymentContainer(await get("deployment", "inference-green", NS)).image).toBe(green);
      expect(await find("deployment", "inference", NS)).toBeUndefined();
      expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
        "blue",
      );

      // Both colours run and answer before the switch; the Service still sends everything to blue.
      await waitFor(
        "both colours' Deployments Available",
        async () => {
          const ds = await Promise.all(
            ["inference-blue", "inference-green"].map((n) => get("deployment", n, NS)),
          );
          return ds.every((d) => condition(d, "Available") === "True") ? true : undefined;
        },
        180000,
        1000,
      );
      expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.1.0"]));

      blueGreen("green");
      const r = await platform.preview("preview (blue -> green)");
      expect(objectChanges(r)).toEqual([`update ${SVC} ${NS}/inference`]);
      const restartsBefore = await restarts();
      // The user's path: through the Gateway (the route's backend is the Service that switches).
      const gateway = await platform.edge();
      const { traffic } = await underLoad(BASE, () => platform.up("up (blue -> green)"), {
        send: (p, body) => gatewayRequest(gateway, p, { body, headers: credentialHeaders() }),
      });
      report("blue-green switch blue -> green under load, through the Gateway", traffic);
      expect(traffic.failures).toEqual([]);
      expect(traffic.failed).toBe(0);
      expect(traffic.sequence[0]).toBe("0.1.0");
      expect(Object.keys(traffic.versions).sort()).toEqual(["0.1.0", "0.2.0"]);
      expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.2.0"]));
      expect(await restarts()).toEqual(restartsBefore);
      expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
        "green",
      );
      expect((await platform.stack.outputs()).release).toEqual({
        strategy: "blueGreen",
        serving: "green",
        canaryWeight: 0,
        tracks: { blue: "mlops-inference:0.1.0", green },
      });
    });

    test("blueGreen: rolling back green -> blue is one update of the Service; no Deployment or pod changes", async () => {
      // What runs before the rollback: both colours' Deployments (their spec generation) and pods.
      const snapshot = async () => ({
        generations: Object.fromEntries(
          await Promise.all(
            ["inference-blue", "inference-green"].map(
              async (n) => [n, (await get("deployment", n, NS)).metadata.generation] as const,
            ),
          ),
        ),
        pods: (await list("pods", ["-n", NS, "-l", "mlops-platform/track in (blue,green)"]))
          .filter((p) => !p.metadata.deletionTimestamp)
          .map((p) => `${p.metadata.name} ${p.metadata.uid}`)
          .sort(),
      });
      const before = await snapshot();
      expect(before.pods.length).toBeGreaterThanOrEqual(2);

      platform.stack.configure((c) => {
        c["mlops:release"] = {
          strategy: "blueGreen",
          active: "blue",
          green: { image: "mlops-inference:0.2.0" },
        };
      });
      const r = await platform.preview("preview (rollback green -> blue)");
      expect(objectChanges(r)).toEqual([`update ${SVC} ${NS}/inference`]);
      const { traffic } = await underLoad(BASE, () => platform.up("up (rollback to blue)"));
      report("blue-green rollback green -> blue under load", traffic);
      expect(traffic.failures).toEqual([]);
      expect(traffic.failed).toBe(0);
      expect(traffic.sequence[0]).toBe("0.2.0");
      expect(new Set(await versionsNow(BASE))).toEqual(new Set(["0.1.0"]));
      expect((await get("service", "inference", NS)).spec.selector["mlops-platform/track"]).toBe(
        "blue",
      );
      expect(await snapshot()).toEqual(before);
      expect((await restarts()).every((line) => line.endsWith(" 0"))).toBe(true);
    });

    test("canary: the HTTPRoute weights the stable and canary Services; a weight change and an abort each preview one update of each route (HTTP and gRPC)", async () => {
      const canary = (weight: number) =>
        platform.stack.configure((c) => {
          c["mlops:release"] = {
            strategy: "canary",
            canary: { image: "mlops-inference:0.2.0", weight },
          };
        });
      const weights = async () =>
        ((await get("httproute", "inference", NS)).spec.rules as KubeObject[]).map((rule) =>
          (rule.backendRefs as KubeObject[]).map((b) => `${b.name}:${b.port}=${b.weight}`),
        );
      canary(10);
      await platform.up("up (canary 10%)");
      expect(await weights()).toEqual([["inference:80=90", "inference-canary:80=10"]]);
      const canarySvc = await get("service", "inference-canary", NS);
      expect(canarySvc.spec.selector["mlops-platform/track"]).toBe("canary");
      await waitFor(
        "the canary Deployment Available",
        async () =>
          condition(await get("deployment", "inference-canary", NS), "Available") === "True"
            ? true
            : undefined,
        180000,
        1000,
      );
      // Each backend of the route answers with its own release: stable through the main Service,
      // canary through its own.
      expect(new Set(await versionsNow(BASE, 10))).toEqual(new Set(["0.1.0"]));
      const canaryPort = (canarySvc.spec.ports as KubeObject[])[0].nodePort as number;
      expect(new Set(await versionsNow(`http://127.0.0.1:${canaryPort}/`, 10))).toEqual(
        new Set(["0.2.0"]),
      );

      canary(30);
      const r = await platform.preview("preview (canary 10% -> 30%)");
      expect(objectChanges(r)).toEqual([
        `update ${GRPC_ROUTE} ${NS}/inference`,
        `update ${ROUTE} ${NS}/inference`,
      ]);
      await platform.up("up (canary 30%)");
      expect(await weights()).toEqual([["inference:80=70", "inference-canary:80=30"]]);
      expect((await platform.stack.outputs()).release).toMatchObject({
        strategy: "canary",
        canaryWeight: 30,
      });
      // Through the data plane: each request on a new connection, the route's weights decide.
      const gateway = await platform.edge();
      const split = await waitFor(
        "the data plane to take the new weights",
        async () => {
          const r = await splitThroughGateway(gateway, SPLIT_REQUESTS, credentialHeaders());
          return r.counts["0.2.0"] !== undefined && r.counts["0.2.0"] > SPLIT_REQUESTS / 5
            ? r
            : undefined;
        },
        60000,
        1000,
      );
      process.stderr.write(
        `[e2e] canary 30% through the Gateway: ${SPLIT_REQUESTS} requests, ${JSON.stringify(split.counts)} (expected 30% = ${0.3 * SPLIT_REQUESTS} +- ${(4 * Math.sqrt(SPLIT_REQUESTS * 0.21)).toFixed(0)}), ${split.failed} failed\n`,
      );
      recordTiming("canary 30% through the Gateway", 0, JSON.stringify(split.counts));
      expect(split.failed).toBe(0);
      expect(Object.keys(split.counts).sort()).toEqual(["0.1.0", "0.2.0"]);
      expectBinomial(split.counts["0.2.0"], SPLIT_REQUESTS, 0.3);

      // Abort: the canary keeps running but the route sends it nothing.
      canary(0);
      const abort = await platform.preview("preview (canary abort: weight 0)");
      expect(objectChanges(abort)).toEqual([
        `update ${GRPC_ROUTE} ${NS}/inference`,
        `update ${ROUTE} ${NS}/inference`,
      ]);
      await platform.up("up (canary 0%)");
      expect(await weights()).toEqual([["inference:80=100", "inference-canary:80=0"]]);
      expect(condition(await get("deployment", "inference-canary", NS), "Available")).toBe("True");
      const stable = await waitFor(
        "the data plane to send the canary nothing",
        async () => {
          const r = await splitThroughGateway(gateway, 200, credentialHeaders());
          return r.counts["0.2.0"] === undefined ? r : undefined;
        },
        60000,
        1000,
      );
      process.stderr.write(`[e2e] canary 0% through the Gateway: ${JSON.stringify(stable)}\n`);
      expect(stable).toEqual({ failed: 0, counts: { "0.1.0": 200 } });
    });
  });
}
