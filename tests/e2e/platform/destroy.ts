/**
 * The last block: destroy leaves nothing of the stack in the cluster or on the nodes, and the
 * stack is removed.
 */
import * as path from "node:path";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import { recordTiming, REPO_ROOT } from "../support/context";
import { allNamespacedObjects, find, list, waitFor } from "../support/kube";
import { runOk } from "../support/proc";
import { STACK_NAME } from "../support/stack";
import {
  type PlatformFixture,
  NS,
  APP_NODE,
  TRAINING_NODE,
  LOCAL_OBJECTS,
  isObject,
  objectChanges,
  objectName,
} from "./fixture";

/** Every container of a node's containerd (the suite's own cluster). */
async function nodeContainers(node: string): Promise<string[]> {
  const socket = (
    await runOk("bash", [path.join(REPO_ROOT, "scripts/control-plane.sh"), "socket", node], {
      timeoutMs: 30000,
    })
  ).stdout.trim();
  // The cluster's own data plane (namespace traefik) is not the stack's.
  const r = await runOk(
    "ctr",
    [
      "--address",
      socket,
      "-n",
      "k8s.io",
      "containers",
      "ls",
      "-q",
      `labels."io.kubernetes.pod.namespace"!=${DATA_PLANE_NS}`,
    ],
    { timeoutMs: 30000 },
  );
  return r.stdout.split("\n").filter(Boolean);
}

/** The local cluster's Gateway data plane (Traefik, scripts/control-plane/traefik.yaml). */
const DATA_PLANE_NS = "traefik";

export function register(platform: PlatformFixture): void {
  describe("destroy", () => {
    test("leaves no object of the stack in the cluster, and the stack is removed", async () => {
      // What the stack holds now (a preview with no change lists every object as `same`).
      const held = (await platform.preview("preview (before destroy)")).steps
        .filter(isObject)
        .map((s) => `delete ${s.type} ${objectName(s)}`)
        .sort();
      expect(held.length).toBeGreaterThanOrEqual(LOCAL_OBJECTS.length);
      const r = await platform.stack.destroy();
      platform.deployed = false;
      recordTiming("destroy", r.seconds, JSON.stringify(r.changes));
      // Exactly those objects are deleted, by name.
      expect(objectChanges(r)).toEqual(held);

      const ns = await find("namespace", NS);
      if (ns) {
        // Terminating: the namespace controller is removing what the cluster itself put there.
        expect(ns.status.phase).toBe("Terminating");
      }
      expect(
        await allNamespacedObjects(NS).then((objs) =>
          objs.filter((o) => !/^(configmap\/kube-root-ca\.crt|serviceaccount\/default)$/.test(o)),
        ),
      ).toEqual([]);
      // Cluster-scoped: the Namespace (labelled part-of only) and anything else of the platform.
      const labelled = await list("namespaces,persistentvolumes,clusterroles,clusterrolebindings", [
        "-l",
        "app.kubernetes.io/part-of=mlops-platform",
      ]);
      expect(labelled.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
      if (ns) {
        await waitFor(
          "namespace mlops to be gone",
          async () => ((await find("namespace", NS)) ? undefined : true),
          120000,
          2000,
        );
      }

      // No pod, container or sandbox of the stack is left on the nodes.
      if (platform.ownCluster()) {
        await waitFor(
          "the nodes' containers of the stack to be removed",
          async () => {
            const left = [
              ...(await nodeContainers(APP_NODE)),
              ...(await nodeContainers(TRAINING_NODE)),
            ];
            return left.length === 0 ? true : undefined;
          },
          120000,
          2000,
        );
        expect(
          (await list("pods", ["-A"]))
            .filter((p) => p.metadata.namespace !== DATA_PLANE_NS)
            .map((p) => p.metadata.name),
        ).toEqual([]);
      }

      await platform.stack.remove();
      platform.removed = true;
      const ws = await LocalWorkspace.create({
        workDir: platform.stack.projectDir,
        envVars: platform.stack.envVars,
      });
      expect((await ws.listStacks()).map((s) => s.name)).not.toContain(STACK_NAME);
    });
  });
}
