/**
 * The local cluster's node table, scripts/control-plane/nodes.tsv: what the real-node path
 * (scripts/control-plane/node.sh) and the kwok path derive from it, the rows it refuses, and
 * scripts/README.md's node table, which must say what the table says.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { nodeOfRole, nodeTable } from "../../support/node-table";

const ROOT = path.resolve(__dirname, "../../..");

/** Runs bash with lib.sh and node-table.sh sourced; NODE_TABLE, when given, replaces nodes.tsv. */
function withTable(script: string, table?: string) {
  const r = spawnSync(
    "bash",
    [
      "-c",
      `set -euo pipefail
source scripts/toolchain/lib.sh
source scripts/control-plane/node-table.sh
LOG_TAG=control-plane
if [[ -n "\${1:-}" ]]; then NODE_TABLE="$1"; fi
read_node_table
${script}`,
      "bash",
      table ?? "",
    ],
    { cwd: ROOT, encoding: "utf8", timeout: 60000 },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A taint as the API has it, from the table's key=value:Effect. */
function taintObject(t: string) {
  const [keyValue, effect] = t.split(":");
  const [key, value] = keyValue.split("=");
  return value === undefined ? { key, effect } : { key, value, effect };
}

const rows = nodeTable();

test("the table names the application node and the training node, with its label and taint", () => {
  expect([nodeOfRole("app"), nodeOfRole("training")]).toEqual(["mlops-node-1", "mlops-training-1"]);
  expect(rows.map((r) => [r.name, r.role])).toEqual([
    ["mlops-node-1", "app"],
    ["mlops-training-1", "training"],
  ]);
  expect(rows[1]).toMatchObject({
    labels: ["mlops-platform/pool=training"],
    taints: ["mlops-platform/pool=training:NoSchedule"],
  });
});

describe("control-plane.sh nodes", () => {
  const r = spawnSync("bash", [path.join(ROOT, "scripts/control-plane.sh"), "nodes"], {
    encoding: "utf8",
    timeout: 60000,
  });
  const [header, ...lines] = r.stdout.trim().split("\n");
  const printed = lines.map((l) =>
    Object.fromEntries(header.split("\t").map((h, i) => [h, l.split("\t")[i]])),
  );

  it("prints every row, in order, with its index's bridge, subnet, IP and healthz port", () => {
    expect(r.status).toBe(0);
    expect(printed).toEqual(
      rows.map((row, i) => ({
        name: row.name,
        role: row.role,
        bridge: `mlops${i}`,
        subnet: `10.244.${i}.0/24`,
        "node-ip": `10.244.${i}.1`,
        "healthz-port": String(16248 + 10 * i),
        labels: row.labels.join(",") || "-",
        taints: row.taints.join(",") || "-",
      })),
    );
  });

  it("scripts/README.md's node table says what the table says", () => {
    const readme = fs.readFileSync(path.join(ROOT, "scripts/README.md"), "utf8");
    const section = readme.slice(
      readme.indexOf("### Real nodes"),
      readme.indexOf("### kwok nodes"),
    );
    const readmeRows = section
      .split("\n")
      .filter((l) => /^\| `[^`]+` \|/.test(l))
      .map((l) => l.split(" | ").map((c) => c.replace(/^\| |\s*\|$/g, "")));
    expect(readmeRows.map((c) => c[0])).toEqual(printed.map((p) => `\`${p.name}\``));
    for (const [i, cells] of readmeRows.entries()) {
      const p = printed[i];
      const row = rows[i];
      expect(cells[1]).toBe(`\`${p.bridge}\`, ${p.subnet}, ${p["node-ip"]}`);
      const said = [...cells[2].matchAll(/(label|taint) `([^`]+)`/g)].map((m) => `${m[1]} ${m[2]}`);
      expect(said).toEqual([
        ...row.labels.map((l) => `label ${l}`),
        ...row.taints.map((t) => `taint ${t}`),
      ]);
      if (said.length === 0) expect(cells[2]).toMatch(/^none\b/);
    }
    expect(section).toContain(
      `Extra ports (127.0.0.1): kubelet healthz ${printed.map((p) => p["healthz-port"]).join("/")},`,
    );
  });
});

test("the kubelet registers each node's taints (registerWithTaints) as the table has them", () => {
  const r = withTable('for n in "${NODES[@]}"; do node_taints_yaml "$n"; done');
  expect(r.code).toBe(0);
  const printed = r.stdout.trim().split("\n");
  expect(printed[0]).toBe("[]");
  expect(printed[1]).toBe("[{ key: mlops-platform/pool, value: training, effect: NoSchedule }]");
  expect(printed.map((line) => parse(line))).toEqual(
    rows.map((row) => row.taints.map(taintObject)),
  );
});

describe("kwok nodes", () => {
  const nodesOf = (script: string) => {
    const r = withTable(script);
    expect(r.code).toBe(0);
    return parseAllDocuments(r.stdout)
      .map((d) => d.toJSON())
      .filter(Boolean);
  };

  it("one fake Node per row, with the row's labels and taints besides kwok's own", () => {
    const nodes = nodesOf('kwok_nodes_yaml "${NODES[@]}"');
    expect(nodes).toHaveLength(rows.length);
    for (const [i, row] of rows.entries()) {
      expect(nodes[i].metadata).toEqual({
        name: row.name,
        annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
        labels: {
          "kubernetes.io/hostname": row.name,
          "kubernetes.io/os": "linux",
          "kubernetes.io/arch": "amd64",
          type: "kwok",
          ...Object.fromEntries(row.labels.map((l) => l.split("="))),
        },
      });
      expect(nodes[i].spec).toEqual(
        row.taints.length ? { taints: row.taints.map(taintObject) } : {},
      );
      const capacity = { cpu: "16", memory: "64Gi", pods: "110", "ephemeral-storage": "100Gi" };
      expect(nodes[i].status).toEqual({ allocatable: capacity, capacity });
    }
  });

  it("MLOPS_TRAINING_NODE=none keeps the nodes of the other roles only", () => {
    const r = withTable("nodes_except_role training");
    expect(r.stdout.trim().split("\n")).toEqual(
      rows.filter((row) => row.role !== "training").map((row) => row.name),
    );
  });
});

describe("a malformed table stops the scripts naming the row", () => {
  const cases: [string, string][] = [
    ["a\tapp\t-\n", "line 1: expected 4 tab-separated columns"],
    ["a\tgpu\t-\t-\n", "line 1: role of a: got 'gpu'; allowed: app, training"],
    ["a\tapp\tpool\t-\n", "line 1: label of a: got 'pool'; expected key=value"],
    ["a\tapp\t-\tpool=x:Never\n", "line 1: taint of a: got 'pool=x:Never'"],
    [
      "# c\na\tapp\t-\t-\na\tapp\t-\t-\n",
      "line 3: node name 'a' is not a DNS label, or is there twice",
    ],
    ["a\ttraining\t-\t-\n", "no node of role app"],
  ];
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-table-"))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(cases)("%j: %s", (text, message) => {
    const file = path.join(dir, "nodes.tsv");
    fs.writeFileSync(file, text);
    const r = withTable("echo read", file);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`[control-plane] ERROR: ${file}`);
    expect(r.stderr).toContain(message);
  });
});
