import { loadConfig, parseModelPins } from "../../service/src/config";

describe("environment configuration", () => {
  it("has documented defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      PORT: 8080,
      GRPC_PORT: 8081,
      HOST: "0.0.0.0",
      LOG_LEVEL: "info",
      BODY_LIMIT_BYTES: 1048576,
      MAX_BATCH_ROWS: 10000,
      SHUTDOWN_GRACE_MS: 25000,
      SHUTDOWN_DELAY_MS: 5000,
      DRIFT_WINDOW: 1000,
      PAYLOAD_LOG_SAMPLE_RATE: 0,
    });
    expect(c.MODEL_DIR).toMatch(/service[/\\]models$/);
    expect(c.MODEL_PINS.size).toBe(0);
  });

  it("parses values and pins", () => {
    const c = loadConfig({
      PORT: "9000",
      MODEL_DIR: "/models",
      MODEL_PINS: "mpg-regressor=1, penguin-classifier=2",
      PAYLOAD_LOG_SAMPLE_RATE: "0.25",
    });
    expect(c.PORT).toBe(9000);
    expect(c.MODEL_DIR).toBe("/models");
    expect([...c.MODEL_PINS]).toEqual([
      ["mpg-regressor", "1"],
      ["penguin-classifier", "2"],
    ]);
    expect(c.PAYLOAD_LOG_SAMPLE_RATE).toBe(0.25);
  });

  it.each([
    [{ PORT: "http" }, "invalid environment: env/PORT must be integer"],
    [{ PORT: "70000" }, "env/PORT must be <= 65535"],
    [{ GRPC_PORT: "grpc" }, "invalid environment: env/GRPC_PORT must be integer"],
    [{ GRPC_PORT: "-1" }, "env/GRPC_PORT must be >= 0"],
    [{ HOST: "" }, "env/HOST must NOT have fewer than 1 characters"],
    [{ DRIFT_WINDOW: "0" }, "env/DRIFT_WINDOW must be >= 10"],
    [{ MAX_BATCH_ROWS: "1.5" }, "env/MAX_BATCH_ROWS must be integer"],
    [{ BODY_LIMIT_BYTES: "-1" }, "env/BODY_LIMIT_BYTES must be >= 1024"],
    [{ PAYLOAD_LOG_SAMPLE_RATE: "2" }, "env/PAYLOAD_LOG_SAMPLE_RATE must be <= 1"],
    [{ LOG_LEVEL: "loud" }, "env/LOG_LEVEL must be equal to one of the allowed values"],
    [{ SHUTDOWN_GRACE_MS: "soon" }, "env/SHUTDOWN_GRACE_MS must be integer"],
    [
      { SHUTDOWN_GRACE_MS: "1000", SHUTDOWN_DELAY_MS: "2000" },
      "SHUTDOWN_DELAY_MS (2000) must not exceed SHUTDOWN_GRACE_MS (1000)",
    ],
    [
      { MODEL_PINS: "mpg-regressor" },
      'MODEL_PINS: expected "name=version[,name=version...]", got "mpg-regressor"',
    ],
  ])("rejects %j naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  it("rejects a model pinned twice", () => {
    expect(() => parseModelPins("a=1,a=2")).toThrow("MODEL_PINS: model a is pinned twice");
  });
});
