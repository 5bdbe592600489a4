import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { ClassificationArtifact, RegressionArtifact } from "../../service/src/model/artifact";
import { validateArtifact } from "../../service/src/model/artifact";
import { ModelStore } from "../../service/src/model/store";
import { EXIT_OK, EXIT_QUALITY_GATE, EXIT_USAGE } from "../../service/train/cli";
import { vegaDatasetsDir } from "../../service/train/datasets";
import { DATASETS } from "../../service/train/models";
import { artifacts, tempDir, trainAll, trainCli } from "./helpers";

describe("training", () => {
  it("is deterministic: the same seed gives identical weights and metrics, another seed does not", () => {
    const a = trainAll({ seed: 42 });
    const b = trainAll({ seed: 42 });
    const c = trainAll({ seed: 7 });
    expect(b.map((x) => x.weights)).toEqual(a.map((x) => x.weights));
    expect(b.map((x) => x.metrics)).toEqual(a.map((x) => x.metrics));
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(c[0].weights).not.toEqual(a[0].weights);
  });

  it("uses the real data files and fingerprints them", () => {
    const { mpg, penguin } = artifacts();
    const sha = (f: string) =>
      createHash("sha256")
        .update(readFileSync(path.join(vegaDatasetsDir(), "data", f)))
        .digest("hex");
    expect(mpg.training.dataSha256).toBe(sha("cars.json"));
    expect(penguin.training.dataSha256).toBe(sha("penguins.json"));
    // cars.json: 406 rows, 8 without Miles_per_Gallon; penguins.json: 344 rows, 2 without body measurements but all have Species.
    expect(mpg.training).toMatchObject({
      rowsTotal: 406,
      rowsDropped: 8,
      rowsTrain: 318,
      rowsTest: 80,
    });
    expect(penguin.training).toMatchObject({
      rowsTotal: 344,
      rowsDropped: 0,
      rowsTrain: 275,
      rowsTest: 69,
    });
    expect(penguin.classLabels).toEqual(["Adelie", "Chinstrap", "Gentoo"]);
    // "." and null in Sex are missing values, not categories.
    expect(penguin.features.find((f) => f.name === "Sex")).toMatchObject({
      categories: ["FEMALE", "MALE"],
    });
    expect(mpg.features.find((f) => f.name === "Year")).toMatchObject({
      type: "number",
      min: 1970,
      max: 1982,
    });
  });

  it("fits preprocessing on the training split only", () => {
    // A different seed changes the split, hence the training statistics.
    const [a] = trainAll({ seed: 42 });
    const [b] = trainAll({ seed: 43 });
    expect(a.preprocessing.numeric.Weight_in_lbs.mean).not.toBe(
      b.preprocessing.numeric.Weight_in_lbs.mean,
    );
    // Drift reference proportions are computed from exactly the training rows that had a value.
    const d = a.drift.Weight_in_lbs;
    expect(d.type).toBe("number");
    const counts = d.proportions.map((p) => p * a.training.rowsTrain);
    expect(counts.length).toBeGreaterThan(1);
    expect(counts).toEqual(counts.map((c) => expect.closeTo(Math.round(c), 9)));
    expect(counts.reduce((x, y) => x + y)).toBeCloseTo(a.training.rowsTrain, 9);
  });

  it("reaches the documented held-out quality", () => {
    const { mpg, penguin } = artifacts();
    expect(mpg.metrics.r2).toBeGreaterThan(0.7);
    expect(mpg.metrics.rmse).toBeLessThan(4.5);
    expect(penguin.metrics.accuracy).toBeGreaterThan(0.9);
    expect(penguin.metrics.logLoss).toBeLessThan(0.3);
  });

  it("serves sensible predictions through the serving predictor", () => {
    // Predicting the training mean for every row gives R² ≤ 0 — the model must beat it.
    const { mpg } = artifacts() as { mpg: RegressionArtifact; penguin: ClassificationArtifact };
    const store = ModelStore.fromArtifacts([mpg], { driftWindow: 10 });
    const p = store.get("mpg-regressor")!.predictor.predict({
      rows: 2,
      columns: [
        [4, 8],
        [97, 350],
        [88, 165],
        [2130, 4209],
        [14.5, 12],
        [1980, 1971],
        ["Japan", "USA"],
      ],
    });
    expect(p.kind).toBe("regression");
    if (p.kind === "regression") {
      expect(p.values[0]).toBeGreaterThan(p.values[1] + 10); // a light 1980 Japanese 4-cyl vs a heavy 1971 V8
    }
  });
});

describe("training CLI", () => {
  it("writes <out>/<name>/<version>/model.json for both models", () => {
    const dir = tempDir();
    const r = trainCli(["--out", dir, "--version", "3"], { SOURCE_DATE_EPOCH: "1700000000" });
    expect(r.code).toBe(EXIT_OK);
    for (const name of ["mpg-regressor", "penguin-classifier"]) {
      const file = path.join(dir, name, "3", "model.json");
      const a = validateArtifact(JSON.parse(readFileSync(file, "utf8")), file);
      expect(a.version).toBe("3");
      expect(a.createdAt).toBe("2023-11-14T22:13:20.000Z");
    }
  });

  it("takes the output directory from MODEL_OUTPUT_DIR", () => {
    const dir = tempDir();
    expect(trainCli([], { MODEL_OUTPUT_DIR: dir, GIT_SHA: "abc123" }).code).toBe(EXIT_OK);
    const a = JSON.parse(readFileSync(path.join(dir, "mpg-regressor", "1", "model.json"), "utf8"));
    expect(a.codeVersion).toEqual({
      package: "@mlops-platform/service",
      version: expect.any(String),
      gitSha: "abc123",
    });
  });

  it("quality gate: refuses to publish anything when a metric is below its floor", () => {
    const dir = tempDir();
    const r = trainCli(["--out", dir, "--min-r2", "0.99"]);
    expect(r.code).toBe(EXIT_QUALITY_GATE);
    expect(r.err).toMatch(/mpg-regressor: held-out r2 0\.\d{4} is below the floor 0\.99/);
    expect(existsSync(path.join(dir, "mpg-regressor"))).toBe(false);
    expect(existsSync(path.join(dir, "penguin-classifier"))).toBe(false);
    const acc = trainCli(["--out", dir], { MIN_ACCURACY: "1.0", MIN_R2: "0" });
    // penguins reach 100% on this split, so a floor of 1.0 passes; a floor above 1 is a usage error.
    expect(acc.code).toBe(EXIT_OK);
    expect(trainCli(["--out", dir, "--min-accuracy", "1.5"]).code).toBe(EXIT_USAGE);
  });

  it.each([
    [["--out"], "Option '--out <value>' argument missing"],
    [["--bogus"], "Unknown option '--bogus'"],
    [[], "--out <dir> (or MODEL_OUTPUT_DIR) is required"],
    [
      ["--out", "/tmp/x", "--min-r2", "abc"],
      '--min-r2 must be a number in [-1000000000, 1], got "abc"',
    ],
    [["--out", "/tmp/x", "--seed", "1.5"], "--seed must be an integer, got 1.5"],
    [["--out", "/tmp/x", "--version", "../1"], "--version must match"],
  ])("bad flags %j exit 2 with a reason", (args, reason) => {
    const r = trainCli(args as string[]);
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain(reason);
  });

  it("--help names each bundled model with its data file, wrapped at 100 columns", () => {
    const r = trainCli(["--help"]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain(
      "\nTrains mpg-regressor (cars.json) and penguin-classifier (penguins.json) from the vega-datasets\n" +
        "package and writes <dir>/<model-name>/<version>/model.json. Nothing is written unless every model\n" +
        "passes the quality gate.\n",
    );
    for (const d of DATASETS) expect(r.out).toContain(`${d.modelName} (${d.file})`);
    expect(Math.max(...r.out.split("\n").map((line) => line.length))).toBeLessThanOrEqual(100);
  });

  it("--if-empty leaves an existing model directory alone", () => {
    const dir = tempDir();
    expect(trainCli(["--out", dir, "--version", "5"]).code).toBe(EXIT_OK);
    const r = trainCli(["--out", dir, "--if-empty"]);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toContain("nothing to do");
    expect(existsSync(path.join(dir, "mpg-regressor", "1"))).toBe(false);
  });
});
