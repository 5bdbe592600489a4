/**
 * Model A/B inside the service: which loaded version answers an unversioned request, and which
 * version (if any) gets a shadow copy of it. Built once at startup from MODEL_TRAFFIC and
 * MODEL_SHADOW, checked against the loaded models.
 */
import { createHash } from "node:crypto";
import type { ModelArtifact } from "./artifact";
import { compareVersions, type LoadedModel, type ModelStore } from "./store";

/** A MODEL_TRAFFIC / MODEL_SHADOW setting that does not fit the loaded models. */
export class TrafficError extends Error {}

/** How an unversioned request got its version. */
export type Assignment = "default" | "sticky" | "random";

export interface Routed {
  readonly model: LoadedModel;
  readonly assignment: Assignment;
}

interface Split {
  /** Versions with a positive weight, in version order, with cumulative upper bounds (1-100). */
  readonly ranges: readonly { readonly upTo: number; readonly model: LoadedModel }[];
  readonly weights: ReadonlyMap<string, number>;
}

/**
 * The A/B bucket (0-99) of a subject for a model: the first 4 bytes of
 * sha256("<model>\n<subject>") as a big-endian unsigned integer, modulo 100. Stable across
 * processes, replicas and releases, and reproducible elsewhere, e.g.
 * `printf 'mpg-regressor\nalice' | sha256sum` -> first 8 hex digits -> integer % 100.
 */
export function abBucket(model: string, subject: string): number {
  return createHash("sha256").update(`${model}\n${subject}`).digest().readUInt32BE(0) % 100;
}

/**
 * What a client of the unversioned routes relies on: the same inputs (names, order, types and
 * accepted categories) and the same outputs (kind, class labels in order).
 */
export function interfaceSignature(a: ModelArtifact): string {
  return JSON.stringify({
    kind: a.kind,
    features: a.features.map((f) =>
      f.type === "number" ? [f.name, f.type] : [f.name, f.type, [...f.categories].sort()],
    ),
    classLabels: a.kind === "classification" ? a.classLabels : null,
  });
}

function loaded(store: ModelStore, variable: string, name: string, version: string): LoadedModel {
  if (!store.has(name)) {
    throw new TrafficError(
      `${variable}: model ${name} is not loaded (loaded models: ${store.names().join(", ")})`,
    );
  }
  const m = store.get(name, version);
  if (!m) {
    throw new TrafficError(
      `${variable}: ${name} version ${version} is not loaded (loaded versions: ${store.versions(name).join(", ")})`,
    );
  }
  return m;
}

function sameInterface(variable: string, base: LoadedModel, other: LoadedModel): void {
  if (interfaceSignature(base.artifact) !== interfaceSignature(other.artifact)) {
    throw new TrafficError(
      `${variable}: ${base.artifact.name} versions ${base.artifact.version} and ${other.artifact.version} ` +
        "take different inputs or give different outputs (features, their order and categories, " +
        "kind and class labels must match)",
    );
  }
}

export class TrafficRouter {
  private readonly splits = new Map<string, Split>();
  private readonly shadows = new Map<string, LoadedModel>();

  /**
   * @param traffic model -> version -> integer weight (already shape-checked: sums to 100)
   * @param shadow model -> shadow version
   * @param random source of uniform [0, 1) numbers for requests without a subject
   * @throws TrafficError naming the variable and the offending model/version
   */
  constructor(
    private readonly store: ModelStore,
    traffic: ReadonlyMap<string, ReadonlyMap<string, number>> = new Map(),
    shadow: ReadonlyMap<string, string> = new Map(),
    private readonly random: () => number = Math.random,
  ) {
    for (const [name, weights] of traffic) {
      const ranges: { upTo: number; model: LoadedModel }[] = [];
      let upTo = 0;
      let first: LoadedModel | undefined;
      for (const [version, weight] of [...weights].sort((a, b) => compareVersions(a[0], b[0]))) {
        const m = loaded(store, "MODEL_TRAFFIC", name, version);
        if (first) sameInterface("MODEL_TRAFFIC", first, m);
        first ??= m;
        if (weight === 0) continue;
        upTo += weight;
        ranges.push({ upTo, model: m });
      }
      const total = ranges.at(-1)?.upTo;
      if (total !== 100) {
        // parseModelTraffic guarantees this; checked again for maps built elsewhere.
        throw new TrafficError(`MODEL_TRAFFIC: ${name} weights must sum to 100, got ${total ?? 0}`);
      }
      this.splits.set(name, { ranges, weights: new Map(weights) });
    }
    for (const [name, version] of shadow) {
      const s = loaded(store, "MODEL_SHADOW", name, version);
      const live = this.liveVersions(name);
      for (const v of live) {
        if (v !== version) sameInterface("MODEL_SHADOW", store.get(name, v)!, s);
      }
      if (live.length === 1 && live[0] === version) {
        throw new TrafficError(
          `MODEL_SHADOW: ${name} version ${version} already answers every request ` +
            (this.splits.has(name)
              ? "(MODEL_TRAFFIC gives it 100%)"
              : "(it is the default version)") +
            "; shadow a version that does not",
        );
      }
      this.shadows.set(name, s);
    }
  }

  /** Versions that answer unversioned requests (weight > 0, or the default version). */
  private liveVersions(name: string): string[] {
    const split = this.splits.get(name);
    if (split) return split.ranges.map((r) => r.model.artifact.version);
    const d = this.store.get(name);
    return d ? [d.artifact.version] : [];
  }

  /**
   * The version that answers an unversioned request for a loaded model: by the split when the
   * model has one (sticky by subject, random without), else the default version.
   */
  route(name: string, subject: string | undefined): Routed | undefined {
    const split = this.splits.get(name);
    if (!split) {
      const m = this.store.get(name);
      return m && { model: m, assignment: "default" };
    }
    const sticky = subject !== undefined && subject !== "";
    const bucket = sticky ? abBucket(name, subject) : Math.floor(this.random() * 100);
    const hit = split.ranges.find((r) => bucket < r.upTo) ?? split.ranges[split.ranges.length - 1];
    return { model: hit.model, assignment: sticky ? "sticky" : "random" };
  }

  /** The shadow of a request answered by `answering`, unless it is the shadow version itself. */
  shadowFor(answering: LoadedModel): LoadedModel | undefined {
    const s = this.shadows.get(answering.artifact.name);
    return s === answering ? undefined : s;
  }

  /** The split of a model (version -> percent), or undefined when it has none. */
  weights(name: string): ReadonlyMap<string, number> | undefined {
    return this.splits.get(name)?.weights;
  }

  /** Percent of unversioned requests each loaded version of a model answers. */
  share(m: LoadedModel): number {
    const split = this.splits.get(m.artifact.name);
    if (split) return split.weights.get(m.artifact.version) ?? 0;
    return this.store.isDefault(m) ? 100 : 0;
  }

  shadowVersion(name: string): string | undefined {
    return this.shadows.get(name)?.artifact.version;
  }
}
