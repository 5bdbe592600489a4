import { defaultTrainingMaxAgeHours, parseConfig } from "../../../infra/config";
import { MONITORING_CONFIG_ERRORS } from "../../support/config-errors";

const local = { environment: "local", image: { ref: "mlops-inference:0.1.0" } };
const azure = { environment: "dev", target: "azure", image: { build: true } };

describe("mlops:monitoring defaults", () => {
  test("local: no scraper (no CRDs on a plain cluster), every threshold documented", () => {
    expect(parseConfig(local).monitoring).toEqual({
      scraper: "none",
      scrapeIntervalSeconds: 30,
      driftPsiThreshold: 0.2,
      driftForMinutes: 15,
      availabilityObjectivePercent: 99.5,
      clientErrorPercent: 10,
      latencyP99Millis: 500,
      shadowDisagreementPercent: 10,
      shadowMeanAbsDiff: 2,
      trainingMaxAgeHours: 26,
      grafana: false,
      actionGroupId: undefined,
      operatorLabels: {},
    });
    expect(parseConfig(local).ingress.metricsNamespace).toBe("monitoring");
  });

  test("azure: managed Prometheus, scraped from kube-system unless the namespace is set", () => {
    const c = parseConfig(azure);
    expect(c.monitoring.scraper).toBe("azure-managed");
    expect(c.ingress.metricsNamespace).toBe("kube-system");
    const own = parseConfig({ ...azure, ingress: { metricsNamespace: "observability" } });
    expect(own.ingress.metricsNamespace).toBe("observability");
    const operator = parseConfig({ ...azure, monitoring: { scraper: "prometheus-operator" } });
    expect(operator.ingress.metricsNamespace).toBe("monitoring");
  });

  test("numbers as text (stack files) and 0-free thresholds keep their value", () => {
    const c = parseConfig({
      ...local,
      monitoring: { driftPsiThreshold: "0.25", latencyP99Millis: "750", trainingMaxAgeHours: 1 },
    });
    expect(c.monitoring).toMatchObject({
      driftPsiThreshold: 0.25,
      latencyP99Millis: 750,
      trainingMaxAgeHours: 1,
    });
  });

  test.each([
    ["0 3 * * *", 26],
    ["@daily", 26],
    ["0 3 * * 0", 170],
    ["@weekly", 170],
    ["*/30 * * * *", 26],
  ])("training staleness bound for %s: %i h", (schedule, hours) => {
    expect(defaultTrainingMaxAgeHours(schedule)).toBe(hours);
    expect(parseConfig({ ...local, training: { schedule } }).monitoring.trainingMaxAgeHours).toBe(
      hours,
    );
  });
});

describe("invalid mlops:monitoring names the key, the value and what is allowed", () => {
  test.each(MONITORING_CONFIG_ERRORS)("%s", (_name, raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });
});
