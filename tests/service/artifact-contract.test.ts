/**
 * The artifact contract of service/src/model/artifact.ts, field by field, on a small hand-written
 * artifact: it is accepted as written, and each single corruption is refused with the message
 * naming the field, the rule and the value received. Then the store built from such artifacts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ArtifactError,
  validateArtifact,
  type ModelArtifact,
} from "../../service/src/model/artifact";
import { ModelLoadError, ModelStore } from "../../service/src/model/store";
import { classifier, regressor, type Doc } from "./toy-artifacts";

const refusal = (doc: unknown): string => {
  try {
    validateArtifact(doc, "toy.json");
  } catch (err) {
    expect(err).toBeInstanceOf(ArtifactError);
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("validateArtifact accepts", () => {
  it("the hand-written regressor and classifier, returning the same document", () => {
    const r = regressor();
    expect(validateArtifact(r)).toBe(r);
    const c = classifier();
    expect(validateArtifact(c)).toBe(c);
  });

  it("a git sha, equal min and max, a single drift edge, and a category mode of either category", () => {
    const d = regressor();
    d.codeVersion.gitSha = "abc";
    d.features[0].min = 3;
    d.features[0].max = 3;
    d.drift.x = { type: "number", edges: [1], proportions: [0, 1] };
    d.preprocessing.categorical.c.mode = "a";
    expect(validateArtifact(d)).toBe(d);
  });

  it("proportions that sum to 1 within 1e-6", () => {
    const d = regressor();
    d.drift.c.proportions = [0.5, 0.5 + 5e-7];
    expect(validateArtifact(d)).toBe(d);
  });

  it("a name of 63 characters and a version of 63", () => {
    const d = regressor();
    d.name = `a${"-".repeat(62)}`;
    d.version = `1${"_".repeat(62)}`;
    expect(validateArtifact(d)).toBe(d);
  });
});

const cases: [string, (d: Doc) => unknown, string][] = [
  [
    "another schema",
    (d) => (d.schemaVersion = 2),
    "toy.json: schemaVersion must be 1, got number 2",
  ],
  [
    "a name with capitals",
    (d) => (d.name = "Toy"),
    'toy.json: name must match /^[a-z0-9][a-z0-9-]{0,62}$/, got "Toy"',
  ],
  [
    "a name of 64 characters",
    (d) => (d.name = "a".repeat(64)),
    `toy.json: name must match /^[a-z0-9][a-z0-9-]{0,62}$/, got "${"a".repeat(64)}"`,
  ],
  [
    "an empty version",
    (d) => (d.version = ""),
    'toy.json: version must be a non-empty string, got string ""',
  ],
  [
    "a version with a space",
    (d) => (d.version = "1 0"),
    'toy.json: version must match /^[0-9A-Za-z][0-9A-Za-z._-]{0,62}$/, got "1 0"',
  ],
  ["no description", (d) => delete d.description, "toy.json: description must be a string"],
  [
    "an unknown kind",
    (d) => (d.kind = "ranking"),
    'toy.json: kind must be "regression" or "classification", got string "ranking"',
  ],
  [
    "features that are not a list",
    (d) => (d.features = {}),
    "toy.json: features must be an array, got an object",
  ],
  ["no features", (d) => (d.features = []), "toy.json: features must not be empty"],
  [
    "no missing-value policy",
    (d) => delete d.preprocessing.missingValuePolicy,
    "toy.json: preprocessing.missingValuePolicy must be a string",
  ],
  [
    "no numeric preprocessing",
    (d) => delete d.preprocessing.numeric,
    "toy.json: preprocessing.numeric must be an object, got nothing",
  ],
  [
    "no categorical preprocessing",
    (d) => (d.preprocessing.categorical = 1),
    "toy.json: preprocessing.categorical must be an object, got number 1",
  ],
  ["no drift", (d) => delete d.drift, "toy.json: drift must be an object, got nothing"],
  [
    "a feature that is a string",
    (d) => (d.features[1] = "c"),
    'toy.json: features[1] must be an object, got string "c"',
  ],
  [
    "a bad feature name",
    (d) => (d.features[0].name = "1x"),
    'toy.json: features[0].name must match /^[A-Za-z_][A-Za-z0-9_]{0,63}$/, got "1x"',
  ],
  [
    "a duplicate feature",
    (d) => (d.features[1] = { ...d.features[0] }),
    'toy.json: features[1].name duplicates feature "x"',
  ],
  [
    "no source",
    (d) => delete d.features[0].source,
    "toy.json: features[0].source must be a non-empty string, got nothing",
  ],
  [
    "no drift for a feature",
    (d) => delete d.drift.x,
    "toy.json: drift.x must be an object, got nothing",
  ],
  [
    "a min that is not finite",
    (d) => (d.features[0].min = null),
    "toy.json: features[0].min must be a finite number, got null",
  ],
  [
    "an infinite max",
    (d) => (d.features[0].max = Infinity),
    "toy.json: features[0].max must be a finite number, got number null",
  ],
  [
    "min above max",
    (d) => (d.features[0].min = 11),
    "toy.json: features[0].min must not exceed max (11 > 10)",
  ],
  [
    "no numeric preprocessing of x",
    (d) => delete d.preprocessing.numeric.x,
    "toy.json: preprocessing.numeric.x must be an object, got nothing",
  ],
  [
    "no median",
    (d) => delete d.preprocessing.numeric.x.median,
    "toy.json: preprocessing.numeric.x.median must be a finite number, got nothing",
  ],
  [
    "no mean",
    (d) => delete d.preprocessing.numeric.x.mean,
    "toy.json: preprocessing.numeric.x.mean must be a finite number, got nothing",
  ],
  [
    "a zero std",
    (d) => (d.preprocessing.numeric.x.std = 0),
    "toy.json: preprocessing.numeric.x.std must be positive, got 0",
  ],
  [
    "a number feature with category drift",
    (d) => (d.drift.x.type = "category"),
    'toy.json: drift.x.type must be "number", got string "category"',
  ],
  [
    "equal drift edges",
    (d) => (d.drift.x.edges = [2, 2]),
    "toy.json: drift.x.edges must be strictly ascending",
  ],
  [
    "descending drift edges",
    (d) => (d.drift.x.edges = [4, 2]),
    "toy.json: drift.x.edges must be strictly ascending",
  ],
  [
    "a drift edge that is not a number",
    (d) => (d.drift.x.edges = [2, "4"]),
    'toy.json: drift.x.edges[1] must be a finite number, got string "4"',
  ],
  [
    "one proportion too few",
    (d) => (d.drift.x.proportions = [0.5, 0.5]),
    "toy.json: drift.x.proportions must have 3 elements, got 2",
  ],
  [
    "a negative proportion",
    (d) => (d.drift.x.proportions = [-0.25, 1, 0.25]),
    "toy.json: drift.x.proportions must not contain negative proportions",
  ],
  [
    "proportions that do not sum to 1",
    (d) => (d.drift.x.proportions = [0.25, 0.5, 0.3]),
    "toy.json: drift.x.proportions must sum to 1, got 1.05",
  ],
  [
    "duplicate categories",
    (d) => (d.features[1].categories = ["a", "a"]),
    "toy.json: features[1].categories must not contain duplicates",
  ],
  [
    "no categories",
    (d) => (d.features[1].categories = []),
    "toy.json: features[1].categories must not be empty",
  ],
  [
    "an empty category",
    (d) => (d.features[1].categories = ["a", ""]),
    'toy.json: features[1].categories[1] must be a non-empty string, got string ""',
  ],
  [
    "no categorical preprocessing of c",
    (d) => delete d.preprocessing.categorical.c,
    "toy.json: preprocessing.categorical.c must be an object, got nothing",
  ],
  [
    "encoded categories in another order",
    (d) => (d.preprocessing.categorical.c.categories = ["b", "a"]),
    "toy.json: preprocessing.categorical.c.categories must equal features[1].categories",
  ],
  [
    "encoded categories that differ only in where they split",
    (d) => (
      (d.features[1].categories = ["a b", "c"]),
      (d.preprocessing.categorical.c.categories = ["a", "b c"])
    ),
    "toy.json: preprocessing.categorical.c.categories must equal features[1].categories",
  ],
  [
    "a mode that is not a category",
    (d) => (d.preprocessing.categorical.c.mode = "z"),
    "toy.json: preprocessing.categorical.c.mode must be one of the categories",
  ],
  [
    "a category feature with number drift",
    (d) => (d.drift.c.type = "number"),
    'toy.json: drift.c.type must be "category", got string "number"',
  ],
  [
    "drift categories that differ",
    (d) => (d.drift.c.categories = ["a", "c"]),
    "toy.json: drift.c.categories must equal features[1].categories",
  ],
  [
    "category proportions of another length",
    (d) => (d.drift.c.proportions = [1]),
    "toy.json: drift.c.proportions must have 2 elements, got 1",
  ],
  [
    "an unknown feature type",
    (d) => (d.features[0].type = "date"),
    'toy.json: features[0].type must be "number" or "category", got string "date"',
  ],
  [
    "too few encoded columns",
    (d) => d.preprocessing.encodedFeatures.pop(),
    "toy.json: preprocessing.encodedFeatures must have 3 entries for these features, got 2",
  ],
  ["no target", (d) => delete d.target, "toy.json: target must be an object, got nothing"],
  [
    "no target name",
    (d) => delete d.target.name,
    "toy.json: target.name must be a non-empty string, got nothing",
  ],
  [
    "no target source",
    (d) => delete d.target.source,
    "toy.json: target.source must be a non-empty string, got nothing",
  ],
  ["no weights", (d) => delete d.weights, "toy.json: weights must be an object, got nothing"],
  [
    "no intercept",
    (d) => delete d.weights.intercept,
    "toy.json: weights.intercept must be a finite number, got nothing",
  ],
  [
    "too few coefficients",
    (d) => (d.weights.coefficients = [1, 2]),
    "toy.json: weights.coefficients must have 3 elements, got 2",
  ],
  [
    "a metric that is not a number",
    (d) => (d.metrics.rmse = "1"),
    'toy.json: metrics.rmse must be a finite number, got string "1"',
  ],
  ["no training", (d) => delete d.training, "toy.json: training must be an object, got nothing"],
  [
    "no dataset",
    (d) => delete d.training.dataset,
    "toy.json: training.dataset must be a non-empty string, got nothing",
  ],
  [
    "no data file",
    (d) => delete d.training.dataFile,
    "toy.json: training.dataFile must be a non-empty string, got nothing",
  ],
  [
    "a short sha",
    (d) => (d.training.dataSha256 = "a".repeat(63)),
    `toy.json: training.dataSha256 must match /^[0-9a-f]{64}$/, got "${"a".repeat(63)}"`,
  ],
  [
    "no seed",
    (d) => delete d.training.seed,
    "toy.json: training.seed must be a finite number, got nothing",
  ],
  [
    "no test rows",
    (d) => delete d.training.rowsTest,
    "toy.json: training.rowsTest must be a finite number, got nothing",
  ],
  [
    "no hyperparameters",
    (d) => delete d.training.hyperparameters,
    "toy.json: training.hyperparameters must be an object, got nothing",
  ],
  [
    "a hyperparameter that is not a number",
    (d) => (d.training.hyperparameters.lambda = true),
    "toy.json: training.hyperparameters.lambda must be a finite number, got boolean true",
  ],
  [
    "no code version",
    (d) => delete d.codeVersion,
    "toy.json: codeVersion must be an object, got nothing",
  ],
  [
    "no package",
    (d) => delete d.codeVersion.package,
    "toy.json: codeVersion.package must be a non-empty string, got nothing",
  ],
  [
    "no code version number",
    (d) => delete d.codeVersion.version,
    "toy.json: codeVersion.version must be a non-empty string, got nothing",
  ],
  [
    "an empty git sha",
    (d) => (d.codeVersion.gitSha = ""),
    'toy.json: codeVersion.gitSha must be a non-empty string, got string ""',
  ],
  [
    "no creation date",
    (d) => delete d.createdAt,
    "toy.json: createdAt must be a non-empty string, got nothing",
  ],
  [
    "a creation date that is no date",
    (d) => (d.createdAt = "yesterday"),
    'toy.json: createdAt must be an ISO-8601 date, got "yesterday"',
  ],
  [
    "drift for a feature the model does not have",
    (d) => (d.drift.z = d.drift.x),
    "toy.json: drift.z is not a feature of this model",
  ],
];

describe("validateArtifact refuses, naming the field", () => {
  it.each(cases)("%s", (_what, corrupt, message) => {
    const d = regressor();
    corrupt(d);
    expect(refusal(d)).toBe(message);
  });

  it("a document that is not an object", () => {
    expect(refusal([])).toBe("toy.json: document must be an object, got an array");
    expect(refusal(null)).toBe("toy.json: document must be an object, got null");
  });

  it.each([
    [
      "one class label",
      (d: Doc) => (d.classLabels = ["yes"]),
      "toy.json: classLabels must have at least 2 labels, got 1",
    ],
    [
      "no class labels",
      (d: Doc) => delete d.classLabels,
      "toy.json: classLabels must be an array, got nothing",
    ],
    [
      "an intercept per label missing",
      (d: Doc) => (d.weights.intercepts = [0]),
      "toy.json: weights.intercepts must have 2 elements, got 1",
    ],
    [
      "a coefficient row missing",
      (d: Doc) => d.weights.coefficients.pop(),
      "toy.json: weights.coefficients must have 2 elements, got 1",
    ],
    [
      "a short coefficient row",
      (d: Doc) => d.weights.coefficients[1].pop(),
      "toy.json: weights.coefficients[1] must have 3 elements, got 2",
    ],
  ])("a classifier with %s", (_what, corrupt, message) => {
    const d = classifier();
    corrupt(d);
    expect(refusal(d)).toBe(message);
  });

  it("prefixes messages with `artifact` when no place is given", () => {
    expect(() =>
      validateArtifact({ ...regressor(), name: "" } as unknown as ModelArtifact),
    ).toThrow('artifact: name must be a non-empty string, got string ""');
  });
});

describe("ModelStore", () => {
  const version = (v: string, name = "toy"): Doc => ({ ...regressor(), name, version: v });

  it("defaults each model to its highest version, compared as numbers", () => {
    const store = ModelStore.fromArtifacts(
      [version("9"), version("10"), version("2"), version("1", "other")],
      {
        driftWindow: 5,
      },
    );
    expect(store.names()).toEqual(["other", "toy"]);
    expect(store.versions("toy")).toEqual(["2", "9", "10"]);
    expect(store.versions("absent")).toEqual([]);
    expect(store.get("toy")?.artifact.version).toBe("10");
    expect(store.get("toy", "9")?.artifact.version).toBe("9");
    expect(store.get("toy", "3")).toBeUndefined();
    expect(store.get("absent")).toBeUndefined();
    expect(store.has("toy")).toBe(true);
    expect(store.has("absent")).toBe(false);
    expect(
      store
        .all()
        .map((m) => `${m.artifact.name}@${m.artifact.version}`)
        .sort(),
    ).toEqual(["other@1", "toy@10", "toy@2", "toy@9"]);
    expect(store.isDefault(store.get("toy", "10")!)).toBe(true);
    expect(store.isDefault(store.get("toy", "9")!)).toBe(false);
    expect(store.get("toy", "2")?.source).toBe("artifact #2");
    expect(store.get("toy")?.drift.windows.map((w) => w.size)).toEqual([5, 5]);
  });

  it("makes a pinned version the default", () => {
    const store = ModelStore.fromArtifacts([version("1"), version("2")], {
      driftWindow: 5,
      pins: new Map([["toy", "1"]]),
    });
    expect(store.get("toy")?.artifact.version).toBe("1");
    expect(store.isDefault(store.get("toy", "2")!)).toBe(false);
  });

  it("refuses a pin it cannot honour and a version given twice, naming both sources", () => {
    const pinned = (pins: [string, string][]) => () =>
      ModelStore.fromArtifacts([version("1"), version("2")], {
        driftWindow: 5,
        pins: new Map(pins),
      });
    expect(pinned([["toy", "3"]])).toThrow(
      new ModelLoadError(
        "MODEL_PINS requires toy version 3, which is not loaded (loaded versions: 1, 2)",
      ),
    );
    expect(pinned([["absent", "1"]])).toThrow(
      new ModelLoadError(
        "MODEL_PINS requires absent version 1, which is not loaded (no version of absent is loaded)",
      ),
    );
    expect(() =>
      ModelStore.fromArtifacts([version("1"), version("1")], { driftWindow: 5 }),
    ).toThrow(new ModelLoadError("artifact #1: toy version 1 is also in artifact #0"));
    expect(() =>
      ModelStore.fromArtifacts([{ ...version("1"), kind: "x" }], { driftWindow: 5 }),
    ).toThrow('artifact #0: kind must be "regression" or "classification", got string "x"');
  });

  it("loads a directory, skipping hidden entries, files and version directories without model.json", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "store-"));
    try {
      const write = (rel: string, doc: unknown) => {
        fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
        fs.writeFileSync(path.join(dir, rel), JSON.stringify(doc));
      };
      write("toy/1/model.json", version("1"));
      write(".hidden/1/model.json", version("1", "hidden"));
      write("README.json", {});
      fs.mkdirSync(path.join(dir, "toy", "2"));
      const store = ModelStore.loadFromDir(dir, { driftWindow: 5 });
      expect(store.names()).toEqual(["toy"]);
      expect(store.versions("toy")).toEqual(["1"]);
      expect(store.get("toy")?.source).toBe(path.join(dir, "toy", "1", "model.json"));
      write("toy/3/model.json", version("4"));
      expect(() => ModelStore.loadFromDir(dir, { driftWindow: 5 })).toThrow(
        `${path.join(dir, "toy", "3", "model.json")}: artifact says toy version 4, but it sits in toy/3/`,
      );
      fs.rmSync(path.join(dir, "toy", "3"), { recursive: true });
      write("other/1/model.json", version("2", "other"));
      expect(() => ModelStore.loadFromDir(dir, { driftWindow: 5 })).toThrow(
        `${path.join(dir, "other", "1", "model.json")}: artifact says other version 2, but it sits in other/1/`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(() => ModelStore.loadFromDir(path.join(dir, "gone"), { driftWindow: 5 })).toThrow(
      new ModelLoadError(
        `MODEL_DIR ${path.join(dir, "gone")} is not a directory (train models first: npm run train)`,
      ),
    );
  });
});
