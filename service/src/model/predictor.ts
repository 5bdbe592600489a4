import type { ModelArtifact } from "./artifact";
import { InputError, show } from "./errors";
import type { FeatureColumns } from "./input";
import { softmax } from "./math";

export type Prediction =
  | { readonly kind: "regression"; readonly values: number[] }
  | {
      readonly kind: "classification";
      readonly labels: string[];
      readonly probabilities: number[][];
    };

interface NumberTerm {
  readonly type: "number";
  readonly mean: number;
  readonly std: number;
  /** Offset of this feature's column in the encoded design matrix. */
  readonly offset: number;
}

interface CategoryTerm {
  readonly type: "category";
  /** category -> offset of its one-hot column in the encoded design matrix */
  readonly offsets: ReadonlyMap<string, number>;
}

/**
 * An artifact compiled for fast inference: scaling and one-hot encoding are folded into one pass
 * that accumulates each output's linear score directly, without materialising encoded rows.
 */
export class Predictor {
  private readonly terms: (NumberTerm | CategoryTerm)[] = [];
  /** [output][encoded column] — one output for regression, one per class for classification. */
  private readonly weights: readonly (readonly number[])[];
  private readonly intercepts: readonly number[];

  constructor(readonly artifact: ModelArtifact) {
    const encoded = artifact.preprocessing.encodedFeatures;
    const index = new Map(encoded.map((n, i) => [n, i]));
    const offsetOf = (column: string): number => {
      const i = index.get(column);
      if (i === undefined)
        throw new Error(`${artifact.name}: no encoded column ${JSON.stringify(column)}`);
      return i;
    };
    for (const f of artifact.features) {
      if (f.type === "number") {
        const p = artifact.preprocessing.numeric[f.name];
        this.terms.push({ type: "number", mean: p.mean, std: p.std, offset: offsetOf(f.name) });
      } else {
        const offsets = new Map(
          f.categories.map((c) => [c, offsetOf(encodedCategoryName(f.name, c))]),
        );
        this.terms.push({ type: "category", offsets });
      }
    }
    if (artifact.kind === "regression") {
      this.weights = [artifact.weights.coefficients];
      this.intercepts = [artifact.weights.intercept];
    } else {
      this.weights = artifact.weights.coefficients;
      this.intercepts = artifact.weights.intercepts;
    }
  }

  /** Linear scores, [row][output]. */
  scores(input: FeatureColumns): number[][] {
    const out: number[][] = [];
    const outputs = this.intercepts.length;
    for (let r = 0; r < input.rows; r++) {
      const s = this.intercepts.slice();
      for (let t = 0; t < this.terms.length; t++) {
        const term = this.terms[t];
        let offset: number;
        let x: number;
        if (term.type === "number") {
          offset = term.offset;
          x = ((input.columns[t][r] as number) - term.mean) / term.std;
        } else {
          offset = term.offsets.get(input.columns[t][r] as string) as number;
          x = 1;
        }
        for (let k = 0; k < outputs; k++) s[k] += this.weights[k][offset] * x;
      }
      out.push(s);
    }
    return out;
  }

  /**
   * Predictions for every row. Throws a 422 InputError naming the feature and row when a score is
   * not a finite number (inputs so large that the model's arithmetic overflows): no response
   * ever carries NaN or Infinity.
   */
  predict(input: FeatureColumns): Prediction {
    const scores = this.scores(input);
    for (let r = 0; r < scores.length; r++) {
      const s = scores[r];
      for (let k = 0; k < s.length; k++) if (!Number.isFinite(s[k])) this.overflow(input, r);
    }
    const a = this.artifact;
    if (a.kind === "regression") {
      return { kind: "regression", values: scores.map((s) => s[0]) };
    }
    const probabilities = scores.map((s) => softmax(s));
    const labels = probabilities.map((p) => {
      let best = 0;
      for (let k = 1; k < p.length; k++) if (p[k] > p[best]) best = k;
      return a.classLabels[best];
    });
    return { kind: "classification", labels, probabilities };
  }

  /** Throws the 422 for row `r`, naming the numeric feature whose term is largest (or infinite). */
  private overflow(input: FeatureColumns, r: number): never {
    let worst = -1;
    let worstSize = -1;
    for (let t = 0; t < this.terms.length; t++) {
      const term = this.terms[t];
      if (term.type !== "number") continue;
      const x = ((input.columns[t][r] as number) - term.mean) / term.std;
      for (let k = 0; k < this.weights.length; k++) {
        const size = Math.abs(this.weights[k][term.offset] * x);
        const rank = Number.isNaN(size) ? Infinity : size;
        if (rank > worstSize) {
          worstSize = rank;
          worst = t;
        }
      }
    }
    const feature = this.artifact.features[Math.max(worst, 0)].name;
    throw new InputError(
      `input '${feature}' at row ${r}: value ${show(input.columns[Math.max(worst, 0)][r])} is too large in magnitude for the model (the prediction is not a finite number)`,
      422,
    );
  }
}

/** Name of the one-hot column for a category, e.g. `Origin=USA`. */
export function encodedCategoryName(feature: string, category: string): string {
  return `${feature}=${category}`;
}
