/**
 * The bundled models are one list, the training registry (DATASETS in service/train/models.ts):
 * the config's model keys come from it, the image's MODEL_PINS is generated from it
 * (`npm run schema`), and the stack that pins every model (prod) is checked against it.
 */
import * as fs from "fs";
import { parseConfig } from "../../../infra/config";
import { dockerfileWithModelPins } from "../../../infra/models";
import { DATASETS, MPG_REGRESSOR } from "../../../service/train/models";
import { DOCKERFILE } from "../../../tools/schema";
import { local } from "../../support/config-errors";
import { stackConfig } from "../../support/program";

const NAMES = DATASETS.map((d) => d.modelName);
const dockerfile = fs.readFileSync(DOCKERFILE, "utf8");

/** `app.models` of a committed stack file. */
const stackModels = (stack: string) =>
  (stackConfig(stack).app as { models?: Record<string, unknown> } | undefined)?.models;

/** Where a stack's pins and the bundled models disagree: every model pinned, no other name. */
function pinDrift(
  pins: Readonly<Record<string, unknown>> | undefined,
  models: readonly string[],
): string[] {
  const pinned = Object.keys(pins ?? {});
  return [
    ...models.filter((m) => !pinned.includes(m)).map((m) => `${m}: bundled but not pinned`),
    ...pinned.filter((m) => !models.includes(m)).map((m) => `${m}: pinned but not bundled`),
  ];
}

/** The `MODEL_PINS=` value of the Dockerfile's runtime ENV, as a map. */
function imagePins(text: string): Record<string, string> {
  const line = /^\s*MODEL_PINS=(\S*)/m.exec(text);
  if (!line) throw new Error("no MODEL_PINS line");
  return Object.fromEntries(line[1].split(",").map((pair) => pair.split("=")));
}

describe("the registry is the one list of bundled models", () => {
  test("it names each model once", () => {
    expect(NAMES.length).toBeGreaterThan(1);
    expect(new Set(NAMES).size).toBe(NAMES.length);
  });

  test("the config's model keys and default pins are the registry's", () => {
    expect(parseConfig(local).app.models).toEqual(
      Object.fromEntries(NAMES.map((name) => [name, "1"])),
    );
    expect(() => parseConfig({ ...local, app: { models: { iris: "1" } } })).toThrow(
      `unknown model; the service ships ${NAMES.join(", ")}`,
    );
  });

  test("the image pins every registry model at MODEL_VERSION (npm run schema wrote it)", () => {
    expect(imagePins(dockerfile)).toEqual(
      Object.fromEntries(NAMES.map((name) => [name, "${MODEL_VERSION}"])),
    );
    expect(dockerfileWithModelPins(dockerfile)).toBe(dockerfile);
  });

  test("Pulumi.prod.yaml pins every bundled model and no other", () => {
    expect(pinDrift(stackModels("prod"), NAMES)).toEqual([]);
  });
});

describe("drift is caught", () => {
  test("a Dockerfile pinning fewer models is rewritten, and only its pins change", () => {
    const drifted = dockerfile.replace(
      /MODEL_PINS=\S*/,
      "MODEL_PINS=mpg-regressor=${MODEL_VERSION}",
    );
    expect(drifted).not.toBe(dockerfile);
    expect(dockerfileWithModelPins(drifted)).toBe(dockerfile);
    // Sorted, as the chart's MODEL_PINS is.
    expect(dockerfileWithModelPins(drifted, ["b-model", "a-model", "c-model"])).toContain(
      "\n    MODEL_PINS=a-model=${MODEL_VERSION},b-model=${MODEL_VERSION},c-model=${MODEL_VERSION} \\\n",
    );
  });

  test("a Dockerfile without MODEL_PINS is refused", () => {
    expect(() => dockerfileWithModelPins("FROM node:20\nENV PORT=8080\n")).toThrow(
      "service/Dockerfile has no MODEL_PINS=... entry in the runtime stage's ENV",
    );
  });

  test("a stack missing a bundled model or pinning another name drifts", () => {
    const all = Object.fromEntries(NAMES.map((name) => [name, "1"]));
    const allButOne = Object.fromEntries(NAMES.slice(1).map((name) => [name, "1"]));
    expect(pinDrift(allButOne, NAMES)).toEqual([`${NAMES[0]}: bundled but not pinned`]);
    expect(pinDrift({ ...all, iris: "1" }, NAMES)).toEqual(["iris: pinned but not bundled"]);
    expect(pinDrift(undefined, NAMES)).toHaveLength(NAMES.length);
  });

  test("a third registry entry reaches the config and makes the image pins and prod stale", () => {
    const third = { ...MPG_REGRESSOR, modelName: "mpg-regressor-b" };
    jest.isolateModules(() => {
      jest.doMock("../../../service/train/models", () => {
        const actual = jest.requireActual("../../../service/train/models");
        const datasets = [...actual.DATASETS, third];
        return {
          ...actual,
          DATASETS: datasets,
          BUNDLED_MODELS: datasets.map((d: { modelName: string }) => d.modelName),
        };
      });
      const config = jest.requireActual(
        "../../../infra/config",
      ) as typeof import("../../../infra/config");
      const models = jest.requireActual(
        "../../../infra/models",
      ) as typeof import("../../../infra/models");
      expect(config.parseConfig(local).app.models).toEqual({
        ...Object.fromEntries(NAMES.map((name) => [name, "1"])),
        "mpg-regressor-b": "1",
      });
      const pinned = config.parseConfig({ ...local, app: { models: { "mpg-regressor-b": "2" } } });
      expect(pinned.app.models).toEqual({ "mpg-regressor-b": "2" });
      expect(models.dockerfileWithModelPins(dockerfile)).not.toBe(dockerfile);
      expect(imagePins(models.dockerfileWithModelPins(dockerfile))).toHaveProperty(
        "mpg-regressor-b",
        "${MODEL_VERSION}",
      );
      expect(pinDrift(stackModels("prod"), [...NAMES, third.modelName])).toEqual([
        "mpg-regressor-b: bundled but not pinned",
      ]);
    });
  });
});
