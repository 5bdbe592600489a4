import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { main, type Io } from "../../../tools/promote";
import {
  applyRelease,
  PromotionError,
  releaseFromOutputs,
  unifiedDiff,
} from "../../../tools/promotion";

const FIXTURES = path.join(__dirname, "..", "..", "fixtures", "promote");
const ROOT = path.join(__dirname, "..", "..", "..");
const DEV_DIGEST =
  "mlopsplatformdev.azurecr.io/mlops-inference@sha256:3f1c0b9e5a7d4c2b8e6f0a1d9c7b5e3f2a4d6c8b0e1f3a5c7d9b2e4f6a8c0d1e";
const EARLIER_DIGEST =
  "mlopsplatformdev.azurecr.io/mlops-inference@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const PLACEHOLDER_DIGEST =
  "mlopsplatformdev.azurecr.io/mlops-inference@sha256:0000000000000000000000000000000000000000000000000000000000000000";

let dir: string;
let prodFile: string;
let before: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "promote-"));
  prodFile = path.join(dir, "Pulumi.prod.yaml");
  fs.copyFileSync(path.join(FIXTURES, "Pulumi.prod.yaml"), prodFile);
  before = fs.readFileSync(prodFile, "utf8");
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function run(
  args: string[],
  stackOutputs: Io["stackOutputs"] = () => {
    throw new Error("the pulumi CLI must not be called when --outputs-file is given");
  },
): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = main([...args, "--project-dir", dir], {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    stackOutputs,
  });
  return { code, out, err };
}

const outputs = (name: string): string => path.join(FIXTURES, `outputs-${name}.json`);

describe("promote dev -> prod from recorded outputs", () => {
  it("writes exactly mlops:image and mlops:app.models, keeping comments and every other key", () => {
    const r = run(["--from", "dev", "--to", "prod", "--outputs-file", outputs("dev")]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);

    const after = fs.readFileSync(prodFile, "utf8");
    const expected = before
      .replace(`ref: ${PLACEHOLDER_DIGEST}`, `ref: ${DEV_DIGEST}`)
      .replace('mpg-regressor: "1"', 'mpg-regressor: "2"');
    expect(expected).not.toBe(before);
    expect(after).toBe(expected);
    expect(after).toContain(
      "  # Written by `npm run promote -- --from dev --to prod`: the digest that ran in dev.\n" +
        "  mlops:image:\n" +
        "    build: false\n" +
        `    ref: ${DEV_DIGEST}\n`,
    );

    const b = parseDocument(before).toJS().config;
    const a = parseDocument(after).toJS().config;
    expect(a["mlops:image"]).toEqual({ build: false, ref: DEV_DIGEST });
    expect(a["mlops:app"].models).toEqual({ "mpg-regressor": "2", "penguin-classifier": "1" });
    expect({ ...a["mlops:app"], models: "*" }).toEqual({ ...b["mlops:app"], models: "*" });
    for (const key of Object.keys(b).filter((k) => k !== "mlops:image" && k !== "mlops:app")) {
      expect(a[key]).toEqual(b[key]);
    }
    expect(Object.keys(a)).toEqual(Object.keys(b));
  });

  it("prints the unified diff of the change", () => {
    const r = run(["--from", "dev", "--to", "prod", "--outputs-file", outputs("dev")]);
    const changed = r.out.split("\n").filter((l) => /^[-+][^-+]/.test(l));
    expect(changed).toEqual([
      `-    ref: ${PLACEHOLDER_DIGEST}`,
      `+    ref: ${DEV_DIGEST}`,
      '-      mpg-regressor: "1"',
      '+      mpg-regressor: "2"',
    ]);
    expect(r.out).toMatch(/^--- a\/Pulumi\.prod\.yaml\n\+\+\+ b\/Pulumi\.prod\.yaml\n@@ -/);
    expect(r.out).toContain(`wrote Pulumi.prod.yaml: image ${DEV_DIGEST}`);
  });

  it("--dry-run prints the same diff and leaves the file byte-identical", () => {
    const r = run(["--from", "dev", "--to", "prod", "--outputs-file", outputs("dev"), "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`+    ref: ${DEV_DIGEST}`);
    expect(r.out).toContain("dry run: Pulumi.prod.yaml not written");
    expect(fs.readFileSync(prodFile)).toEqual(Buffer.from(before));
  });

  it("is idempotent: a second run changes nothing and says so", () => {
    run(["--from", "dev", "--to", "prod", "--outputs-file", outputs("dev")]);
    const once = fs.readFileSync(prodFile, "utf8");
    const r = run(["--from", "dev", "--to", "prod", "--outputs-file", outputs("dev")]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("already pins");
    expect(fs.readFileSync(prodFile, "utf8")).toBe(once);
  });

  it("reads the outputs with the pulumi CLI when no --outputs-file is given", () => {
    const calls: string[] = [];
    const r = run(["--from", "dev", "--to", "prod"], (stack, cwd) => {
      calls.push(`${stack} ${cwd}`);
      return fs.readFileSync(outputs("dev"), "utf8");
    });
    expect(r.code).toBe(0);
    expect(calls).toEqual([`dev ${dir}`]);
    expect(fs.readFileSync(prodFile, "utf8")).toContain(`ref: ${DEV_DIGEST}`);
  });

  it("rollback: --image promotes an earlier digest and leaves the models alone", () => {
    const r = run(["--to", "prod", "--image", EARLIER_DIGEST]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(prodFile, "utf8")).toBe(
      before.replace(`ref: ${PLACEHOLDER_DIGEST}`, `ref: ${EARLIER_DIGEST}`),
    );
  });

  it("--image with --from takes the models from the source and the image from the flag", () => {
    const r = run([
      "--from",
      "dev",
      "--to",
      "prod",
      "--outputs-file",
      outputs("dev"),
      "--image",
      EARLIER_DIGEST,
    ]);
    expect(r.code).toBe(0);
    const config = parseDocument(fs.readFileSync(prodFile, "utf8")).toJS().config;
    expect(config["mlops:image"].ref).toBe(EARLIER_DIGEST);
    expect(config["mlops:app"].models["mpg-regressor"]).toBe("2");
  });
});

describe("refusals: exit 1, exact message, file untouched", () => {
  const cases: [string, string[], string][] = [
    [
      "the source stack has no outputs (never deployed)",
      ["--from", "dev", "--to", "prod", "--outputs-file", outputs("empty")],
      'promote: stack "dev" has no deployment: it has no stack outputs. Run `pulumi up --stack dev` first.\n',
    ],
    [
      "the source stack's outputs have no imageRef",
      ["--from", "dev", "--to", "prod", "--outputs-file", outputs("no-image")],
      'promote: stack "dev" has no deployment of the service: its outputs have no imageRef. Run `pulumi up --stack dev` first.\n',
    ],
    [
      "the source runs a tag, not a digest",
      ["--from", "dev", "--to", "prod", "--outputs-file", outputs("tag")],
      'promote: stack "dev" runs image "mlopsplatformdev.azurecr.io/mlops-inference:0.1.0", which is not a digest reference: only images pinned as <repo>@sha256:<64 hex> are promoted.\n',
    ],
    [
      "--image is not a digest",
      ["--to", "prod", "--image", "mlops-inference:0.1.0"],
      'promote: --image is "mlops-inference:0.1.0", which is not a digest reference: only images pinned as <repo>@sha256:<64 hex> are promoted.\n',
    ],
    [
      "the target's configuration would be violated (parseConfig's message)",
      ["--from", "dev", "--to", "prod", "--outputs-file", outputs("unknown-model")],
      'promote: the promotion would make Pulumi.prod.yaml invalid: mlops:app.models.churn-model: got "1"; unknown model; the service ships mpg-regressor, penguin-classifier\n',
    ],
    [
      "the target stack file does not exist",
      ["--from", "dev", "--to", "staging", "--outputs-file", outputs("dev")],
      "", // message checked below: it names the directory
    ],
  ];

  it.each(cases)("%s", (_name, args, message) => {
    const r = run(args);
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    if (message === "") {
      expect(r.err).toBe(`promote: no stack file Pulumi.staging.yaml in ${dir}\n`);
    } else {
      expect(r.err).toBe(message);
    }
    expect(fs.readFileSync(prodFile)).toEqual(Buffer.from(before));
  });

  it("reports the pulumi CLI's failure to read outputs", () => {
    const r = run(["--from", "dev", "--to", "prod"], () => {
      throw new PromotionError('cannot read the outputs of stack "dev": error: no stack named dev');
    });
    expect(r).toEqual({
      code: 1,
      out: "",
      err: 'promote: cannot read the outputs of stack "dev": error: no stack named dev\n',
    });
  });

  it("refuses outputs that are not JSON", () => {
    const r = run(["--from", "dev", "--to", "prod"], () => "Current stack outputs (0):");
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^promote: outputs from `pulumi stack output --stack dev` are not JSON: /,
    );
  });
});

describe("usage errors: exit 2 with the usage text", () => {
  it.each([
    [[] as string[], "promote: --to <stack> is required"],
    [
      ["--to", "prod"],
      "promote: give --from <stack>, or --image <repo@sha256:digest> to roll back",
    ],
    [["--from", "prod", "--to", "prod"], 'promote: --from and --to are both "prod"'],
    [
      ["--from", "dev", "--to", "../etc/passwd"],
      'promote: --to "../etc/passwd" is not a stack name',
    ],
    [["--to", "prod", "--outputs-file", "x.json", "--image", EARLIER_DIGEST], "needs --from"],
    [["--from", "dev", "--to", "prod", "--force"], 'promote: unknown option "--force"; allowed:'],
    [["--from"], "--from"],
  ])("%j", (args, message) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toContain(message);
    expect(r.err).toContain("Usage: npm run promote -- --from <stack> --to <stack>");
    expect(fs.readFileSync(prodFile)).toEqual(Buffer.from(before));
  });

  it("--help prints the usage and exits 0", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("--dry-run");
  });
});

describe("pure functions", () => {
  it("releaseFromOutputs refuses malformed model versions", () => {
    expect(() =>
      releaseFromOutputs("dev", { imageRef: DEV_DIGEST, modelVersions: { "mpg-regressor": 2 } }),
    ).toThrow(
      new PromotionError(
        'stack "dev" outputs modelVersions.mpg-regressor = 2; expected a version string.',
      ),
    );
    expect(() => releaseFromOutputs("dev", { imageRef: DEV_DIGEST })).toThrow(
      new PromotionError(
        'stack "dev" outputs have no modelVersions object (got nothing); expected { "<model>": "<version>" }.',
      ),
    );
  });

  it("applyRelease creates the keys when the target has none, and validates the result", () => {
    const text = [
      "config:",
      "  # the prod stack",
      "  mlops:environment: prod",
      "  mlops:target: azure",
      "  mlops:app:",
      "    replicas: 2",
      "  mlops:ingress:",
      "    tls: true",
      "",
    ].join("\n");
    const out = applyRelease(text, "Pulumi.prod.yaml", {
      imageRef: DEV_DIGEST,
      models: { "mpg-regressor": "3" },
    });
    expect(out).toBe(
      [
        "config:",
        "  # the prod stack",
        "  mlops:environment: prod",
        "  mlops:target: azure",
        "  mlops:app:",
        "    replicas: 2",
        "    models:",
        '      mpg-regressor: "3"',
        "  mlops:ingress:",
        "    tls: true",
        "  mlops:image:",
        "    build: false",
        `    ref: ${DEV_DIGEST}`,
        "",
      ].join("\n"),
    );
    // The same edit into a prod file that needs TLS but has it off is refused with parseConfig's message.
    expect(() =>
      applyRelease(text.replace("tls: true", "tls: false"), "Pulumi.prod.yaml", {
        imageRef: DEV_DIGEST,
      }),
    ).toThrow(
      new PromotionError(
        "the promotion would make Pulumi.prod.yaml invalid: mlops:ingress.tls: got false; prod serves over TLS: set it to true",
      ),
    );
  });

  it("applyRelease on the repository's own Pulumi.prod.yaml changes the image and model lines only", () => {
    const prod = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
    const out = applyRelease(prod, "Pulumi.prod.yaml", {
      imageRef: DEV_DIGEST,
      models: { "mpg-regressor": "2", "penguin-classifier": "1" },
    });
    const lines = out.split("\n");
    const removed = prod.split("\n").filter((l) => !lines.includes(l));
    expect(removed).toEqual([
      expect.stringMatching(/^ {4}ref: \S+@sha256:0{64}$/),
      '      mpg-regressor: "1"',
    ]);
    const added = lines.filter((l) => !prod.split("\n").includes(l));
    expect(added).toEqual([`    ref: ${DEV_DIGEST}`, '      mpg-regressor: "2"']);
  });

  it("applyRelease drops models the source no longer serves", () => {
    const out = applyRelease(before, "Pulumi.prod.yaml", {
      imageRef: DEV_DIGEST,
      models: { "penguin-classifier": "4" },
    });
    expect(parseDocument(out).toJS().config["mlops:app"].models).toEqual({
      "penguin-classifier": "4",
    });
  });

  it("unifiedDiff matches `diff -u` hunks", () => {
    const a = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"].join("\n") + "\n";
    const b = ["a", "B", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"].join("\n") + "\n";
    expect(unifiedDiff(a, b, "x", "y")).toBe(
      [
        "--- x",
        "+++ y",
        "@@ -1,5 +1,5 @@",
        " a",
        "-b",
        "+B",
        " c",
        " d",
        " e",
        "@@ -9,3 +9,4 @@",
        " i",
        " j",
        " k",
        "+l",
        "",
      ].join("\n"),
    );
    expect(unifiedDiff(a, a, "x", "y")).toBe("");
  });
});

describe("the repository's own Pulumi.prod.yaml", () => {
  it("accepts a promotion from the recorded dev outputs without touching other keys", () => {
    const live = fs.readFileSync(path.join(ROOT, "Pulumi.prod.yaml"), "utf8");
    fs.writeFileSync(prodFile, live);
    const r = run(["--from", "dev", "--to", "prod", "--outputs-file", outputs("dev"), "--dry-run"]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(fs.readFileSync(prodFile, "utf8")).toBe(live);
    const after = applyRelease(live, "Pulumi.prod.yaml", {
      imageRef: DEV_DIGEST,
      models: { "mpg-regressor": "2", "penguin-classifier": "1" },
    });
    const a = parseDocument(after).toJS().config;
    const b = parseDocument(live).toJS().config;
    expect(a["mlops:image"]).toMatchObject({ build: false, ref: DEV_DIGEST });
    for (const key of Object.keys(b).filter((k) => k !== "mlops:image" && k !== "mlops:app")) {
      expect(a[key]).toEqual(b[key]);
    }
  });
});
