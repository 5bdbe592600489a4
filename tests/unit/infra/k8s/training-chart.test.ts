/**
 * The training CronJob and what it mounts, field by field: its command and environment (the
 * service image's training entry point, service/Dockerfile), its volumes and their size limits,
 * its schedule, and on Azure the blob model store (a static PersistentVolume over the blob CSI
 * driver with the pod's workload identity, docs/azure.md) with the identity's annotation and label.
 * The security and resource fields are in manifest-security.test.ts; the taint, pool affinity and
 * history limits in program.test.ts.
 */
import { parseConfig } from "../../../../infra/config";
import { synthManifests } from "../../../../infra/manifests";
import { parseCron } from "../../../../infra/k8s/training-chart";
import { stackConfig } from "../../../support/program";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

const IMAGE = "registry.example/mlops-inference:0.1.0";
const STORE = {
  resourceGroup: "mlops-dev-rg",
  storageAccount: "mlopsmodels0123",
  container: "models",
  clientId: "11111111-2222-3333-4444-555555555555",
};

function objects(stack: string, training: Obj = {}, withStore = false): Obj[] {
  const raw = stackConfig(stack);
  const config = parseConfig({ ...raw, training: { ...(raw.training as Obj), ...training } });
  return synthManifests({
    config,
    instance: stack,
    image: IMAGE,
    ...(withStore ? { modelStore: STORE } : {}),
  }) as Obj[];
}
const named = (objs: Obj[], kind: string, name: string) =>
  objs.find((o) => o.kind === kind && o.metadata.name === name);
const podOf = (objs: Obj[]) => named(objs, "CronJob", "training")!.spec.jobTemplate.spec.template;

describe("the training CronJob", () => {
  test("runs the image's training entry point, writing to /models, with /tmp its only other mount", () => {
    const pod = podOf(objects("local"));
    const [container] = pod.spec.containers;
    expect(pod.spec.containers).toHaveLength(1);
    expect(container.name).toBe("training");
    expect(container.image).toBe(IMAGE);
    expect(container.imagePullPolicy).toBe("IfNotPresent");
    expect(container.command).toEqual(["node", "dist/train/main.js", "--out", "/models"]);
    expect(container.env).toEqual([{ name: "MODEL_OUTPUT_DIR", value: "/models" }]);
    expect(container.volumeMounts).toEqual([
      { mountPath: "/models", name: "models" },
      { mountPath: "/tmp", name: "tmp" },
    ]);
    // Without a model store the artifacts live as long as the pod: an emptyDir, bounded.
    expect(pod.spec.volumes).toEqual([
      { name: "models", emptyDir: { sizeLimit: "1024Mi" } },
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    ]);
    expect(pod.metadata.labels["azure.workload.identity/use"]).toBeUndefined();
  });

  test("one run at a time, one retry, never restarted in place, bounded in time", () => {
    const objs = objects("local", {
      schedule: "15 2 * * 1",
      suspend: true,
      activeDeadlineSeconds: 900,
    });
    const cron = named(objs, "CronJob", "training")!;
    expect(cron.spec.schedule).toBe("15 2 * * 1");
    expect(cron.spec.suspend).toBe(true);
    expect(cron.spec.concurrencyPolicy).toBe("Forbid");
    expect(cron.spec.startingDeadlineSeconds).toBe(1800);
    const job = cron.spec.jobTemplate.spec;
    expect(job.backoffLimit).toBe(1);
    expect(job.activeDeadlineSeconds).toBe(900);
    expect(job.template.spec.restartPolicy).toBe("Never");
    expect(named(objects("local", { suspend: false }), "CronJob", "training")!.spec.suspend).toBe(
      false,
    );
  });

  test("admits no traffic; sends only DNS without a model store", () => {
    const np = named(objects("local"), "NetworkPolicy", "training")!;
    expect(np.spec).toEqual({
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "mlops-inference",
          "app.kubernetes.io/instance": "local",
          "app.kubernetes.io/component": "training",
        },
      },
      policyTypes: ["Ingress", "Egress"],
      ingress: [],
      egress: [
        {
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });
  });
});

describe("the Azure model store", () => {
  const objs = () => objects("dev", {}, true);

  test("a static PersistentVolume over the blob container, mounted with the workload identity token", () => {
    const pv = named(objs(), "PersistentVolume", "mlops-model-store")!;
    // Cluster-scoped: no namespace.
    expect(pv.metadata.namespace).toBeUndefined();
    expect(pv.metadata.labels["app.kubernetes.io/component"]).toBe("training");
    expect(pv.spec).toEqual({
      capacity: { storage: "10Gi" },
      accessModes: ["ReadWriteMany"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      mountOptions: ["-o allow_other", "--file-cache-timeout-in-seconds=120"],
      csi: {
        driver: "blob.csi.azure.com",
        volumeHandle: "mlopsmodels0123#models",
        volumeAttributes: {
          resourceGroup: "mlops-dev-rg",
          storageAccount: "mlopsmodels0123",
          containerName: "models",
          clientID: STORE.clientId,
          protocol: "fuse2",
          mountWithWorkloadIdentityToken: "true",
        },
      },
    });
  });

  test("the claim binds exactly that volume, and the job mounts the claim at /models", () => {
    const pvc = named(objs(), "PersistentVolumeClaim", "model-store")!;
    expect(pvc.metadata.namespace).toBe("mlops");
    expect(pvc.spec).toEqual({
      accessModes: ["ReadWriteMany"],
      storageClassName: "",
      volumeName: "mlops-model-store",
      resources: { requests: { storage: "10Gi" } },
    });
    const pod = podOf(objs());
    expect(pod.spec.volumes).toEqual([
      {
        name: "pvc-model-store",
        persistentVolumeClaim: { claimName: "model-store", readOnly: false },
      },
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
    ]);
    expect(pod.spec.containers[0].volumeMounts).toEqual([
      { mountPath: "/models", name: "pvc-model-store" },
      { mountPath: "/tmp", name: "tmp" },
    ]);
  });

  test("the pod uses the store's workload identity, and may reach HTTPS for it", () => {
    const all = objs();
    const sa = named(all, "ServiceAccount", "training")!;
    expect(sa.metadata.annotations).toEqual({
      "azure.workload.identity/client-id": STORE.clientId,
    });
    expect(podOf(all).metadata.labels["azure.workload.identity/use"]).toBe("true");
    expect(named(all, "NetworkPolicy", "training")!.spec.egress).toEqual([
      {
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
      { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ protocol: "TCP", port: 443 }] },
    ]);
  });
});

describe("parseCron", () => {
  test.each([
    ["@yearly", "0 0 1 1 *"],
    ["@annually", "0 0 1 1 *"],
    ["@monthly", "0 0 1 * *"],
    ["@weekly", "0 0 * * 0"],
    ["@daily", "0 0 * * *"],
    ["@midnight", "0 0 * * *"],
    ["@hourly", "0 * * * *"],
    ["0 3 * * *", "0 3 * * *"],
    // Surrounding and repeated blanks separate fields like one space.
    ["  */15   2 * *\t1-5 ", "*/15 2 * * 1-5"],
  ])("%j is the schedule %j", (expression, schedule) => {
    expect(parseCron(expression).expressionString).toBe(schedule);
  });

  test.each([
    ["0 3 * *", 4],
    ["0 3 * * * *", 6],
    ["@often", 1],
  ])("%j is refused, with its field count", (expression, count) => {
    expect(() => parseCron(expression)).toThrow(
      `training schedule "${expression}" has ${count} fields; use five (minute hour day month weekday) or @daily/@weekly/...`,
    );
  });
});
