/**
 * The platform suite's shared fixture: the one stack `e2e` on the suite's cluster, what the stack
 * deploys, and the state one block hands on to the next (the keys the run saw, the Gateway, the
 * local service, whether anything is left to destroy). {@link platformFixture} registers the
 * suite's beforeAll (a clean cluster, the stack created) and afterAll (whatever is left
 * destroyed, the stack removed).
 */
import { applyContext, recordTiming, type E2eContext } from "../support/context";
import { gatewayTarget, type GatewayTarget } from "../support/gateway";
import { find, nodeTrouble } from "../support/kube";
import { type ServiceProcess } from "../support/service";
import { changed, E2eStack, type Run, type Step } from "../support/stack";
import { nodeOfRole } from "../../support/node-table";

export const NS = "mlops";
/**
 * Where the Service answers from this machine: its node port, which kube-proxy serves on
 * 127.0.0.1 on the suite's own cluster (on kind, map the port: README "Tests").
 */
export const BASE = process.env.MLOPS_E2E_SERVICE_URL ?? "http://127.0.0.1:30080/";
/** The node names of the suite's own cluster (another context has its own). */
export const APP_NODE = nodeOfRole("app");
export const TRAINING_NODE = nodeOfRole("training");

/** The scraper's namespace (`ingress.metricsNamespace`): the NetworkPolicy admits it to 8080. */
export const SCRAPER_NS = "monitoring";

export const D = "kubernetes:apps/v1:Deployment";
export const SVC = "kubernetes:core/v1:Service";
const GW = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
export const ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
export const GRPC_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:GRPCRoute";
export const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
export const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const NP = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const SA = "kubernetes:core/v1:ServiceAccount";
export const CRON = "kubernetes:batch/v1:CronJob";
const NAMESPACE = "kubernetes:core/v1:Namespace";
export const CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup";
export const SECRET = "kubernetes:core/v1:Secret";

/** What the `local` config deploys (rolling release, 1 replica): `type name` of each object. */
export const LOCAL_OBJECTS = [
  `${NAMESPACE} ${NS}`,
  `${SA} ${NS}/inference`,
  `${SA} ${NS}/training`,
  `${D} ${NS}/inference`,
  `${SVC} ${NS}/inference`,
  `${GW} ${NS}/inference`,
  `${ROUTE} ${NS}/inference`,
  `${HPA} ${NS}/inference`,
  `${NP} ${NS}/inference`,
  `${NP} ${NS}/training`,
  `${CRON} ${NS}/training`,
  // The two inference keys: Secrets of the app component, after the ConfigGroup.
  `${SECRET} mlops-key-primary`,
  `${SECRET} mlops-key-secondary`,
  `${GRPC_ROUTE} ${NS}/inference`,
  // The HTTPS listener's certificate from the stack's CA, in the data plane's namespace.
  `${SECRET} mlops-ca-secret`,
  "kubernetes:gateway.networking.k8s.io/v1beta1:ReferenceGrant mlops-ca-grant",
].sort();

/** A Kubernetes object of the ConfigGroup (not the stack, a component or a provider). */
export function isObject(s: Step): boolean {
  return (
    s.type.startsWith("kubernetes:") &&
    s.type !== CONFIG_GROUP &&
    !s.type.startsWith("pulumi:providers:")
  );
}

/** `op type name` of the steps on Kubernetes objects that change something. */
export function objectChanges(r: Run): string[] {
  return changed(r.steps.filter(isObject));
}

/** The object name of a step, without any prefix the ConfigGroup may put in front of it. */
export function objectName(s: Step): string {
  return s.name.slice(s.name.lastIndexOf(":") + 1);
}

/** The stack and what the blocks of the suite hand on to each other, in the order they run. */
export class PlatformFixture {
  private e2eStack?: E2eStack;
  private e2eContext?: E2eContext;
  private edgeTarget?: GatewayTarget;
  /** Whether an `up` ran since the last destroy (afterAll destroys what is left). */
  deployed = false;
  /** Whether the stack is removed from its backend (afterAll removes it otherwise). */
  removed = false;
  /** The service run locally for comparison (real traffic); afterAll stops it if still running. */
  service: ServiceProcess | undefined;
  /** The keys this run saw: none may appear in a log line. */
  readonly seenKeys: string[] = [];

  /** The stack `e2e` (created in beforeAll). */
  get stack(): E2eStack {
    if (!this.e2eStack) throw new Error("the e2e stack is created in the suite's beforeAll");
    return this.e2eStack;
  }

  /** What globalSetup handed over (applied in beforeAll). */
  get context(): E2eContext {
    if (!this.e2eContext) throw new Error("the e2e context is applied in the suite's beforeAll");
    return this.e2eContext;
  }

  /** Whether the cluster is the suite's own (its node names and containerd sockets are known). */
  ownCluster(): boolean {
    return this.context.startedControlPlane || !process.env.MLOPS_E2E_KUBE_CONTEXT;
  }

  async up(label: string): Promise<Run> {
    this.deployed = true;
    const r = await this.stack.up().catch(async (err: unknown) => {
      // Pods that never become ready time the update out after minutes: say what the nodes report.
      const trouble = await nodeTrouble();
      if (trouble && err instanceof Error) err.message += `\n[e2e] the nodes report:\n${trouble}`;
      throw err;
    });
    recordTiming(label, r.seconds, `${JSON.stringify(r.changes)}`);
    return r;
  }

  async preview(label: string): Promise<Run> {
    const r = await this.stack.preview();
    recordTiming(label, r.seconds);
    return r;
  }

  /** The stack's Gateway, as a client reaches it (Traefik on this machine; support/gateway.ts). */
  async edge(): Promise<GatewayTarget> {
    if (this.edgeTarget) return this.edgeTarget;
    const outputs = await this.stack.outputs();
    this.edgeTarget = await gatewayTarget(
      NS,
      String(outputs.endpointUrl),
      String(outputs.caCertificate),
    );
    return this.edgeTarget;
  }

  /** beforeAll: a clean cluster and the stack created. */
  async setUp(): Promise<void> {
    this.e2eContext = applyContext();
    // A clean cluster: an earlier run's objects would make this one's creates fail (or pass by luck).
    const existing = await find("namespace", NS);
    if (existing) {
      throw new Error(
        `namespace ${NS} already exists in the e2e cluster (${process.env.KUBECONFIG}): the suite ` +
          "starts clean and never touches objects it did not create. Its own control plane: stop it " +
          "(scripts/control-plane.sh stop with the suite's MLOPS_STATE_DIR); MLOPS_E2E_KUBE_CONTEXT: " +
          `delete the namespace or use another cluster`,
      );
    }
    this.e2eStack = await E2eStack.create();
  }

  /** afterAll: whatever is left destroyed, the stack removed, its temp dirs deleted. */
  async tearDown(): Promise<void> {
    await this.service?.stop();
    const stack = this.e2eStack;
    if (!stack) return;
    try {
      if (this.deployed) await stack.destroy();
      if (!this.removed) await stack.remove();
    } catch (err) {
      process.stderr.write(`[e2e] cleanup: ${String(err)}\n`);
    } finally {
      stack.cleanUp();
    }
  }
}

/** The fixture, with the suite's top-level beforeAll and afterAll registered. */
export function platformFixture(): PlatformFixture {
  const platform = new PlatformFixture();
  beforeAll(() => platform.setUp(), 120000);
  afterAll(() => platform.tearDown(), 15 * 60 * 1000);
  return platform;
}
