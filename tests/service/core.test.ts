/**
 * The inference core (service/src/core) called directly, with no transport: the core as
 * createCore builds it, finding and splitting models, prediction with its metrics, the shadow
 * comparison, and request ids.
 */
import { createAuthenticator } from "../../service/src/auth";
import {
  createCore,
  findModel,
  predict,
  shadowTask,
  splitModel,
  type CoreLog,
} from "../../service/src/core/inference";
import { requestId } from "../../service/src/core/request-id";
import { InputError } from "../../service/src/model/errors";
import { columnsFromV1 } from "../../service/src/model/input";
import { ModelStore } from "../../service/src/model/store";
import { artifacts, keysDir, MPG_ROW, mutable, randomKey, testConfig } from "./helpers";

function twoVersions(): ModelStore {
  const { mpg, penguin } = artifacts();
  const mpg2 = { ...mutable(mpg), version: "2" };
  return ModelStore.fromArtifacts([mpg, mpg2, penguin], {
    driftWindow: 50,
    pins: testConfig({ MODEL_PINS: "mpg-regressor=1" }).MODEL_PINS,
  });
}

const silent: CoreLog = { info: () => undefined, warn: () => undefined };

async function sample(core: ReturnType<typeof createCore>, name: string): Promise<number> {
  const metrics = await core.metrics.registry.getMetricsAsJSON();
  const m = metrics.find((x) => x.name === name);
  return (m?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

describe("createCore", () => {
  it("defaults: ready, the traffic of the config, the authenticator of config.AUTH", () => {
    const core = createCore({
      config: testConfig({ MODEL_SHADOW: '{"mpg-regressor": "2"}' }),
      store: twoVersions(),
    });
    expect(core.readiness).toEqual({ ready: true });
    expect(core.traffic.shadowVersion("mpg-regressor")).toBe("2");
    expect(core.auth.mode).toBe("none");
  });

  it("watches and closes the key ring of an authenticator it built, not of one it was given", () => {
    const keys = keysDir({ primary: "short", secondary: randomKey() });
    const config = testConfig({ AUTH_MODE: "key", AUTH_KEYS_DIR: keys.dir });
    const problem =
      "key file primary holds no usable key (at least 32 printable characters, no spaces): ignored";

    const built = createCore({ config, store: twoVersions() });
    const close = jest.spyOn(built.auth, "close");
    const warned: string[] = [];
    built.watchKeys((line) => warned.push(line));
    expect(warned).toEqual([problem]);
    built.close();
    expect(close).toHaveBeenCalledTimes(1);

    const auth = createAuthenticator(config.AUTH);
    const given = createCore({ config, store: twoVersions(), auth });
    const kept = jest.spyOn(auth, "close");
    given.watchKeys((line) => warned.push(line));
    given.close();
    expect(warned).toEqual([problem]);
    expect(kept).not.toHaveBeenCalled();
    auth.close();
  });
});

describe("finding models", () => {
  const core = createCore({ config: testConfig(), store: twoVersions() });

  it("findModel: the default version, a named one, or a 404 naming what is there", () => {
    expect(findModel(core, "mpg-regressor").artifact.version).toBe("1");
    expect(findModel(core, "mpg-regressor", "2").artifact.version).toBe("2");
    expect(() => findModel(core, "nope")).toThrow(
      new InputError("model 'nope' not found; available: mpg-regressor, penguin-classifier", 404),
    );
    expect(() => findModel(core, "mpg-regressor", "9")).toThrow(
      "model 'mpg-regressor' has no version '9'; available: 1, 2",
    );
  });

  it("splitModel: the MODEL_TRAFFIC split, counted by assignment", async () => {
    const split = createCore({
      config: testConfig({ MODEL_TRAFFIC: '{"mpg-regressor": {"1": 0, "2": 100}}' }),
      store: twoVersions(),
    });
    expect(splitModel(split, "mpg-regressor", "user-1").artifact.version).toBe("2");
    expect(await sample(split, "inference_ab_assignments_total")).toBe(1);
    expect(() => splitModel(split, "nope")).toThrow("model 'nope' not found");
    // No split configured: the default version, and nothing counted.
    expect(splitModel(core, "mpg-regressor").artifact.version).toBe("1");
    expect(await sample(core, "inference_ab_assignments_total")).toBe(0);
  });
});

describe("prediction and its shadow", () => {
  it("predict counts rows; the shadow version predicts the same input and is compared", async () => {
    const core = createCore({
      config: testConfig({ MODEL_SHADOW: '{"mpg-regressor": "2"}' }),
      store: twoVersions(),
    });
    const m = findModel(core, "mpg-regressor");
    const input = columnsFromV1(m.artifact, [MPG_ROW, MPG_ROW], 10);
    const answer = predict(core, silent, m, input, null);
    expect(answer.kind).toBe("regression");
    expect(await sample(core, "inference_predictions_total")).toBe(2);
    const task = shadowTask(core, silent, m, input, answer);
    expect(task).not.toBeNull();
    task!();
    expect(await sample(core, "inference_shadow_predictions_total")).toBe(2);
    // The same weights under another version: no difference on either row.
    expect(await sample(core, "inference_shadow_abs_diff_sum")).toBe(0);
    // The shadow itself has no shadow.
    const shadow = findModel(core, "mpg-regressor", "2");
    expect(shadowTask(core, silent, shadow, input, answer)).toBeNull();
  });

  it("a failing shadow is counted and logged, never thrown", async () => {
    const core = createCore({
      config: testConfig({ MODEL_SHADOW: '{"mpg-regressor": "2"}' }),
      store: twoVersions(),
    });
    const m = findModel(core, "mpg-regressor");
    const warnings: string[] = [];
    const log: CoreLog = { info: () => undefined, warn: (_f, message) => warnings.push(message) };
    const bad = { rows: 1, columns: [] };
    const task = shadowTask(core, log, m, bad, { kind: "regression", values: [1] });
    expect(() => task!()).not.toThrow();
    expect(warnings).toEqual(["shadow prediction failed"]);
    expect(await sample(core, "inference_shadow_errors_total")).toBe(1);
  });
});

describe("requestId", () => {
  it("honours a well-formed id and mints a UUID for anything else", () => {
    expect(requestId("abc-1.2:3_x")).toBe("abc-1.2:3_x");
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const bad of [undefined, "", "has space", "x".repeat(129), ["a"], Buffer.from("a")]) {
      expect(requestId(bad)).toMatch(uuid);
    }
    expect(requestId("x".repeat(128))).toBe("x".repeat(128));
  });
});
