/**
 * The pure functions of tools/promotion.ts, input by input: what each malformed source output is
 * refused with, what an edit keeps of the target file, and the diff as a patch that turns the old
 * text into the new one with the fewest changed lines.
 */
import * as fc from "fast-check";
import { parseDocument } from "yaml";
import {
  applyRelease,
  mlopsValues,
  PromotionError,
  releaseFromOutputs,
  requireDigest,
  unifiedDiff,
  validateStackFile,
} from "../../../tools/promotion";

const DIGEST = `registry.example/mlops-inference@sha256:${"ab".repeat(32)}`;

/** A prod stack file that parseConfig accepts once it has an image. */
const PROD = [
  "config:",
  "  mlops:environment: prod",
  "  mlops:target: azure",
  "  mlops:ingress:",
  "    tls: true",
  "",
].join("\n");

describe("releaseFromOutputs", () => {
  const noDeployment =
    'stack "dev" has no deployment: it has no stack outputs. Run `pulumi up --stack dev` first.';
  const noImage =
    'stack "dev" has no deployment of the service: its outputs have no imageRef. Run `pulumi up --stack dev` first.';

  it.each([
    ["null", null],
    ["a string", "imageRef"],
    ["a number", 3],
    ["an array", [{ imageRef: DIGEST }]],
    ["an empty object", {}],
  ])("refuses outputs that are %s as a stack never deployed", (_what, outputs) => {
    expect(() => releaseFromOutputs("dev", outputs)).toThrow(new PromotionError(noDeployment));
  });

  it.each([
    ["absent", { modelVersions: {} }],
    ["null", { imageRef: null, modelVersions: {} }],
    ["empty", { imageRef: "", modelVersions: {} }],
  ])("refuses an imageRef that is %s as a stack without the service", (_what, outputs) => {
    expect(() => releaseFromOutputs("dev", outputs)).toThrow(new PromotionError(noImage));
  });

  it("refuses an imageRef that is not a string, showing the value", () => {
    expect(() => releaseFromOutputs("dev", { imageRef: 42, modelVersions: {} })).toThrow(
      new PromotionError(
        'stack "dev" runs image 42, which is not a digest reference: only images pinned as <repo>@sha256:<64 hex> are promoted.',
      ),
    );
  });

  it.each([
    ["null", null, "null"],
    ["an array", ["1"], '["1"]'],
    ["a string", "1", '"1"'],
  ])("refuses modelVersions that are %s, showing the value", (_what, modelVersions, shown) => {
    expect(() => releaseFromOutputs("dev", { imageRef: DIGEST, modelVersions })).toThrow(
      new PromotionError(
        `stack "dev" outputs have no modelVersions object (got ${shown}); expected { "<model>": "<version>" }.`,
      ),
    );
  });

  it("refuses an empty version string", () => {
    expect(() =>
      releaseFromOutputs("dev", { imageRef: DIGEST, modelVersions: { "mpg-regressor": "" } }),
    ).toThrow(
      new PromotionError(
        'stack "dev" outputs modelVersions.mpg-regressor = ""; expected a version string.',
      ),
    );
  });

  it("returns the digest and exactly the model versions of the outputs", () => {
    expect(
      releaseFromOutputs("dev", {
        imageRef: DIGEST,
        modelVersions: { "mpg-regressor": "2", "penguin-classifier": "1" },
        serviceUrl: "http://example",
      }),
    ).toEqual({ imageRef: DIGEST, models: { "mpg-regressor": "2", "penguin-classifier": "1" } });
  });
});

describe("requireDigest and PromotionError", () => {
  it("returns a digest reference unchanged and refuses anything else, naming it", () => {
    expect(requireDigest(DIGEST, "--image is")).toBe(DIGEST);
    expect(() => requireDigest(undefined, "--image is")).toThrow(
      new PromotionError(
        "--image is nothing, which is not a digest reference: only images pinned as <repo>@sha256:<64 hex> are promoted.",
      ),
    );
    expect(() => requireDigest(`${DIGEST}0`, "--image is")).toThrow(/not a digest reference/);
  });

  it("is an Error named PromotionError", () => {
    const err = new PromotionError("why");
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("PromotionError");
    expect(String(err)).toBe("PromotionError: why");
  });
});

describe("applyRelease", () => {
  it("refuses a file that is not YAML, with the parser's first error", () => {
    expect(() => applyRelease("config: [\n", "Pulumi.prod.yaml", { imageRef: DIGEST })).toThrow(
      /^Pulumi\.prod\.yaml is not valid YAML: \S/,
    );
  });

  it.each([
    ["empty", ""],
    ["without config", "name: mlops-platform\n"],
    ["with a config list", "config:\n  - a\n"],
  ])("refuses a stack file %s", (_what, text) => {
    expect(() => applyRelease(text, "Pulumi.prod.yaml", { imageRef: DIGEST })).toThrow(
      new PromotionError('Pulumi.prod.yaml has no "config:" map; is it a Pulumi stack file?'),
    );
  });

  it("sets build and ref of an existing mlops:image and keeps its other keys", () => {
    const text = PROD + "  mlops:image:\n    repository: mlops-inference\n    build: true\n";
    const out = parseDocument(applyRelease(text, "Pulumi.prod.yaml", { imageRef: DIGEST })).toJS();
    expect(out.config["mlops:image"]).toEqual({
      repository: "mlops-inference",
      build: false,
      ref: DIGEST,
    });
  });

  it("adds mlops:app with the models when the target has no mlops:app", () => {
    const out = applyRelease(PROD, "Pulumi.prod.yaml", {
      imageRef: DIGEST,
      models: { "mpg-regressor": "2" },
    });
    expect(parseDocument(out).toJS().config["mlops:app"]).toEqual({
      models: { "mpg-regressor": "2" },
    });
  });

  it("leaves mlops:app alone when the release names no models", () => {
    const text = PROD + '  mlops:app:\n    models:\n      mpg-regressor: "1"\n';
    const out = applyRelease(text, "Pulumi.prod.yaml", { imageRef: DIGEST });
    expect(parseDocument(out).toJS().config["mlops:app"]).toEqual({
      models: { "mpg-regressor": "1" },
    });
  });

  it("edits the existing models map in place: its order and comments stay", () => {
    const text =
      PROD +
      [
        "  mlops:app:",
        "    models:",
        '      penguin-classifier: "1" # the classifier',
        '      mpg-regressor: "1"',
        "",
      ].join("\n");
    const out = applyRelease(text, "Pulumi.prod.yaml", {
      imageRef: DIGEST,
      models: { "mpg-regressor": "2", "penguin-classifier": "1" },
    });
    expect(out).toContain(
      [
        "    models:",
        '      penguin-classifier: "1" # the classifier',
        '      mpg-regressor: "2"',
      ].join("\n"),
    );
  });
});

describe("mlopsValues and validateStackFile", () => {
  it("takes the mlops: keys without their namespace and nothing else", () => {
    const doc = parseDocument(
      "config:\n  aws:region: x\n  mlops:environment: dev\n  mlops:app:\n    replicas: 2\nmlops:owner: y\n",
    );
    expect(mlopsValues(doc)).toEqual({ environment: "dev", app: { replicas: 2 } });
  });

  it.each([
    ["an empty file", ""],
    ["a scalar", "just text"],
    ["a list", "- config\n"],
    ["no config", "name: x\n"],
    ["a null config", "config:\n"],
  ])("is empty for %s", (_what, text) => {
    expect(mlopsValues(parseDocument(text))).toEqual({});
  });

  it("refuses an invalid configuration with parseConfig's message and accepts a valid one", () => {
    expect(() => validateStackFile(PROD, "Pulumi.prod.yaml")).toThrow(
      /^the promotion would make Pulumi\.prod\.yaml invalid: mlops:image\.ref: /,
    );
    expect(() =>
      validateStackFile(PROD + `  mlops:image:\n    ref: ${DIGEST}\n`, "Pulumi.prod.yaml"),
    ).not.toThrow();
  });
});

/** Applies a unified diff to `before`'s lines the way `patch` does, checking every hunk. */
function applyPatch(before: string[], diff: string): string[] {
  const lines = diff.split("\n");
  expect(lines[lines.length - 1]).toBe("");
  lines.pop();
  expect(lines.slice(0, 2)).toEqual(["--- old", "+++ new"]);
  const out: string[] = [];
  let taken = 0; // lines of `before` consumed so far
  let k = 2;
  while (k < lines.length) {
    const header = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$/.exec(lines[k]);
    expect(header).not.toBeNull();
    const [aStart, aCount, bStart, bCount] = [1, 2, 3, 4].map((g) =>
      header![g] === undefined ? 1 : Number(header![g]),
    );
    k++;
    const body: string[] = [];
    while (k < lines.length && !lines[k].startsWith("@@")) body.push(lines[k++]);
    expect(body.filter((l) => !l.startsWith("+"))).toHaveLength(aCount);
    expect(body.filter((l) => !l.startsWith("-"))).toHaveLength(bCount);
    // 1-based starts; a side with no line names the line before the hunk.
    const from = aCount === 0 ? aStart : aStart - 1;
    expect(from).toBeGreaterThanOrEqual(taken);
    expect(bCount === 0 ? bStart : bStart - 1).toBe(out.length + (from - taken));
    out.push(...before.slice(taken, from));
    taken = from;
    for (const l of body) {
      const [kind, text] = [l[0], l.slice(1)];
      if (kind === "+") out.push(text);
      else {
        expect(before[taken]).toBe(text);
        taken++;
        if (kind === " ") out.push(text);
        else expect(kind).toBe("-");
      }
    }
  }
  out.push(...before.slice(taken));
  return out;
}

function lcsLength(a: string[], b: string[]): number {
  let row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    const next = [0];
    for (let j = 0; j < b.length; j++) {
      next.push(x === b[j] ? row[j] + 1 : Math.max(row[j + 1], next[j]));
    }
    row = next;
  }
  return row[b.length];
}

const text = (lines: string[]): string => lines.map((l) => `${l}\n`).join("");

describe("unifiedDiff", () => {
  const lines = fc.array(fc.constantFrom("a", "b", "c", "d", "x: 1", ""), { maxLength: 24 });

  it("is a patch from the old text to the new one that changes only lines outside a longest common subsequence", () => {
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const diff = unifiedDiff(text(a), text(b), "old", "new");
        if (text(a) === text(b)) {
          expect(diff).toBe("");
          return;
        }
        expect(applyPatch(a, diff)).toEqual(b);
        const body = diff.split("\n").filter((l) => /^[-+ ]/.test(l) && !/^(---|\+\+\+) /.test(l));
        const common = lcsLength(a, b);
        expect(body.filter((l) => l.startsWith("-"))).toHaveLength(a.length - common);
        expect(body.filter((l) => l.startsWith("+"))).toHaveLength(b.length - common);
      }),
      { numRuns: 300, seed: 17 },
    );
  });

  it("shows at most 3 lines of context around a change and joins changes at most 6 lines apart", () => {
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const diff = unifiedDiff(text(a), text(b), "old", "new");
        const hunks = diff.split(/^@@.*$/m).slice(1);
        for (const hunk of hunks) {
          const kinds = hunk
            .split("\n")
            .slice(1, -1)
            .map((l) => l[0]);
          const changed = kinds.map((k, i) => (k === " " ? -1 : i)).filter((i) => i >= 0);
          expect(changed.length).toBeGreaterThan(0);
          expect(changed[0]).toBeLessThanOrEqual(3);
          expect(kinds.length - 1 - changed[changed.length - 1]).toBeLessThanOrEqual(3);
          for (let i = 1; i < changed.length; i++) {
            expect(changed[i] - changed[i - 1] - 1).toBeLessThanOrEqual(6);
          }
        }
      }),
      { numRuns: 300, seed: 18 },
    );
  });

  const nine = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

  it("keeps two changes 6 unchanged lines apart in one hunk, as diff -u does", () => {
    const b = [...nine.slice(0, 9)];
    b[1] = "B";
    b[8] = "I";
    expect(unifiedDiff(text(nine.slice(0, 9)), text(b), "old", "new")).toBe(
      [
        "--- old",
        "+++ new",
        "@@ -1,9 +1,9 @@",
        " a",
        "-b",
        "+B",
        " c",
        " d",
        " e",
        " f",
        " g",
        " h",
        "-i",
        "+I",
        "",
      ].join("\n"),
    );
  });

  it("splits two changes 7 unchanged lines apart into two hunks, as diff -u does", () => {
    const b = [...nine];
    b[1] = "B";
    b[9] = "J";
    expect(unifiedDiff(text(nine), text(b), "old", "new")).toBe(
      [
        "--- old",
        "+++ new",
        "@@ -1,5 +1,5 @@",
        " a",
        "-b",
        "+B",
        " c",
        " d",
        " e",
        "@@ -7,4 +7,4 @@",
        " g",
        " h",
        " i",
        "-j",
        "+J",
        "",
      ].join("\n"),
    );
  });

  it("writes a one-line side without a count and an empty side as <line>,0, as diff -u does", () => {
    expect(unifiedDiff("x\n", "", "old", "new")).toBe("--- old\n+++ new\n@@ -1 +0,0 @@\n-x\n");
    expect(unifiedDiff("", "x\n", "old", "new")).toBe("--- old\n+++ new\n@@ -0,0 +1 @@\n+x\n");
  });

  it("reads a text without a final newline line by line", () => {
    expect(unifiedDiff("a\nb", "a\nc", "old", "new")).toBe(
      "--- old\n+++ new\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n",
    );
  });
});
