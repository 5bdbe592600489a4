/**
 * The predictor's edges, on hand-written artifacts: the 422 for a score that is not finite names
 * the feature with the largest term and the row; ties between classes go to the first label; an
 * artifact whose encoded columns miss a feature is refused when compiled.
 */
import type { ModelArtifact } from "../../service/src/model/artifact";
import { InputError } from "../../service/src/model/errors";
import { encodedCategoryName, Predictor } from "../../service/src/model/predictor";

/** y = 0 + 1·(a − 0)/1 + 1e300·(b − 0)/1 + 2·[c = p] + 0·[c = q]; only what the predictor reads. */
const regressor = {
  name: "edge",
  kind: "regression",
  features: [
    { name: "a", type: "number" },
    { name: "b", type: "number" },
    { name: "c", type: "category", categories: ["p", "q"] },
  ],
  preprocessing: {
    numeric: { a: { mean: 0, std: 1 }, b: { mean: 0, std: 1 } },
    encodedFeatures: ["a", "b", "c=p", "c=q"],
  },
  weights: { intercept: 0, coefficients: [1, 1e300, 2, 0] },
} as unknown as ModelArtifact;

/** Two classes with the same weights: every row is a tie. */
const tied = {
  name: "tie",
  kind: "classification",
  classLabels: ["first", "second"],
  features: [{ name: "a", type: "number" }],
  preprocessing: { numeric: { a: { mean: 1, std: 2 } }, encodedFeatures: ["a"] },
  weights: { intercepts: [0.5, 0.5], coefficients: [[3], [3]] },
} as unknown as ModelArtifact;

function refusal(f: () => unknown): InputError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error("expected an InputError");
}

describe("Predictor", () => {
  const p = new Predictor(regressor);

  it("scores rows exactly: scaled numbers plus the one-hot weight of the category", () => {
    expect(
      p.predict({
        rows: 2,
        columns: [
          [3, -1],
          [0, 0],
          ["p", "q"],
        ],
      }),
    ).toEqual({
      kind: "regression",
      values: [3 + 2, -1],
    });
  });

  it("refuses a non-finite score with a 422 naming the feature with the largest term and the row", () => {
    const err = refusal(() =>
      p.predict({
        rows: 2,
        columns: [
          [1, 1e308],
          [0, 1e10],
          ["p", "q"],
        ],
      }),
    );
    expect(err.statusCode).toBe(422);
    expect(err.message).toBe(
      "input 'b' at row 1: value 10000000000 is too large in magnitude for the model (the prediction is not a finite number)",
    );
    const a = refusal(() => p.predict({ rows: 1, columns: [[Infinity], [0], ["q"]] }));
    expect(a.message).toMatch(/^input 'a' at row 0: value null is too large/);
  });

  it("names the feature whose term is NaN (infinite minus infinite)", () => {
    const nan = new Predictor({
      ...regressor,
      weights: { intercept: 0, coefficients: [1, 1, 0, 0] },
    } as unknown as ModelArtifact);
    const err = refusal(() => nan.predict({ rows: 1, columns: [[1e308], [-Infinity], ["p"]] }));
    expect(err.message).toMatch(/^input 'b' at row 0: /);
  });

  it("gives a tie to the first class label, with equal probabilities", () => {
    const t = new Predictor(tied).predict({ rows: 1, columns: [[5]] });
    expect(t).toEqual({ kind: "classification", labels: ["first"], probabilities: [[0.5, 0.5]] });
  });

  it("refuses to compile an artifact whose encoded columns miss a feature's column", () => {
    const broken = {
      ...regressor,
      preprocessing: { ...regressor.preprocessing, encodedFeatures: ["a", "b", "c=p"] },
    } as unknown as ModelArtifact;
    expect(() => new Predictor(broken)).toThrow('edge: no encoded column "c=q"');
    expect(encodedCategoryName("Origin", "USA")).toBe("Origin=USA");
  });
});
