/** The local cluster's nodes as scripts/control-plane/nodes.tsv has them: the one table of their
 * names, roles, labels and taints (scripts/control-plane/node-table.sh reads it for the scripts). */
import * as fs from "node:fs";
import * as path from "node:path";

export const NODE_TABLE = path.resolve(__dirname, "../../scripts/control-plane/nodes.tsv");

export type NodeRow = { name: string; role: string; labels: string[]; taints: string[] };

/** The table's rows, in order (comments left out; "-" is an empty list). */
export function nodeTable(text = fs.readFileSync(NODE_TABLE, "utf8")): NodeRow[] {
  const list = (cell: string) => (cell === "-" ? [] : cell.split(","));
  return text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const [name, role, labels, taints] = line.split("\t");
      return { name, role, labels: list(labels), taints: list(taints) };
    });
}

/** The name of the first node of a role (app: where the application's pods run; training: the
 * training pool's node). */
export function nodeOfRole(role: "app" | "training"): string {
  const row = nodeTable().find((r) => r.role === role);
  if (!row) throw new Error(`${NODE_TABLE} has no node of role ${role}`);
  return row.name;
}
