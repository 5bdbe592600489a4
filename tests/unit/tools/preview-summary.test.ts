import * as fs from "node:fs";
import * as path from "node:path";
import {
  main,
  parsePreview,
  PreviewInputError,
  renderMarkdown,
  summarize,
} from "../../../tools/preview-summary";
import { TEST_PRICE_TABLE } from "../../support/prices";

const FIXTURES = path.join(__dirname, "..", "..", "fixtures", "preview");
const TABLE = TEST_PRICE_TABLE;
const fixture = (name: string): string => fs.readFileSync(path.join(FIXTURES, name), "utf8");

function run(argv: string[], input: string): { code: number; out: string; err: string } {
  let out = "";
  let err = "";
  const code = main(
    argv,
    () => input,
    (t) => (out += t),
    (t) => (err += t),
  );
  return { code, out, err };
}

describe("summarize: recorded `pulumi preview --json` of dev with a replace and a delete", () => {
  const summary = summarize(parsePreview(fixture("dev-replace-delete.json")), TABLE);

  it("counts each changed resource once, per type and kind", () => {
    expect(summary.totals).toEqual({ replace: 1, delete: 1, create: 2, update: 1 });
    expect(summary.unchanged).toBe(23);
    expect(summary.rows).toEqual([
      {
        type: "azure-native:containerservice:AgentPool",
        counts: { replace: 1, delete: 0, create: 0, update: 0 },
      },
      {
        type: "kubernetes:core/v1:ConfigMap",
        counts: { replace: 0, delete: 1, create: 0, update: 0 },
      },
      {
        type: "kubernetes:apps/v1:Deployment",
        counts: { replace: 0, delete: 0, create: 0, update: 1 },
      },
      {
        type: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
        counts: { replace: 0, delete: 0, create: 1, update: 0 },
      },
      {
        type: "kubernetes:policy/v1:PodDisruptionBudget",
        counts: { replace: 0, delete: 0, create: 1, update: 0 },
      },
    ]);
  });

  it("takes a deleted resource's type from its old state (it has no new state)", () => {
    expect(summary.destructive).toEqual([
      {
        kind: "replace",
        type: "azure-native:containerservice:AgentPool",
        name: "platform-training",
        reasons: ["vmSize"],
      },
      { kind: "delete", type: "kubernetes:core/v1:ConfigMap", name: "model-pins", reasons: [] },
    ]);
  });

  it("renders replaces and deletes first, flagged, then the totals", () => {
    expect(renderMarkdown(summary, "dev")).toBe(
      [
        "### Pulumi preview: `dev`",
        "",
        "| | Resource type | Replace | Delete | Create | Update |",
        "|---|---|---:|---:|---:|---:|",
        "| ⚠️ | `azure-native:containerservice:AgentPool` | 1 | 0 | 0 | 0 |",
        "| ⚠️ | `kubernetes:core/v1:ConfigMap` | 0 | 1 | 0 | 0 |",
        "|  | `kubernetes:apps/v1:Deployment` | 0 | 0 | 0 | 1 |",
        "|  | `kubernetes:networking.k8s.io/v1:NetworkPolicy` | 0 | 0 | 1 | 0 |",
        "|  | `kubernetes:policy/v1:PodDisruptionBudget` | 0 | 0 | 1 | 0 |",
        "| | **Total** | **1** | **1** | **2** | **1** |",
        "",
        "**Totals:** 1 to replace, 1 to delete, 2 to create, 1 to update, 23 unchanged.",
        "",
        "⚠️ **Destructive changes: review before merging.**",
        "- replace `platform-training` (`azure-native:containerservice:AgentPool`) (because of `vmSize`)",
        "- delete `model-pins` (`kubernetes:core/v1:ConfigMap`)",
        "",
        "#### Monthly cost of the node pools (USD, westeurope, price table of 2026-01-02)",
        "",
        "| Pool | VM size | Nodes (min–max) | At rest | At maximum (all nodes busy) |",
        "|---|---|---|---:|---:|",
        "| `platform-training` | Standard_D8s_v5 → Standard_D16s_v5 | 0–2 | $0.00 → $0.00 (**±$0.00**) | $730.00 → $1,460.00 (**+$730.00**) |",
        "",
      ].join("\n"),
    );
  });

  it("agrees with the engine's own changeSummary", () => {
    const preview = parsePreview(fixture("dev-replace-delete.json"));
    for (const kind of ["create", "update", "replace", "delete"] as const) {
      expect(summary.totals[kind]).toBe(preview.changeSummary[kind] ?? 0);
    }
  });
});

describe("summarize: other recorded previews", () => {
  it("folds create-replacement / replace / delete-replaced of one URN into one replacement", () => {
    const summary = summarize(parsePreview(fixture("prod-replacement-steps.json")));
    expect(summary.totals).toEqual({ replace: 1, delete: 0, create: 0, update: 0 });
    expect(summary.destructive).toHaveLength(1);
    expect(summary.unchanged).toBe(27);
  });

  it("says so when nothing changes (the root stack's `same` step is not a change)", () => {
    const md = renderMarkdown(summarize(parsePreview(fixture("prod-no-changes.json"))), "prod");
    expect(md).toBe(
      [
        "### Pulumi preview: `prod`",
        "",
        "No resource changes.",
        "",
        "**Totals:** 0 to replace, 0 to delete, 0 to create, 0 to update, 28 unchanged.",
        "",
      ].join("\n"),
    );
  });

  it("reports a failed preview's errors, escaped for Markdown, instead of 'no changes'", () => {
    const md = renderMarkdown(summarize(parsePreview(fixture("prod-failed.json"))), "prod");
    expect(md).not.toContain("No resource changes.");
    expect(md).toContain("⚠️ The preview failed before it could list the changes");
    expect(md).toContain("Diagnostics: 1 error(s), 1 warning(s).");
    expect(md).toContain(
      '- ⚠️ Error: mlops:image.ref: got "mlops-inference:0.1.0"; prod deploys by digest: use &lt;repo&gt;@sha256:&lt;64 hex&gt;',
    );
  });

  it("derives the type from the URN when a step carries no state, and reports unknown ops", () => {
    const urn = "urn:pulumi:dev::mlops-platform::mlops:k8s:App$kubernetes:core/v1:Service::svc";
    const summary = summarize(
      parsePreview(
        JSON.stringify({
          steps: [
            { op: "update", urn },
            { op: "teleport", urn },
          ],
        }),
      ),
    );
    expect(summary.rows).toEqual([
      {
        type: "kubernetes:core/v1:Service",
        counts: { replace: 0, delete: 0, create: 0, update: 1 },
      },
    ]);
    expect(summary.unknownOps).toEqual({ teleport: 1 });
    expect(renderMarkdown(summary)).toContain("Other operations: `teleport` × 1.");
  });
});

describe("parsePreview rejects what is not a preview", () => {
  it.each([
    ["", "no input: pipe the output of `pulumi preview --json` into this command"],
    ["[1, 2]", "input is an array, not an object; expected the output of `pulumi preview --json`"],
    [
      '{"name": "x"}',
      "input has none of steps, changeSummary, diagnostics: it is not the output of `pulumi preview --json`",
    ],
    ['{"steps": {}}', '"steps" is an object; expected an array'],
    ['{"steps": [{"urn": "urn:pulumi:a::b::c::d"}]}', "steps[0].op is missing; expected a string"],
    [
      '{"steps": [{"op": "create", "urn": "x"}]}',
      'steps[0].urn is string "x"; expected a Pulumi URN',
    ],
    ['{"changeSummary": {"create": "2"}}', 'changeSummary.create is string "2"; expected a count'],
  ])("%j", (input, message) => {
    expect(() => parsePreview(input)).toThrow(new PreviewInputError(message));
  });

  it("names the JSON syntax error", () => {
    expect(() => parsePreview("Previewing update (dev):")).toThrow(/^input is not JSON \(/);
  });
});

describe("CLI", () => {
  it("prints the Markdown summary and exits 0", () => {
    const r = run(["--stack", "dev"], fixture("dev-replace-delete.json"));
    expect(r).toMatchObject({ code: 0, err: "" });
    expect(r.out.startsWith("### Pulumi preview: `dev`\n")).toBe(true);
  });

  it("exits 1 with a clear message on bad input, and prints nothing on stdout", () => {
    expect(run([], "not json")).toEqual({
      code: 1,
      out: "",
      err: expect.stringMatching(/^preview-summary: input is not JSON \(/),
    });
    expect(run([], '{"steps": 3}')).toEqual({
      code: 1,
      out: "",
      err: 'preview-summary: "steps" is number 3; expected an array\n',
    });
  });

  it("exits 2 on an unknown flag", () => {
    const r = run(["--stak", "dev"], "{}");
    expect(r.code).toBe(2);
    expect(r.err).toContain("Usage: npm run preview:summary");
  });
});
