/**
 * The alert rules under Prometheus's own tool: `promtool check rules`, `promtool check config`
 * and `promtool test rules` (tests/monitoring/rules.test.yml: a firing and a silent case for
 * every alert), on the files `npm run monitoring` writes for the local stack.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseConfig } from "../../infra/config";
import { monitoringFiles, stackRuleGroups } from "../../infra/monitoring/files";
import { alertsOf } from "../../infra/monitoring/rules";
import { stackConfig } from "../support/program";
import { promtool } from "./promtool";

const TESTS = path.join(__dirname, "rules.test.yml");
/** `promtool test rules` evaluates every rule each minute over 30 simulated hours: ~10 s idle,
 * tens of seconds on a busy 2-core machine. */
const PROMTOOL_TEST_TIMEOUT_MS = 5 * 60 * 1000;
const dirs: string[] = [];

/** A directory with the monitoring files of the local stack (with `monitoring` overrides) and
 * the promtool test file. */
function workdir(monitoring: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlops-promtool-"));
  dirs.push(dir);
  const config = parseConfig({ ...stackConfig("local"), monitoring });
  for (const [name, text] of Object.entries(monitoringFiles(config, "local"))) {
    fs.writeFileSync(path.join(dir, name), text);
  }
  fs.copyFileSync(TESTS, path.join(dir, "rules.test.yml"));
  return dir;
}

afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

test("promtool check rules: every rule parses", () => {
  const rules = stackRuleGroups(parseConfig(stackConfig("local"))).flatMap((g) => g.rules);
  const r = promtool(["check", "rules", "rules.yml"], workdir());
  expect(r).toEqual({
    code: 0,
    output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`),
  });
});

test("promtool check config: the scrape config (and the rule file it loads) is valid", () => {
  const r = promtool(["check", "config", "prometheus.yml"], workdir());
  expect(r.output).toContain("SUCCESS: prometheus.yml is valid prometheus config file syntax");
  expect(r.code).toBe(0);
});

test(
  "promtool test rules: each alert fires when it should and stays silent when it should not",
  () => {
    const tests = fs.readFileSync(TESTS, "utf8");
    // Every alert is exercised by the test file.
    const tested = new Set([...tests.matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    const alerts = alertsOf(stackRuleGroups(parseConfig(stackConfig("local")))).map((a) => a.alert);
    expect(alerts.filter((a) => !tested.has(a))).toEqual([]);

    const r = promtool(["test", "rules", "rules.test.yml"], workdir());
    expect(r.output).toMatch(/Processing test file: rules\.test\.yml\s+SUCCESS/);
    expect(r.code).toBe(0);
  },
  PROMTOOL_TEST_TIMEOUT_MS,
);

test(
  "the thresholds come from config: a higher PSI threshold makes the drift case fail",
  () => {
    // Only the test groups about drift (--run): the rest would pass and take time.
    const dir = workdir({ driftPsiThreshold: 0.5 });
    const r = promtool(["test", "rules", "--run", "drift", "rules.test.yml"], dir);
    expect(r.code).toBe(1);
    const failed = [...r.output.matchAll(/alertname: (\w+), time/g)].map((m) => m[1]);
    expect([...new Set(failed)]).toEqual(["InferenceFeatureDrift"]);
  },
  PROMTOOL_TEST_TIMEOUT_MS,
);
