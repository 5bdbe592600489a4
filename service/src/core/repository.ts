/**
 * The model repository as the protocol's extensions report it, the same over HTTP and gRPC:
 * inference statistics and the repository index.
 */
import { statisticsJson } from "../model/stats";
import type { LoadedModel } from "../model/store";
import { findModel, type InferenceCore } from "./inference";

/**
 * The statistics extension's answer: every loaded version (no name), every version of a model
 * (no version), or one version. Throws a 404 naming an unknown model or version.
 */
export function modelStatistics(core: InferenceCore, name?: string, version?: string) {
  let models: LoadedModel[];
  if (name === undefined) models = core.store.all();
  else if (version !== undefined) models = [findModel(core, name, version)];
  else {
    findModel(core, name);
    models = core.store.versions(name).map((v) => core.store.get(name, v)!);
  }
  return {
    model_stats: models.map((m) => statisticsJson(m.artifact.name, m.artifact.version, m.stats)),
  };
}

/** Every loaded model version; all are READY (so `ready: true` and no filter give the same list). */
export function repositoryIndex(core: InferenceCore) {
  return core.store
    .names()
    .flatMap((name) =>
      core.store.versions(name).map((version) => ({ name, version, state: "READY", reason: "" })),
    );
}
