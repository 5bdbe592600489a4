import type { DriftReference, ModelArtifact } from "./artifact";
import { binIndex, psi } from "./math";
import type { FeatureColumns } from "./input";

/**
 * A sliding window over the most recent values of one feature, kept as bin indices with running
 * counts, so adding a value is O(log bins) and the PSI is O(bins).
 */
export class FeatureWindow {
  private readonly bins: Uint32Array;
  private readonly counts: number[];
  private next = 0;
  private filled = 0;
  private readonly categoryIndex?: ReadonlyMap<string, number>;

  constructor(
    readonly feature: string,
    private readonly reference: DriftReference,
    readonly size: number,
  ) {
    this.bins = new Uint32Array(size);
    this.counts = new Array<number>(reference.proportions.length).fill(0);
    if (reference.type === "category") {
      this.categoryIndex = new Map(reference.categories.map((c, i) => [c, i]));
    }
  }

  add(value: number | string): void {
    const ref = this.reference;
    let bin: number;
    if (ref.type === "number") {
      bin = binIndex(ref.edges, value as number);
    } else {
      const i = this.categoryIndex?.get(value as string);
      if (i === undefined) return; // unknown categories never reach here (rejected as input)
      bin = i;
    }
    if (this.filled === this.size) this.counts[this.bins[this.next]]--;
    else this.filled++;
    this.bins[this.next] = bin;
    this.counts[bin]++;
    this.next = (this.next + 1) % this.size;
  }

  get samples(): number {
    return this.filled;
  }

  /** PSI of the window against the training distribution; undefined while the window is empty. */
  psi(): number | undefined {
    if (this.filled === 0) return undefined;
    return psi(
      this.reference.proportions,
      this.counts.map((c) => c / this.filled),
    );
  }
}

export class DriftMonitor {
  readonly windows: readonly FeatureWindow[];

  constructor(artifact: ModelArtifact, windowSize: number) {
    this.windows = artifact.features.map(
      (f) => new FeatureWindow(f.name, artifact.drift[f.name], windowSize),
    );
  }

  /** Records a validated batch (columns in feature order). Keeps the last `windowSize` rows. */
  observe(input: FeatureColumns): void {
    const start = Math.max(0, input.rows - (this.windows[0]?.size ?? 0));
    for (let f = 0; f < this.windows.length; f++) {
      const col = input.columns[f];
      const w = this.windows[f];
      for (let r = start; r < input.rows; r++) w.add(col[r]);
    }
  }
}
