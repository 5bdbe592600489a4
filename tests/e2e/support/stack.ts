/**
 * The stack under test, driven through the Automation API with the real program inline (as
 * `npm run up` runs it): a temp project dir (the repo's Pulumi.yaml and the stack file), a file:// backend in a
 * temp dir, a passphrase, and the suite's control plane as the kube context. Nothing is written
 * into the repo.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  LocalWorkspace,
  type EngineEvent,
  type OpType,
  type OutputMap,
  type PolicyEvent,
  type Stack,
} from "@pulumi/pulumi/automation";
import { parse, stringify } from "yaml";
import { PROJECT, program } from "../../../tools/deploy";
import { REPO_ROOT } from "./context";

export const STACK_NAME = "e2e";
const PASSPHRASE = "e2e-only";

/** One step of the engine's plan, from its event stream. */
export interface Step {
  readonly op: OpType;
  /** The resource type token, e.g. `kubernetes:apps/v1:Deployment`. */
  readonly type: string;
  /** The resource's name (the last part of its URN), e.g. `mlops/inference`. */
  readonly name: string;
  readonly diffs: readonly string[];
}

export interface Run {
  readonly steps: readonly Step[];
  readonly policy: readonly PolicyEvent[];
  /** Operation -> count, as the engine summarises it. */
  readonly changes: Readonly<Record<string, number>>;
  readonly stdout: string;
  readonly seconds: number;
}

/** The stack configuration: the `config:` map of Pulumi.local.yaml, as plain data. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type StackConfig = Record<string, any>;

export function localConfig(): StackConfig {
  const doc = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.local.yaml"), "utf8")) as {
    config: StackConfig;
  };
  return doc.config;
}

export class E2eStack {
  readonly projectDir: string;
  readonly backendDir: string;
  readonly envVars: Record<string, string>;
  private stack?: Stack;

  private constructor() {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-e2e-"));
    this.projectDir = path.join(root, "project");
    this.backendDir = path.join(root, "state");
    fs.mkdirSync(this.projectDir);
    fs.mkdirSync(this.backendDir);
    // The repo's project file, pointed at the repo: the program and its node_modules are the real ones.
    const project = parse(fs.readFileSync(path.join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as Record<
      string,
      unknown
    >;
    fs.writeFileSync(
      path.join(this.projectDir, "Pulumi.yaml"),
      stringify({ ...project, main: REPO_ROOT }),
    );
    this.envVars = {
      PULUMI_BACKEND_URL: `file://${this.backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      KUBECONFIG: requiredEnv("KUBECONFIG"),
    };
  }

  /** Creates the stack `e2e` with the config of Pulumi.local.yaml. */
  static async create(): Promise<E2eStack> {
    const s = new E2eStack();
    // An inline program (the one `npm run up` runs): the engine talks to this process, so no
    // pulumi-language-nodejs plugin is needed. It composes the platform anew on every operation.
    s.stack = await LocalWorkspace.createOrSelectStack(
      { stackName: STACK_NAME, projectName: PROJECT, program },
      { workDir: s.projectDir, envVars: s.envVars },
    );
    s.configure(() => undefined);
    return s;
  }

  get api(): Stack {
    if (!this.stack) throw new Error("stack not created");
    return this.stack;
  }

  get stackFile(): string {
    return path.join(this.projectDir, `Pulumi.${STACK_NAME}.yaml`);
  }

  /**
   * Writes the stack file: Pulumi.local.yaml's config changed by `mutate` (each call starts from
   * the local config again, so a step states its whole difference from `local`). The secrets
   * provider's salt that `stack init` wrote is kept.
   */
  configure(mutate: (config: StackConfig) => void): StackConfig {
    let current: Record<string, unknown> = {};
    if (fs.existsSync(this.stackFile)) {
      current = (parse(fs.readFileSync(this.stackFile, "utf8")) as Record<string, unknown>) ?? {};
    }
    const config = localConfig();
    mutate(config);
    fs.writeFileSync(this.stackFile, stringify({ ...current, config }));
    return config;
  }

  async preview(
    options: { policyPacks?: string[]; policyPackConfigs?: string[] } = {},
  ): Promise<Run> {
    const events: EngineEvent[] = [];
    const started = Date.now();
    const r = await this.api.preview({
      diff: true,
      color: "never",
      onEvent: (e) => events.push(e),
      ...options,
    });
    return {
      ...fromEvents(events),
      changes: { ...(r.changeSummary as Record<string, number>) },
      stdout: r.stdout,
      seconds: (Date.now() - started) / 1000,
    };
  }

  /**
   * A preview expected to fail: resolves with what the engine reported (its policy events and
   * output) instead of throwing; throws when the preview succeeds.
   */
  async failingPreview(
    options: { policyPacks?: string[]; policyPackConfigs?: string[] } = {},
  ): Promise<{ policy: PolicyEvent[]; message: string }> {
    const events: EngineEvent[] = [];
    try {
      await this.api.preview({ color: "never", onEvent: (e) => events.push(e), ...options });
    } catch (err) {
      return { policy: fromEvents(events).policy, message: String((err as Error).message ?? err) };
    }
    throw new Error("the preview succeeded; expected it to fail");
  }

  /** `up`; `replace`: URNs to replace (what `npm run keys -- rotate` does to a key's Secret). */
  async up(options: { replace?: string[] } = {}): Promise<Run> {
    const events: EngineEvent[] = [];
    const started = Date.now();
    const r = await this.api.up({
      diff: true,
      color: "never",
      onEvent: (e) => events.push(e),
      ...options,
    });
    return {
      ...fromEvents(events),
      changes: { ...(r.summary.resourceChanges as Record<string, number>) },
      stdout: r.stdout,
      seconds: (Date.now() - started) / 1000,
    };
  }

  async destroy(): Promise<Run> {
    const events: EngineEvent[] = [];
    const started = Date.now();
    const r = await this.api.destroy({ color: "never", onEvent: (e) => events.push(e) });
    return {
      ...fromEvents(events),
      changes: { ...(r.summary.resourceChanges as Record<string, number>) },
      stdout: r.stdout,
      seconds: (Date.now() - started) / 1000,
    };
  }

  /** The stack outputs as plain values (secrets included, as the engine decrypts them). */
  async outputs(): Promise<Record<string, unknown>> {
    const out: OutputMap = await this.api.outputs();
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.value]));
  }

  /** Removes the stack from the backend, and the temp dirs. */
  async remove(): Promise<void> {
    await this.api.workspace.removeStack(STACK_NAME);
  }

  cleanUp(): void {
    fs.rmSync(path.dirname(this.projectDir), { recursive: true, force: true });
  }
}

/** The resource name of a URN: its last `::` part. */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

function fromEvents(events: readonly EngineEvent[]): { steps: Step[]; policy: PolicyEvent[] } {
  const steps: Step[] = [];
  const policy: PolicyEvent[] = [];
  for (const e of events) {
    const m = e.resourcePreEvent?.metadata;
    if (m) steps.push({ op: m.op, type: m.type, name: urnName(m.urn), diffs: m.diffs ?? [] });
    if (e.policyEvent) policy.push(e.policyEvent);
  }
  return { steps, policy };
}

/**
 * The steps that change something (everything but `same`), as sorted `op type name` lines; a
 * ConfigGroup object's name without the group's `mlops-manifests:` prefix. Provider steps are
 * left out, as the engine's own change summary leaves them out: they are the engine's bookkeeping
 * of default providers and touch nothing in the cluster.
 */
export function changed(steps: readonly Step[]): string[] {
  return steps
    .filter((s) => s.op !== "same" && !s.type.startsWith("pulumi:providers:"))
    .map((s) => `${s.op} ${s.type} ${s.name.slice(s.name.lastIndexOf(":") + 1)}`)
    .sort();
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the e2e context was not applied`);
  return value;
}
