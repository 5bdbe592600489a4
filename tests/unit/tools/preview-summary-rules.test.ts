/**
 * tools/preview-summary.ts on hand-written previews, one rule per test: what input is refused and
 * how, which change of a resource wins, the order of rows and destructive changes, and each line
 * of the Markdown.
 */
import {
  main,
  parsePreview,
  PreviewInputError,
  renderMarkdown,
  summarize,
  type Summary,
} from "../../../tools/preview-summary";

const urn = (type: string, name: string): string =>
  `urn:pulumi:dev::mlops-platform::${type}::${name}`;
const step = (op: string, type: string, name: string, extra: Record<string, unknown> = {}) => ({
  op,
  urn: urn(type, name),
  newState: { type },
  ...extra,
});
const preview = (json: unknown) => parsePreview(JSON.stringify(json));

function run(argv: string[], input: () => string): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = main(
    argv,
    input,
    (t) => (out += t),
    (t) => (err += t),
  );
  return { code, out, err };
}

describe("parsePreview refuses what is not a preview, naming the part", () => {
  it.each([
    [
      "blank input",
      " \n\t",
      "no input: pipe the output of `pulumi preview --json` into this command",
    ],
    ["a step that is null", { steps: [null] }, "steps[0] is null; expected an object"],
    [
      "a step that is an array",
      { steps: [step("create", "t:m:R", "a"), []] },
      "steps[1] is an array; expected an object",
    ],
    [
      "a step without urn",
      { steps: [{ op: "create" }] },
      "steps[0].urn is missing; expected a Pulumi URN",
    ],
    [
      "a step whose urn is not a URN",
      { steps: [{ op: "create", urn: "dev::a" }] },
      'steps[0].urn is string "dev::a"; expected a Pulumi URN',
    ],
    [
      "diagnostics that are an object",
      { diagnostics: {} },
      '"diagnostics" is an object; expected an array',
    ],
    [
      "a changeSummary that is an array",
      { changeSummary: [] },
      '"changeSummary" is an array; expected an object',
    ],
    [
      "a changeSummary that is a number",
      { changeSummary: 3 },
      '"changeSummary" is number 3; expected an object',
    ],
    [
      "a negative count",
      { changeSummary: { same: -1 } },
      "changeSummary.same is number -1; expected a count",
    ],
    [
      "a fractional count",
      { changeSummary: { same: 1.5 } },
      "changeSummary.same is number 1.5; expected a count",
    ],
    [
      "a count that is a string",
      { changeSummary: { same: "2" } },
      'changeSummary.same is string "2"; expected a count',
    ],
  ])("%s", (_what, input, message) => {
    const text = typeof input === "string" ? input : JSON.stringify(input);
    expect(() => parsePreview(text)).toThrow(new PreviewInputError(message));
  });

  it("is an Error named PreviewInputError", () => {
    const err = new PreviewInputError("why");
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe("PreviewInputError");
  });
});

describe("parsePreview accepts each part alone", () => {
  it("a preview with diagnostics only", () => {
    expect(preview({ diagnostics: [{ severity: "error", message: "boom" }] })).toEqual({
      steps: [],
      diagnostics: [{ severity: "error", message: "boom" }],
      changeSummary: {},
    });
  });

  it("a count of 0", () => {
    expect(preview({ changeSummary: { same: 0 } }).changeSummary).toEqual({ same: 0 });
  });

  it("diagnostics without severity or message, skipping entries that are not objects", () => {
    expect(
      preview({ diagnostics: [null, "x", { message: 3 }, { severity: "warning" }] }).diagnostics,
    ).toEqual([
      { severity: "info", message: "" },
      { severity: "warning", message: "" },
    ]);
  });

  it("only the string replace reasons, and none when there are none", () => {
    const p = preview({
      steps: [
        step("replace", "t:m:R", "a", { replaceReasons: ["spec", 3, null, "location"] }),
        step("replace", "t:m:R", "b", { replaceReasons: "spec" }),
        step("replace", "t:m:R", "c"),
      ],
    });
    expect(p.steps.map((s) => s.replaceReasons)).toEqual([["spec", "location"], [], []]);
  });

  it("the type of a step from its new state, else its old state, else its URN", () => {
    const p = preview({
      steps: [
        {
          op: "update",
          urn: urn("a:b:New", "x"),
          newState: { type: "a:b:New" },
          oldState: { type: "a:b:Old" },
        },
        {
          op: "delete",
          urn: urn("a:b:Old", "y"),
          newState: { type: "" },
          oldState: { type: "a:b:Old" },
        },
        {
          op: "delete",
          urn: urn("a:b:Old", "z"),
          newState: { type: 3 },
          oldState: { type: "a:b:Old" },
        },
        {
          op: "create",
          urn: urn("mlops:k8s:InferenceApp$kubernetes:core/v1:Service", "svc"),
          newState: {},
        },
        { op: "create", urn: urn("a:b:C", "w"), newState: null, oldState: [] },
      ],
    });
    expect(p.steps.map((s) => s.type)).toEqual([
      "a:b:New",
      "a:b:Old",
      "a:b:Old",
      "kubernetes:core/v1:Service",
      "a:b:C",
    ]);
  });
});

describe("summarize", () => {
  it("counts a resource once under its strongest change, whatever the order of its steps", () => {
    const kinds = (ops: string[]) =>
      summarize(preview({ steps: ops.map((op) => step(op, "t:m:R", "a")) })).totals;
    expect(kinds(["update", "replace"])).toEqual({ replace: 1, delete: 0, create: 0, update: 0 });
    expect(kinds(["replace", "update"])).toEqual({ replace: 1, delete: 0, create: 0, update: 0 });
    expect(kinds(["create", "delete"])).toEqual({ replace: 0, delete: 1, create: 0, update: 0 });
    expect(kinds(["update", "create"])).toEqual({ replace: 0, delete: 0, create: 1, update: 0 });
    expect(kinds(["update", "update"])).toEqual({ replace: 0, delete: 0, create: 0, update: 1 });
  });

  it("lists replaced and deleted resources by kind, type, name, with their reasons merged and sorted", () => {
    const s = summarize(
      preview({
        steps: [
          step("delete", "b:m:T", "z"),
          step("update", "a:m:T", "u"),
          step("create", "a:m:T", "c"),
          step("delete", "a:m:T", "y"),
          step("delete", "a:m:T", "x"),
          step("create-replacement", "c:m:T", "r", { replaceReasons: ["zone"] }),
          step("replace", "c:m:T", "r", { replaceReasons: ["size", "zone"] }),
          step("replace", "b:m:T", "with::colons"),
        ],
      }),
    );
    expect(s.destructive).toEqual([
      { kind: "replace", type: "b:m:T", name: "with::colons", reasons: [] },
      { kind: "replace", type: "c:m:T", name: "r", reasons: ["size", "zone"] },
      { kind: "delete", type: "a:m:T", name: "x", reasons: [] },
      { kind: "delete", type: "a:m:T", name: "y", reasons: [] },
      { kind: "delete", type: "b:m:T", name: "z", reasons: [] },
    ]);
  });

  it("names a resource by its whole URN when the URN has no name part", () => {
    const s = summarize({
      steps: [{ op: "delete", urn: "urn:pulumi:dev", type: "t:m:R", replaceReasons: [] }],
      diagnostics: [],
      changeSummary: {},
    });
    expect(s.destructive.map((d) => d.name)).toEqual(["urn:pulumi:dev"]);
  });

  it("orders rows by replaces, then deletes (most first), then type name", () => {
    const s = summarize(
      preview({
        steps: [
          step("create", "a:m:Create", "1"),
          step("delete", "b:m:OneDelete", "1"),
          step("update", "c:m:Update", "1"),
          step("delete", "d:m:TwoDeletes", "1"),
          step("delete", "d:m:TwoDeletes", "2"),
          step("replace", "e:m:OneReplace", "1"),
          step("replace", "f:m:ReplaceAndDeletes", "1"),
          step("delete", "f:m:ReplaceAndDeletes", "2"),
          step("delete", "f:m:ReplaceAndDeletes", "3"),
          step("create", "0:m:Create", "1"),
        ],
      }),
    );
    expect(s.rows.map((r) => r.type)).toEqual([
      "f:m:ReplaceAndDeletes",
      "e:m:OneReplace",
      "d:m:TwoDeletes",
      "b:m:OneDelete",
      "0:m:Create",
      "a:m:Create",
      "c:m:Update",
    ]);
    expect(s.rows[0].counts).toEqual({ replace: 1, delete: 2, create: 0, update: 0 });
  });

  it("counts warnings and keeps errors trimmed; other severities count as neither", () => {
    const s = summarize(
      preview({
        diagnostics: [
          { severity: "error", message: "  boom \n" },
          { severity: "warning", message: "w" },
          { severity: "info", message: "i" },
          { severity: "info#err", message: "x" },
        ],
      }),
    );
    expect(s.errors).toEqual(["boom"]);
    expect(s.warnings).toBe(1);
  });
});

describe("renderMarkdown", () => {
  const empty: Summary = {
    rows: [],
    totals: { replace: 0, delete: 0, create: 0, update: 0 },
    destructive: [],
    unknownOps: {},
    errors: [],
    warnings: 0,
  };

  it("titles the summary with the stack when one is given, and lists no unchanged count it was not told", () => {
    expect(renderMarkdown(empty)).toBe(
      "### Pulumi preview\n\nNo resource changes.\n\n**Totals:** 0 to replace, 0 to delete, 0 to create, 0 to update.\n",
    );
    expect(renderMarkdown(empty, "prod").split("\n")[0]).toBe("### Pulumi preview: `prod`");
  });

  it("shows the table as soon as any kind has a change", () => {
    for (const kind of ["replace", "delete", "create", "update"] as const) {
      const md = renderMarkdown({
        ...empty,
        rows: [{ type: "t:m:R", counts: { ...empty.totals, [kind]: 1 } }],
        totals: { ...empty.totals, [kind]: 1 },
      });
      expect(md).toContain("| | **Total** |");
      expect(md).not.toContain("No resource changes.");
    }
  });

  it("writes reasons, other operations and diagnostics as lines of their own", () => {
    const md = renderMarkdown({
      ...empty,
      rows: [{ type: "t:m:R", counts: { replace: 1, delete: 1, create: 0, update: 0 } }],
      totals: { replace: 1, delete: 1, create: 0, update: 0 },
      destructive: [
        { kind: "replace", type: "t:m:R", name: "a", reasons: ["size", "zone"] },
        { kind: "delete", type: "t:m:R", name: "b", reasons: [] },
      ],
      unknownOps: { teleport: 2, warp: 1 },
      warnings: 1,
    });
    expect(md.split("\n").slice(6)).toEqual([
      "",
      "**Totals:** 1 to replace, 1 to delete, 0 to create, 0 to update.",
      "",
      "⚠️ **Destructive changes: review before merging.**",
      "- replace `a` (`t:m:R`) (because of `size`, `zone`)",
      "- delete `b` (`t:m:R`)",
      "",
      "Other operations: `teleport` × 2, `warp` × 1.",
      "",
      "Diagnostics: 0 error(s), 1 warning(s).",
      "",
    ]);
  });

  it("lists the first 5 errors, each on one line of at most 300 characters, escaped", () => {
    const long = "x".repeat(301);
    const exact = "y".repeat(300);
    const md = renderMarkdown({
      ...empty,
      errors: ["a\n  b\tc", "1 < 2 && 3 > 2", long, exact, "fifth", "sixth"],
    });
    expect(md.split("\n").slice(2)).toEqual([
      "⚠️ The preview failed before it could list the changes: see the diagnostics below.",
      "",
      "**Totals:** 0 to replace, 0 to delete, 0 to create, 0 to update.",
      "",
      "Diagnostics: 6 error(s), 0 warning(s).",
      "- ⚠️ a b c",
      "- ⚠️ 1 &lt; 2 &amp;&amp; 3 &gt; 2",
      `- ⚠️ ${"x".repeat(297)}...`,
      `- ⚠️ ${exact}`,
      "- ⚠️ fifth",
      "",
    ]);
  });
});

describe("main", () => {
  const input = JSON.stringify({ steps: [], changeSummary: { same: 1 } });

  it.each([
    ["an unknown flag", ["--stak", "dev"]],
    ["a positional argument", ["dev"]],
    ["a flag without its value", ["--stack"]],
  ])("exits 2 with the usage on %s, reading no input", (_what, argv) => {
    const r = run(argv, () => {
      throw new Error("input read");
    });
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(
      /^preview-summary: .+\nUsage: npm run preview:summary \[-- --stack <name>\] < preview\.json\n$/,
    );
  });

  it("passes --stack to the title", () => {
    const r = run(["--stack", "dev"], () => input);
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toBe("### Pulumi preview: `dev`");
  });

  it("lets an error that is not about the input propagate", () => {
    expect(() =>
      run([], () => {
        throw new Error("stdin closed");
      }),
    ).toThrow(new Error("stdin closed"));
  });
});
