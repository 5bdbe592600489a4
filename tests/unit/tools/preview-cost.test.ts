/**
 * The node pools' cost change in the PR summary (tools/preview-cost.ts through
 * tools/preview-summary.ts), on hand-written previews and a table of round prices.
 */
import { PRICE_TABLE } from "../../../infra/azure/prices";
import { poolCostChanges, signedMoney } from "../../../tools/preview-cost";
import { main, parsePreview, renderMarkdown, summarize } from "../../../tools/preview-summary";
import { TEST_PRICE_TABLE } from "../../support/prices";

const TABLE = TEST_PRICE_TABLE;

const POOL = "azure-native:containerservice:AgentPool";
const CLUSTER = "azure-native:containerservice:ManagedCluster";
const urn = (type: string, name: string) =>
  `urn:pulumi:dev::mlops-platform::mlops:azure:Cluster$${type}::${name}`;
const training = (maxCount: number, vmSize = "Standard_D8s_v5") => ({
  agentPoolName: "training",
  vmSize,
  minCount: 0,
  maxCount,
  enableAutoScaling: true,
});
const cluster = (minCount: number, maxCount: number, extra: Record<string, unknown> = {}) => ({
  location: "westeurope",
  agentPoolProfiles: [{ name: "system", vmSize: "Standard_D4s_v5", minCount, maxCount }],
  ...extra,
});
const step = (op: string, type: string, name: string, before?: object, after?: object) => ({
  op,
  urn: urn(type, name),
  ...(before ? { oldState: { type, inputs: before } } : {}),
  ...(after ? { newState: { type, inputs: after } } : {}),
});
const summary = (steps: object[], config: object = { "azure-native:location": "westeurope" }) =>
  summarize(parsePreview(JSON.stringify({ config, steps })), TABLE);
const costLines = (steps: object[], config?: object) => {
  const md = renderMarkdown(summary(steps, config));
  const at = md.indexOf("#### Monthly cost");
  return at < 0 ? [] : md.slice(at).trimEnd().split("\n");
};

describe("a change of the training pool's maximum", () => {
  it("raising it from 2 to 4 costs nothing at rest and 2 more busy nodes at maximum", () => {
    const { cost } = summary([
      step("update", POOL, "mlops-cluster-training-pool", training(2), training(4)),
    ]);
    expect(cost!.changes).toEqual([
      {
        pool: "mlops-cluster-training-pool/training",
        before: { vmSize: "Standard_D8s_v5", minCount: 0, maxCount: 2, atRest: 0, atMaximum: 730 },
        after: { vmSize: "Standard_D8s_v5", minCount: 0, maxCount: 4, atRest: 0, atMaximum: 1460 },
        atRestDelta: 0,
        atMaximumDelta: 730,
      },
    ]);
  });

  it("renders the pool, its bounds and both deltas with their sign", () => {
    expect(
      costLines([step("update", POOL, "mlops-cluster-training-pool", training(3), training(1))]),
    ).toEqual([
      "#### Monthly cost of the node pools (USD, westeurope, price table of 2026-01-02)",
      "",
      "| Pool | VM size | Nodes (min–max) | At rest | At maximum (all nodes busy) |",
      "|---|---|---|---:|---:|",
      "| `mlops-cluster-training-pool/training` | Standard_D8s_v5 | 0–3 → 0–1 | $0.00 → $0.00 (**±$0.00**) | $1,095.00 → $365.00 (**−$730.00**) |",
    ]);
  });
});

describe("a change of the system pool's minimum (inline in the cluster)", () => {
  it("one more node at rest costs one node-month; the cluster's location is the region", () => {
    const { cost } = summary(
      [step("update", CLUSTER, "mlops-cluster-aks", cluster(1, 3), cluster(2, 3))],
      {},
    );
    expect(cost!.region).toBe("westeurope");
    expect(cost!.changes).toHaveLength(1);
    expect(cost!.changes[0]).toMatchObject({
      pool: "mlops-cluster-aks/system",
      atRestDelta: 146,
      atMaximumDelta: 0,
    });
  });
});

describe("what is not a cost change", () => {
  it("a pool whose size and bounds stay the same adds no section", () => {
    expect(
      costLines([
        step(
          "update",
          CLUSTER,
          "mlops-cluster-aks",
          cluster(1, 3),
          cluster(1, 3, { tags: { a: "b" } }),
        ),
        step("update", POOL, "mlops-cluster-training-pool", training(2), {
          ...training(2),
          tags: { a: "b" },
        }),
      ]),
    ).toEqual([]);
  });

  it("an unchanged (same) step is not read", () => {
    expect(
      summary([step("same", POOL, "mlops-cluster-training-pool", training(2), training(5))]).cost!
        .changes,
    ).toEqual([]);
  });
});

describe("replacements, new and removed pools", () => {
  it("a replacement's three steps are one change", () => {
    const name = "mlops-cluster-training-pool";
    const { cost } = summary([
      step("create-replacement", POOL, name, training(2), training(2, "Standard_D4s_v5")),
      step("replace", POOL, name, training(2), training(2, "Standard_D4s_v5")),
      step("delete-replaced", POOL, name, training(2)),
    ]);
    expect(cost!.changes).toHaveLength(1);
    expect(cost!.changes[0].atMaximumDelta).toBeCloseTo(2 * 730 * (0.2 - 0.5), 10);
  });

  it("a new pool counts from nothing, a deleted one to nothing", () => {
    const { cost } = summary([
      step("create", POOL, "gpu", undefined, training(1)),
      step("delete", POOL, "old", training(2)),
    ]);
    expect(cost!.changes.map((c) => [c.pool, c.atMaximumDelta])).toEqual([
      ["gpu/training", 365],
      ["old/training", -730],
    ]);
    expect(costLines([step("create", POOL, "gpu", undefined, training(1))])[4]).toBe(
      "| `gpu/training` | none → Standard_D8s_v5 | none → 0–1 | $0.00 → $0.00 (**±$0.00**) | $0.00 → $365.00 (**+$365.00**) |",
    );
  });
});

describe("the region, and what cannot be priced", () => {
  it("falls back to mlops:azure's location, as the stack's config holds it (JSON text)", () => {
    const steps = [step("update", POOL, "p", training(2), training(3))];
    expect(
      poolCostChanges(
        parsePreview(JSON.stringify({ steps })).steps,
        { "mlops:azure": '{"location":"westeurope"}' },
        TABLE,
      ).changes[0].atMaximumDelta,
    ).toBe(365);
  });

  it("names the key and what the table has for an unknown VM size", () => {
    expect(
      costLines([step("update", POOL, "p", training(2), training(2, "Standard_NC6s_v3"))]),
    ).toContain(
      '- no cost for p/training: mlops:azure.trainingPool.vmSize: no price for VM size "Standard_NC6s_v3" in westeurope in the price table of 2026-01-02; it has Standard_D4s_v5, Standard_D8s_v5, Standard_D16s_v5 (add the size to infra/azure/price-table.json and run npm run cost:prices)',
    );
  });

  it("says when the preview names no region", () => {
    expect(costLines([step("update", POOL, "p", training(2), training(3))], {})).toEqual([
      "#### Monthly cost of the node pools (USD, price table of 2026-01-02)",
      "",
      "- no cost for p/training: the preview names no region (azure-native:location)",
    ]);
  });

  it.each([
    [0.004, "±$0.00"],
    [-0.006, "−$0.01"],
    [1234.5, "+$1,234.50"],
  ])("signedMoney(%d) is %s", (n, text) => expect(signedMoney(n)).toBe(text));
});

it("the CLI prints the section with the repository's price table", () => {
  let out = "";
  const input = JSON.stringify({
    config: { "azure-native:location": "westeurope" },
    steps: [step("update", POOL, "mlops-cluster-training-pool", training(2), training(3))],
  });
  expect(
    main(
      ["--stack", "dev"],
      () => input,
      (t) => (out += t),
      () => undefined,
    ),
  ).toBe(0);
  expect(out).toContain(
    `#### Monthly cost of the node pools (USD, westeurope, price table of ${PRICE_TABLE.takenOn})`,
  );
  expect(out).toMatch(
    /\| `mlops-cluster-training-pool\/training` \| .* \(\*\*\+\$[\d,.]+\*\*\) \|\n/,
  );
});
