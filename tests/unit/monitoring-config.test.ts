import { defaultTrainingMaxAgeHours, parseConfig } from "../../infra/config";

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
  test.each<[string, Record<string, unknown>, string]>([
    [
      "managed Prometheus off Azure",
      { ...local, monitoring: { scraper: "azure-managed" } },
      'mlops:monitoring.scraper: got "azure-managed"; AKS managed Prometheus needs mlops:target "azure"; use "prometheus-operator" or "none"',
    ],
    [
      "unknown scraper",
      { ...local, monitoring: { scraper: "datadog" } },
      'mlops:monitoring.scraper: got "datadog"; allowed: none, prometheus-operator, azure-managed',
    ],
    [
      "Grafana without managed Prometheus",
      { ...azure, monitoring: { scraper: "none", grafana: true } },
      'mlops:monitoring.grafana: got true; only allowed when monitoring.scraper is "azure-managed"',
    ],
    [
      "latency bound beyond the histogram",
      { ...local, monitoring: { latencyP99Millis: 2500 } },
      "mlops:monitoring.latencyP99Millis: got 2500; expected a whole number from 1 to 2499",
    ],
    [
      "PSI threshold not a number",
      { ...local, monitoring: { driftPsiThreshold: "high" } },
      'mlops:monitoring.driftPsiThreshold: got "high"; expected a number from 0.01 to 10',
    ],
    [
      "objective of 100 % (no error budget)",
      { ...azure, monitoring: { availabilityObjectivePercent: 100 } },
      "mlops:monitoring.availabilityObjectivePercent: got 100; expected a number from 90 to 99.99",
    ],
    [
      "not an action group id",
      { ...azure, monitoring: { actionGroupId: "oncall" } },
      'mlops:monitoring.actionGroupId: got "oncall"; expected an action group resource id',
    ],
    [
      "operator labels without the operator",
      { ...local, monitoring: { operatorLabels: { release: "kps" } } },
      'mlops:monitoring.operatorLabels: got {"release":"kps"}; only allowed when monitoring.scraper is "prometheus-operator"',
    ],
    [
      "an operator label value that is no label value",
      {
        ...local,
        monitoring: { scraper: "prometheus-operator", operatorLabels: { release: "a b" } },
      },
      'mlops:monitoring.operatorLabels.release: got "a b"; expected a Kubernetes label value (≤ 63 chars)',
    ],
    [
      "typo in a key",
      { ...local, monitoring: { driftThreshold: 0.3 } },
      "mlops:monitoring.driftThreshold: got 0.3; unknown key; allowed: monitoring.scraper, monitoring.scrapeIntervalSeconds",
    ],
  ])("%s", (_name, raw, message) => {
    expect(() => parseConfig(raw)).toThrow(message);
  });
});
