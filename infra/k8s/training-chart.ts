/**
 * The training job as a cdk8s chart: a CronJob that runs the service image's training entry point
 * on the training pool (toleration + required node affinity), with requests large enough that the
 * cluster autoscaler must add a training node, and a NetworkPolicy that admits no traffic to it.
 *
 * Nothing else tolerates the training taint, so the pool returns to zero nodes when the job is done.
 */
import { Chart, Cron, Duration, JsonPatch, Size } from "cdk8s";
import * as kplus from "cdk8s-plus-27";
import { Construct } from "constructs";
import { egressRules, envOf } from "./inference-chart";
import { recommendedLabels, selectorLabels, versionOf } from "./labels";
import { CONTAINER_SECURITY_CONTEXT, hardenPod, POD_SECURITY_CONTEXT } from "./security";
import {
  TRAINING_POOL_LABEL_KEY,
  TRAINING_POOL_LABEL_VALUE,
  TRAINING_TAINT,
} from "./training-pool";

/** Where the training container writes artifacts (the model store's mount). */
export const MODEL_OUTPUT_DIR = "/models";

/** Finished training Jobs (and their pods' logs) the CronJob keeps. */
export const JOBS_HISTORY = { successful: 3, failed: 3 } as const;

/** The training entry point of the service image (service/Dockerfile). */
export const TRAIN_COMMAND = ["node", "dist/train/main.js", "--out", MODEL_OUTPUT_DIR];

/** An Azure Blob container mounted through the blob CSI driver with workload identity. */
export interface BlobModelStore {
  readonly resourceGroup: string;
  readonly storageAccount: string;
  readonly container: string;
  /** Client id of the managed identity that may write to the container. */
  readonly clientId: string;
}

export interface TrainingChartProps {
  /** Namespace of the objects (created by the inference chart). */
  readonly namespace: string;
  /** `app.kubernetes.io/instance`. */
  readonly instance: string;
  /** The service image; its training entry point is {@link TRAIN_COMMAND}. */
  readonly image: string;
  /** Five-field cron expression or @daily/@weekly/... */
  readonly schedule: string;
  readonly suspend: boolean;
  readonly cpuRequestMillis: number;
  readonly memoryRequestMib: number;
  readonly activeDeadlineSeconds: number;
  /** Where artifacts go. @default an emptyDir volume, kept only for the pod's life
   * (the `local` target; the job's log carries the held-out metrics). */
  readonly modelStore?: BlobModelStore;
}

export class TrainingChart extends Chart {
  static readonly NAME = "training";

  constructor(scope: Construct, id: string, props: TrainingChartProps) {
    super(scope, id, { namespace: props.namespace, disableResourceNameHashes: true });
    const name = TrainingChart.NAME;
    // The image's version goes only on what runs the image, so a new image changes only that.
    const labels = recommendedLabels(props.instance, "training");
    const workloadLabels = recommendedLabels(props.instance, "training", versionOf(props.image));
    const store = props.modelStore;

    const serviceAccount = new kplus.ServiceAccount(this, "service-account", {
      metadata: {
        name,
        labels,
        annotations: store ? { "azure.workload.identity/client-id": store.clientId } : undefined,
      },
      automountToken: false,
    });

    const models = store
      ? kplus.Volume.fromPersistentVolumeClaim(
          this,
          "models",
          blobClaim(this, props.namespace, labels, store),
        )
      : kplus.Volume.fromEmptyDir(this, "models", "models", { sizeLimit: Size.gibibytes(1) });
    const tmp = kplus.Volume.fromEmptyDir(this, "tmp", "tmp", { sizeLimit: Size.mebibytes(256) });

    const cronJob = new kplus.CronJob(this, "cron-job", {
      metadata: { name, labels: workloadLabels },
      podMetadata: {
        labels: { ...workloadLabels, ...(store ? { "azure.workload.identity/use": "true" } : {}) },
      },
      schedule: parseCron(props.schedule),
      suspend: props.suspend,
      concurrencyPolicy: kplus.ConcurrencyPolicy.FORBID,
      startingDeadline: Duration.minutes(30),
      // Finished Jobs are removed by these limits alone: a ttlSecondsAfterFinished shorter than
      // the schedule's period would delete each Job before the next run, so the history would
      // never hold more than one.
      successfulJobsRetained: JOBS_HISTORY.successful,
      failedJobsRetained: JOBS_HISTORY.failed,
      activeDeadline: Duration.seconds(props.activeDeadlineSeconds),
      backoffLimit: 1,
      restartPolicy: kplus.RestartPolicy.NEVER,
      serviceAccount,
      automountServiceAccountToken: false,
      securityContext: POD_SECURITY_CONTEXT,
      containers: [
        {
          name,
          image: props.image,
          imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
          command: TRAIN_COMMAND,
          envVariables: envOf({ MODEL_OUTPUT_DIR }),
          resources: {
            cpu: {
              request: kplus.Cpu.millis(props.cpuRequestMillis),
              limit: kplus.Cpu.millis(props.cpuRequestMillis),
            },
            memory: {
              request: Size.mebibytes(props.memoryRequestMib),
              limit: Size.mebibytes(props.memoryRequestMib),
            },
          },
          securityContext: CONTAINER_SECURITY_CONTEXT,
          volumeMounts: [
            { path: MODEL_OUTPUT_DIR, volume: models },
            { path: "/tmp", volume: tmp },
          ],
        },
      ],
    });
    cronJob.scheduling.tolerate(
      kplus.Node.tainted(
        kplus.NodeTaintQuery.is(TRAINING_TAINT.key, TRAINING_TAINT.value, {
          effect: kplus.TaintEffect.NO_SCHEDULE,
        }),
      ),
    );
    cronJob.scheduling.attract(
      kplus.Node.labeled(
        kplus.NodeLabelQuery.is(TRAINING_POOL_LABEL_KEY, TRAINING_POOL_LABEL_VALUE),
      ),
    );
    hardenPod(cronJob, "/spec/jobTemplate/spec/template/spec");

    // Training pods serve nothing: admit no traffic at all. Out: DNS, and with the Azure model
    // store HTTPS (Entra ID for the workload identity token, the storage account).
    new kplus.k8s.KubeNetworkPolicy(this, "network-policy", {
      metadata: { name, labels },
      spec: {
        podSelector: { matchLabels: selectorLabels(props.instance, "training") },
        policyTypes: ["Ingress", "Egress"],
        ingress: [],
        egress: egressRules(store !== undefined),
      },
    });
  }
}

/** A static PersistentVolume (blob CSI, workload identity) over the store and its claim. */
function blobClaim(
  scope: Construct,
  namespace: string,
  labels: Record<string, string>,
  store: BlobModelStore,
): kplus.IPersistentVolumeClaim {
  const pvName = `${namespace}-model-store`;
  const pv = new kplus.k8s.KubePersistentVolume(scope, "model-store-pv", {
    metadata: { name: pvName, labels },
    spec: {
      capacity: { storage: kplus.k8s.Quantity.fromString("10Gi") },
      accessModes: ["ReadWriteMany"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: "",
      mountOptions: ["-o allow_other", "--file-cache-timeout-in-seconds=120"],
      csi: {
        driver: "blob.csi.azure.com",
        volumeHandle: `${store.storageAccount}#${store.container}`,
        volumeAttributes: {
          resourceGroup: store.resourceGroup,
          storageAccount: store.storageAccount,
          containerName: store.container,
          clientID: store.clientId,
          protocol: "fuse2",
          // Mount with the pod's workload identity token itself: the driver's default is to use
          // the identity to fetch the account key, which needs Storage Account Contributor.
          // With the token, Storage Blob Data Contributor on the account is enough.
          mountWithWorkloadIdentityToken: "true",
        },
      },
    },
  });
  // A PersistentVolume is cluster-scoped: it must not carry the chart's namespace.
  pv.addJsonPatch(JsonPatch.remove("/metadata/namespace"));
  new kplus.k8s.KubePersistentVolumeClaim(scope, "model-store-pvc", {
    metadata: { name: "model-store", labels },
    spec: {
      accessModes: ["ReadWriteMany"],
      storageClassName: "",
      volumeName: pvName,
      resources: { requests: { storage: kplus.k8s.Quantity.fromString("10Gi") } },
    },
  });
  return kplus.PersistentVolumeClaim.fromClaimName(scope, "model-store-claim", "model-store");
}

const CRON_SHORTHANDS: Record<string, () => Cron> = {
  "@yearly": Cron.annually,
  "@annually": Cron.annually,
  "@monthly": Cron.monthly,
  "@weekly": Cron.weekly,
  "@daily": Cron.daily,
  "@midnight": Cron.daily,
  "@hourly": Cron.hourly,
};

/** A five-field cron expression (minute hour day-of-month month day-of-week) or a shorthand. */
export function parseCron(expression: string): Cron {
  const shorthand = CRON_SHORTHANDS[expression];
  if (shorthand) return shorthand();
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new Error(
      `training schedule "${expression}" has ${fields.length} fields; use five (minute hour day month weekday) or @daily/@weekly/...`,
    );
  }
  const [minute, hour, day, month, weekDay] = fields;
  return Cron.schedule({ minute, hour, day, month, weekDay });
}
