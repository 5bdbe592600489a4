/** Small hand-written artifacts, valid as written, for the contract, store and A/B suites. */

export type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A regressor on one number and one category (3 encoded columns), valid as written. */
export function regressor(): Doc {
  return {
    schemaVersion: 1,
    name: "toy",
    version: "1",
    description: "",
    kind: "regression",
    features: [
      { name: "x", type: "number", source: "x", min: 0, max: 10 },
      { name: "c", type: "category", source: "c", categories: ["a", "b"] },
    ],
    target: { name: "y", source: "y" },
    preprocessing: {
      missingValuePolicy: "none",
      numeric: { x: { median: 5, mean: 5, std: 2 } },
      categorical: { c: { categories: ["a", "b"], mode: "b" } },
      encodedFeatures: ["x", "c=a", "c=b"],
    },
    metrics: { rmse: 1 },
    training: {
      dataset: "d",
      dataFile: "f",
      dataSha256: "a".repeat(64),
      seed: 1,
      testFraction: 0.2,
      rowsTotal: 10,
      rowsDropped: 0,
      rowsTrain: 8,
      rowsTest: 2,
      hyperparameters: { lambda: 1 },
    },
    codeVersion: { package: "p", version: "1.0.0", gitSha: null },
    createdAt: "2024-01-01T00:00:00.000Z",
    weights: { intercept: 1, coefficients: [1, 2, 3] },
    drift: {
      x: { type: "number", edges: [2, 4], proportions: [0.25, 0.5, 0.25] },
      c: { type: "category", categories: ["a", "b"], proportions: [0.5, 0.5] },
    },
  };
}

export function classifier(): Doc {
  const doc = regressor();
  doc.kind = "classification";
  doc.classLabels = ["no", "yes"];
  doc.weights = {
    intercepts: [0, 1],
    coefficients: [
      [1, 2, 3],
      [4, 5, 6],
    ],
  };
  return doc;
}
