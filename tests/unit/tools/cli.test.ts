/**
 * The arguments of every CLI in tools/: node's parseArgs through tools/cli.ts, `--help` (exit 0,
 * the usage on stdout) and refusals that name the wrong argument and the allowed flags (exit 2,
 * the usage on stderr). Each CLI's `main` is called in process: nothing is written or deployed
 * before the arguments are read.
 */
import * as path from "node:path";
import { allowedFlags, parseCli, UsageError } from "../../../tools/cli";
import * as azureNames from "../../../tools/azure-names";
import * as cost from "../../../tools/cost";
import * as deploy from "../../../tools/deploy";
import * as keys from "../../../tools/keys";
import * as monitoring from "../../../tools/monitoring";
import * as prices from "../../../tools/prices";
import * as previewSummary from "../../../tools/preview-summary";
import * as promote from "../../../tools/promote";
import * as schema from "../../../tools/schema";
import * as synth from "../../../tools/synth";

const ROOT = path.join(__dirname, "..", "..", "..");

describe("parseCli", () => {
  const spec = {
    options: { stack: { type: "string", default: "local" }, "dry-run": { type: "boolean" } },
  } as const;

  test("reads the flags, with their defaults and --help", () => {
    expect(parseCli([], spec).values).toEqual({ stack: "local" });
    expect(parseCli(["--stack", "dev", "--dry-run"], spec).values).toEqual({
      stack: "dev",
      "dry-run": true,
    });
    expect(parseCli(["--stack=prod", "-h"], spec).values).toEqual({ stack: "prod", help: true });
  });

  test("lists the allowed flags: a value after those that take one, help last", () => {
    expect(allowedFlags(spec.options)).toBe("--stack <value>, --dry-run, -h/--help");
    expect(allowedFlags({})).toBe("-h/--help");
  });

  test.each([
    [["--stak", "dev"], 'unknown option "--stak"; allowed: --stack <value>, --dry-run, -h/--help'],
    [["-x"], 'unknown option "-x"; allowed: --stack <value>, --dry-run, -h/--help'],
    [
      ["dev"],
      'unexpected argument "dev" (this command takes only flags); allowed: --stack <value>, --dry-run, -h/--help',
    ],
    [["--stack"], "--stack needs a value"],
    [["--stack", ""], "--stack needs a value"],
    [
      ["--stack", "--dry-run"],
      '--stack needs a value (a value that starts with "-" is written --stack=-...)',
    ],
    [["--dry-run=yes"], "--dry-run takes no value"],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseCli(argv, spec)).toThrow(new UsageError(message));
    expect(() => parseCli(argv, spec)).toThrow(UsageError);
  });

  test("positional arguments only where the spec allows them", () => {
    expect(parseCli(["up", "--stack", "dev"], { ...spec, allowPositionals: true })).toMatchObject({
      positionals: ["up"],
      values: { stack: "dev" },
    });
  });
});

/** Each CLI's main on argv, with what it wrote to stdout and stderr. */
type Run = (argv: string[]) => Promise<{ code: number; out: string; err: string }>;
const capture =
  (main: (argv: string[], out: (t: string) => void, err: (t: string) => void) => unknown): Run =>
  async (argv) => {
    let out = "";
    let err = "";
    const code = (await main(
      argv,
      (t) => void (out += t),
      (t) => void (err += t),
    )) as number;
    return { code, out, err };
  };

const noInput = () => {
  throw new Error("input read");
};
const CLIS: Array<[string, string, Run, string]> = [
  ["synth", synth.USAGE, capture(synth.main), "--stack <value>, --out <value>, -h/--help"],
  [
    "monitoring",
    monitoring.USAGE,
    capture(monitoring.main),
    "--stack <value>, --out <value>, --kubeconfig <value>, -h/--help",
  ],
  [
    "azure:names",
    azureNames.USAGE,
    capture(azureNames.main),
    "--subscription <value>, --stack <value>, --field <value>, -h/--help",
  ],
  ["schema", schema.USAGE, capture(schema.main), "-h/--help"],
  [
    "deploy",
    deploy.USAGE,
    capture(deploy.main),
    "--stack <value>, --policy-pack, --remove, --diff, --outputs-file <value>, -h/--help",
  ],
  ["keys", keys.USAGE, capture(keys.main), "--stack <value>, --key <value>, -h/--help"],
  [
    "promote",
    promote.USAGE,
    capture((argv, stdout, stderr) =>
      promote.main(argv, {
        stdout,
        stderr,
        stackOutputs: () => {
          throw new Error("outputs read");
        },
      }),
    ),
    "--from <value>, --to <value>, --outputs-file <value>, --image <value>, --dry-run, --project-dir <value>, -h/--help",
  ],
  [
    "cost",
    cost.USAGE,
    capture(cost.main),
    "--stack <value>, --job-minutes <value>, --provision-minutes <value>, --series-per-node <value>, -h/--help",
  ],
  [
    "cost:prices",
    prices.USAGE,
    capture((argv, stdout, stderr) =>
      prices.main(
        argv,
        stdout,
        stderr,
        () => Promise.reject(new Error("API called")),
        () => {
          throw new Error("table written");
        },
      ),
    ),
    "--dry-run, -h/--help",
  ],
  [
    "preview-summary",
    previewSummary.USAGE,
    capture((argv, stdout, stderr) => previewSummary.main(argv, noInput, stdout, stderr)),
    "--stack <value>, -h/--help",
  ],
];

describe.each(CLIS)("%s", (name, usage, run, allowed) => {
  test("--help and -h print the usage on stdout and exit 0", async () => {
    for (const flag of ["--help", "-h"]) {
      expect(await run([flag])).toEqual({ code: 0, out: `${usage}\n`, err: "" });
    }
  });

  test("an unknown flag: exit 2, naming it and the allowed flags, with the usage", async () => {
    expect(await run(["--bogus"])).toEqual({
      code: 2,
      out: "",
      err: `${name}: unknown option "--bogus"; allowed: ${allowed}\n${usage}\n`,
    });
  });
});

describe("the arguments of the CLIs that had their own parsing", () => {
  test("synth: stack local into synth/ unless told", () => {
    expect(synth.parseSynthArgs([])).toEqual({ stack: "local", out: path.join(ROOT, "synth") });
    expect(synth.parseSynthArgs(["--stack", "dev", "--out", "out"])).toEqual({
      stack: "dev",
      out: path.resolve("out"),
    });
    expect(() => synth.parseSynthArgs(["--stack"])).toThrow("--stack needs a value");
  });

  test("monitoring: the stack's own folder under synth/, the kubeconfig resolved", () => {
    expect(monitoring.parseMonitoringArgs(["--stack", "dev"])).toEqual({
      stack: "dev",
      out: path.join(ROOT, "synth", "monitoring-dev"),
      kubeconfig: undefined,
    });
    expect(monitoring.parseMonitoringArgs(["--out", "m", "--kubeconfig", "kc"])).toEqual({
      stack: "local",
      out: path.resolve("m"),
      kubeconfig: path.resolve("kc"),
    });
  });

  test("azure:names: the subscription from the flag or ARM_SUBSCRIPTION_ID, stack dev", () => {
    expect(azureNames.parseAzureNamesArgs(["--subscription", "s1"], {})).toEqual({
      subscription: "s1",
      stack: "dev",
      field: undefined,
    });
    expect(
      azureNames.parseAzureNamesArgs(["--stack", "prod", "--field", "registry"], {
        ARM_SUBSCRIPTION_ID: "s2",
      }),
    ).toEqual({ subscription: "s2", stack: "prod", field: "registry" });
    expect(() => azureNames.parseAzureNamesArgs([], {})).toThrow(
      new UsageError("--subscription (or ARM_SUBSCRIPTION_ID) is required"),
    );
  });

  test("deploy: a command, then flags", () => {
    expect(deploy.parseDeployArgs(["up"])).toEqual({
      command: "up",
      stack: "local",
      policyPack: false,
      remove: false,
      diff: false,
      outputsFile: undefined,
    });
    expect(
      deploy.parseDeployArgs([
        "destroy",
        "--stack",
        "dev",
        "--policy-pack",
        "--remove",
        "--diff",
        "--outputs-file",
        "o.json",
      ]),
    ).toEqual({
      command: "destroy",
      stack: "dev",
      policyPack: true,
      remove: true,
      diff: true,
      outputsFile: "o.json",
    });
    expect(deploy.parseDeployArgs(["--help"])).toBe("help");
  });

  test.each([
    [[], 'unknown command ""; allowed: preview, up, destroy, outputs'],
    [["apply"], 'unknown command "apply"; allowed: preview, up, destroy, outputs'],
    [["up", "dev"], 'unexpected argument "dev"'],
    [["up", "--stack"], "--stack needs a value"],
  ])("deploy %j is refused: %s", (argv, message) => {
    expect(() => deploy.parseDeployArgs(argv)).toThrow(new UsageError(message));
  });

  test("schema takes no arguments", async () => {
    const r = await capture(schema.main)(["README.md"]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `schema: unexpected argument "README.md" (this command takes only flags); allowed: -h/--help\n${schema.USAGE}\n`,
    );
  });
});
