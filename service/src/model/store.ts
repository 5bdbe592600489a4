import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { ArtifactError, validateArtifact, type ModelArtifact } from "./artifact";
import { DriftMonitor } from "./drift";
import { Predictor } from "./predictor";
import { newStatistics, type ModelStatistics } from "./stats";

export interface LoadedModel {
  readonly artifact: ModelArtifact;
  readonly predictor: Predictor;
  readonly drift: DriftMonitor;
  /** Inference statistics (the statistics extension), REST and gRPC together. */
  readonly stats: ModelStatistics;
  /** Where it was loaded from (for messages), or a description for in-memory models. */
  readonly source: string;
}

export class ModelLoadError extends Error {}

/** Orders versions numerically when both are numbers, else by natural string order. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, "en", { numeric: true });
}

export class ModelStore {
  private readonly byName = new Map<string, Map<string, LoadedModel>>();
  private readonly defaults = new Map<string, LoadedModel>();

  /**
   * @param pins name -> version that must be present; it becomes that model's default version.
   *   Models without a pin default to their highest version.
   */
  constructor(models: readonly LoadedModel[], pins: ReadonlyMap<string, string> = new Map()) {
    for (const m of models) {
      const { name, version } = m.artifact;
      const versions = this.byName.get(name) ?? new Map<string, LoadedModel>();
      const dup = versions.get(version);
      if (dup)
        throw new ModelLoadError(
          `${m.source}: ${name} version ${version} is also in ${dup.source}`,
        );
      versions.set(version, m);
      this.byName.set(name, versions);
    }
    for (const [name, version] of pins) {
      const m = this.byName.get(name)?.get(version);
      if (!m) {
        const have = [...(this.byName.get(name)?.keys() ?? [])];
        throw new ModelLoadError(
          `MODEL_PINS requires ${name} version ${version}, which is not loaded` +
            (have.length
              ? ` (loaded versions: ${have.join(", ")})`
              : ` (no version of ${name} is loaded)`),
        );
      }
    }
    for (const [name, versions] of this.byName) {
      const pinned = pins.get(name);
      const version = pinned ?? [...versions.keys()].sort(compareVersions).at(-1)!;
      this.defaults.set(name, versions.get(version)!);
    }
  }

  /** Builds models from artifacts already in memory (validated again). */
  static fromArtifacts(
    artifacts: readonly unknown[],
    opts: { driftWindow: number; pins?: ReadonlyMap<string, string> },
  ): ModelStore {
    return new ModelStore(
      artifacts.map((a, i) =>
        compile(validateArtifact(a, `artifact #${i}`), `artifact #${i}`, opts.driftWindow),
      ),
      opts.pins,
    );
  }

  /**
   * Loads every `<dir>/<name>/<version>/model.json`. Any unreadable or invalid artifact, or a
   * directory layout that disagrees with the artifact's name/version, throws naming the file.
   */
  static loadFromDir(
    dir: string,
    opts: { driftWindow: number; pins?: ReadonlyMap<string, string> },
  ): ModelStore {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new ModelLoadError(
        `MODEL_DIR ${dir} is not a directory (train models first: npm run train)`,
      );
    }
    const models: LoadedModel[] = [];
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith(".")) continue;
      const modelDir = path.join(dir, name);
      if (!statSync(modelDir).isDirectory()) continue;
      for (const version of readdirSync(modelDir).sort()) {
        const file = path.join(modelDir, version, "model.json");
        if (!existsSync(file)) continue;
        let doc: unknown;
        try {
          doc = JSON.parse(readFileSync(file, "utf8"));
        } catch (e) {
          throw new ModelLoadError(`${file}: not valid JSON (${(e as Error).message})`);
        }
        let artifact: ModelArtifact;
        try {
          artifact = validateArtifact(doc, file);
        } catch (e) {
          if (e instanceof ArtifactError) throw new ModelLoadError(e.message);
          throw e;
        }
        if (artifact.name !== name || artifact.version !== version) {
          throw new ModelLoadError(
            `${file}: artifact says ${artifact.name} version ${artifact.version}, but it sits in ${name}/${version}/`,
          );
        }
        models.push(compile(artifact, file, opts.driftWindow));
      }
    }
    if (models.length === 0) {
      throw new ModelLoadError(
        `MODEL_DIR ${dir} holds no <name>/<version>/model.json (train models first)`,
      );
    }
    return new ModelStore(models, opts.pins);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  versions(name: string): string[] {
    return [...(this.byName.get(name)?.keys() ?? [])].sort(compareVersions);
  }

  all(): LoadedModel[] {
    return [...this.byName.values()].flatMap((v) => [...v.values()]);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** The given version, or the default one. Undefined when absent. */
  get(name: string, version?: string): LoadedModel | undefined {
    return version === undefined ? this.defaults.get(name) : this.byName.get(name)?.get(version);
  }

  isDefault(m: LoadedModel): boolean {
    return this.defaults.get(m.artifact.name) === m;
  }
}

function compile(artifact: ModelArtifact, source: string, driftWindow: number): LoadedModel {
  return {
    artifact,
    predictor: new Predictor(artifact),
    drift: new DriftMonitor(artifact, driftWindow),
    stats: newStatistics(),
    source,
  };
}
