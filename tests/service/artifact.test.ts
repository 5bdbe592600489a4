import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { validateArtifact } from "../../service/src/model/artifact";
import { ModelStore } from "../../service/src/model/store";
import { artifacts, mutable, tempDir, type Loose } from "./helpers";

function writeModel(dir: string, doc: unknown, name = "mpg-regressor", version = "1"): string {
  mkdirSync(path.join(dir, name, version), { recursive: true });
  const file = path.join(dir, name, version, "model.json");
  writeFileSync(file, typeof doc === "string" ? doc : JSON.stringify(doc));
  return file;
}

describe("validateArtifact", () => {
  it("accepts both trained artifacts", () => {
    const { mpg, penguin } = artifacts();
    expect(validateArtifact(mutable(mpg)).name).toBe("mpg-regressor");
    expect(validateArtifact(mutable(penguin)).name).toBe("penguin-classifier");
  });

  const cases: [string, (a: Record<string, Loose>) => void, string][] = [
    [
      "wrong schemaVersion",
      (a) => (a.schemaVersion = 2),
      "f: schemaVersion must be 1, got number 2",
    ],
    ["bad name", (a) => (a.name = "MPG Regressor"), "f: name must match"],
    [
      "unknown kind",
      (a) => (a.kind = "clustering"),
      'f: kind must be "regression" or "classification", got string "clustering"',
    ],
    [
      "coefficient count",
      (a) => a.weights.coefficients.pop(),
      "f: weights.coefficients must have 9 elements, got 8",
    ],
    [
      "non-finite weight",
      (a) => (a.weights.intercept = "NaN"),
      'f: weights.intercept must be a finite number, got string "NaN"',
    ],
    [
      "missing drift",
      (a) => delete a.drift.Horsepower,
      "f: drift.Horsepower must be an object, got nothing",
    ],
    [
      "proportions",
      (a) => (a.drift.Origin.proportions = [0.5, 0.5, 0.5]),
      "f: drift.Origin.proportions must sum to 1, got 1.5",
    ],
    [
      "unsorted edges",
      (a) => a.drift.Weight_in_lbs.edges.reverse(),
      "f: drift.Weight_in_lbs.edges must be strictly ascending",
    ],
    [
      "zero std",
      (a) => (a.preprocessing.numeric.Year.std = 0),
      "f: preprocessing.numeric.Year.std must be positive, got 0",
    ],
    ["bad sha", (a) => (a.training.dataSha256 = "abc"), "f: training.dataSha256 must match"],
    [
      "bad date",
      (a) => (a.createdAt = "yesterday"),
      'f: createdAt must be an ISO-8601 date, got "yesterday"',
    ],
    [
      "duplicate feature",
      (a) => (a.features[1].name = "Cylinders"),
      'f: features[1].name duplicates feature "Cylinders"',
    ],
  ];
  it.each(cases)("rejects %s with a message naming the field", (_label, corrupt, message) => {
    const a = mutable(artifacts().mpg);
    corrupt(a);
    expect(() => validateArtifact(a, "f")).toThrow(message);
  });

  it("rejects a classifier whose coefficient rows disagree with its labels", () => {
    const a = mutable(artifacts().penguin);
    a.classLabels.push("Emperor");
    expect(() => validateArtifact(a, "f")).toThrow(
      "f: weights.intercepts must have 4 elements, got 3",
    );
  });
});

describe("ModelStore.loadFromDir", () => {
  it("loads <name>/<version>/model.json and picks the highest version by default", () => {
    const dir = tempDir();
    const { mpg } = artifacts();
    writeModel(dir, mpg);
    writeModel(dir, { ...mpg, version: "10" }, "mpg-regressor", "10");
    writeModel(dir, { ...mpg, version: "9" }, "mpg-regressor", "9");
    const store = ModelStore.loadFromDir(dir, { driftWindow: 100 });
    expect(store.versions("mpg-regressor")).toEqual(["1", "9", "10"]);
    expect(store.get("mpg-regressor")?.artifact.version).toBe("10");
    const pinned = ModelStore.loadFromDir(dir, {
      driftWindow: 100,
      pins: new Map([["mpg-regressor", "9"]]),
    });
    expect(pinned.get("mpg-regressor")?.artifact.version).toBe("9");
  });

  it("names the file of an invalid artifact", () => {
    const dir = tempDir();
    const bad = mutable(artifacts().mpg);
    bad.weights.coefficients = [];
    const file = writeModel(dir, bad);
    expect(() => ModelStore.loadFromDir(dir, { driftWindow: 100 })).toThrow(
      `${file}: weights.coefficients must have 9 elements, got 0`,
    );
  });

  it("names the file of unparsable JSON", () => {
    const dir = tempDir();
    const file = writeModel(dir, "{not json");
    expect(() => ModelStore.loadFromDir(dir, { driftWindow: 100 })).toThrow(
      `${file}: not valid JSON`,
    );
  });

  it("refuses an artifact sitting under the wrong name/version directory", () => {
    const dir = tempDir();
    const file = writeModel(dir, artifacts().mpg, "mpg-regressor", "2");
    expect(() => ModelStore.loadFromDir(dir, { driftWindow: 100 })).toThrow(
      `${file}: artifact says mpg-regressor version 1, but it sits in mpg-regressor/2/`,
    );
  });

  it("refuses a missing pinned version, naming it", () => {
    const dir = tempDir();
    writeModel(dir, artifacts().mpg);
    expect(() =>
      ModelStore.loadFromDir(dir, { driftWindow: 100, pins: new Map([["mpg-regressor", "3"]]) }),
    ).toThrow(
      "MODEL_PINS requires mpg-regressor version 3, which is not loaded (loaded versions: 1)",
    );
    expect(() =>
      ModelStore.loadFromDir(dir, {
        driftWindow: 100,
        pins: new Map([["penguin-classifier", "1"]]),
      }),
    ).toThrow(
      "MODEL_PINS requires penguin-classifier version 1, which is not loaded (no version of penguin-classifier is loaded)",
    );
  });

  it("refuses an empty or missing directory", () => {
    expect(() => ModelStore.loadFromDir(tempDir(), { driftWindow: 100 })).toThrow(
      "holds no <name>/<version>/model.json",
    );
    expect(() => ModelStore.loadFromDir("/nonexistent/models", { driftWindow: 100 })).toThrow(
      "MODEL_DIR /nonexistent/models is not a directory",
    );
  });
});
