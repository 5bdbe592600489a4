/**
 * The tracks of a release, derived once from validated config: the Deployments a strategy runs,
 * each one's image and model versions, and where the Service and the route send traffic. The
 * manifests (and the monitoring rules on their Deployments), the stack's `release` output and the
 * image pull checks all read this derivation. Pure.
 */
import { InferenceChart, type Track } from "./inference-chart";

/** Model name -> the version a Deployment loads. */
type Models = Readonly<Record<string, string>>;

/** One Deployment as a release pins it: its image and the model versions it must load. */
export interface ReleaseTrackSpec {
  /** @default the service image (`mlops:image`) */
  readonly image?: string;
  readonly models: Models;
}

/** What a release is derived from: the config's `release` section (each strategy's settings in
 * one shape: a field is set only for its strategy) and the models of the stable track
 * (`app.models`). */
export interface ReleaseSource {
  readonly release: {
    readonly strategy: "rolling" | "canary" | "blueGreen";
    readonly canary?: ReleaseTrackSpec & { readonly image: string; readonly weight: number };
    /** The colour the Service selects (`blueGreen`). */
    readonly active?: "blue" | "green";
    readonly blue?: ReleaseTrackSpec;
    readonly green?: ReleaseTrackSpec;
  };
  readonly app: { readonly models: Models };
}

/** What a release runs: its tracks, the track the Service selects, and the weighted canary. */
export interface ReleaseTracks {
  readonly tracks: Track[];
  readonly serviceTrack: string;
  /** @default no canary: the route sends everything to the Service */
  readonly canary?: { readonly track: string; readonly weight: number };
}

/** A track before the service image is known: `image` is set only where the config pins one
 * (`release.canary.image`, `release.blue.image`, `release.green.image`); else it runs
 * `mlops:image`. */
type PlannedTrack = Omit<Track, "image"> & { readonly image?: string };

function releasePlan(
  config: ReleaseSource,
): Omit<ReleaseTracks, "tracks"> & { tracks: PlannedTrack[] } {
  const { release } = config;
  const name = InferenceChart.NAME;
  const stable: PlannedTrack = { name: "stable", deploymentName: name, models: config.app.models };
  switch (release.strategy) {
    case "rolling":
      return { tracks: [stable], serviceTrack: "stable" };
    case "canary": {
      const canary = release.canary!;
      return {
        tracks: [
          stable,
          {
            name: "canary",
            deploymentName: `${name}-canary`,
            image: canary.image,
            models: canary.models,
          },
        ],
        serviceTrack: "stable",
        canary: { track: "canary", weight: canary.weight },
      };
    }
    case "blueGreen":
      return {
        tracks: (["blue", "green"] as const).map((colour): PlannedTrack => ({
          name: colour,
          deploymentName: `${name}-${colour}`,
          image: release[colour]?.image,
          models: release[colour]?.models ?? config.app.models,
        })),
        serviceTrack: release.active!,
      };
  }
}

/** The Deployments a release strategy runs, with `image` (the resolved `mlops:image`) where the
 * config pins no other, and where the Service and the route send traffic. */
export function releaseTracks(config: ReleaseSource, image: string): ReleaseTracks {
  const plan = releasePlan(config);
  return { ...plan, tracks: plan.tracks.map((t) => ({ ...t, image: t.image ?? image })) };
}

/** The images the release pins besides `mlops:image` (the canary's, blue's, green's), in track
 * order: the ones the kubelet must be able to pull as they are. */
export function pinnedReleaseImages(config: ReleaseSource): string[] {
  return releasePlan(config).tracks.flatMap((t) => (t.image === undefined ? [] : [t.image]));
}

/** What serves (the stack's `release` output): the strategy, the track the Service selects, the
 * canary's weight (0 without one), each track's image. */
export interface ReleaseOutput {
  strategy: string;
  serving: string;
  canaryWeight: number;
  tracks: Record<string, string>;
}

export function releaseOutput(config: ReleaseSource, image: string): ReleaseOutput {
  const r = releaseTracks(config, image);
  return {
    strategy: config.release.strategy,
    serving: r.serviceTrack,
    canaryWeight: r.canary?.weight ?? 0,
    tracks: Object.fromEntries(r.tracks.map((t) => [t.name, t.image])),
  };
}
