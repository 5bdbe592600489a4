# shellcheck shell=bash
# The local cluster's node table (scripts/control-plane/nodes.tsv, which documents its columns),
# and everything the real-node and kwok paths derive from a row. Sourced by
# scripts/control-plane.sh (after scripts/toolchain/lib.sh, for die); reading the table sets
#   NODES        the nodes' names, in table order
#   APP_NODE     the first node of role app
#   NODE_ROLE    [name] -> app | training
#   NODE_LABELS  [name] -> key=value,... ("" for none)
#   NODE_TAINTS  [name] -> key=value:Effect,... ("" for none)

NODE_TABLE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/nodes.tsv"
NODES=()
APP_NODE=""
declare -A NODE_ROLE=() NODE_LABELS=() NODE_TAINTS=()
# What a label and a taint may look like here (Kubernetes' syntax, narrowed to what needs no
# quoting in YAML or on a command line).
NODE_LABEL_RE='^[A-Za-z0-9][A-Za-z0-9./-]*=[A-Za-z0-9._-]*$'
NODE_TAINT_RE='^[A-Za-z0-9][A-Za-z0-9./-]*(=[A-Za-z0-9._-]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$'

# read_node_table: reads nodes.tsv into the variables above; a malformed row stops the script
# naming it.
read_node_table() {
  local name role labels taints extra item line=0 items
  while IFS=$'\t' read -r name role labels taints extra; do
    line=$((line + 1))
    [[ -n "$name" && "$name" != \#* ]] || continue
    [[ -n "$taints" && -z "$extra" ]] ||
      die "$NODE_TABLE line $line: expected 4 tab-separated columns (name, role, labels, taints; - for none)"
    [[ "$name" =~ ^[a-z0-9]([a-z0-9-]*[a-z0-9])?$ && -z "${NODE_ROLE[$name]:-}" ]] ||
      die "$NODE_TABLE line $line: node name '$name' is not a DNS label, or is there twice"
    case "$role" in
      app | training) ;;
      *) die "$NODE_TABLE line $line: role of $name: got '$role'; allowed: app, training" ;;
    esac
    [[ "$labels" != - ]] || labels=""
    [[ "$taints" != - ]] || taints=""
    IFS=, read -r -a items <<<"$labels"
    for item in "${items[@]}"; do
      [[ "$item" =~ $NODE_LABEL_RE ]] || die "$NODE_TABLE line $line: label of $name: got '$item'; expected key=value"
    done
    IFS=, read -r -a items <<<"$taints"
    for item in "${items[@]}"; do
      [[ "$item" =~ $NODE_TAINT_RE ]] || die "$NODE_TABLE line $line: taint of $name: got '$item'; expected key=value:NoSchedule|PreferNoSchedule|NoExecute"
    done
    NODES+=("$name")
    NODE_ROLE[$name]="$role"
    NODE_LABELS[$name]="$labels"
    NODE_TAINTS[$name]="$taints"
    [[ -n "$APP_NODE" || "$role" != app ]] || APP_NODE="$name"
  done <"$NODE_TABLE"
  [[ -n "$APP_NODE" ]] || die "$NODE_TABLE: no node of role app (the application's pods need one)"
}

# nodes_except_role <role>: the names of the nodes of any other role, one a line.
nodes_except_role() {
  local n
  for n in "${NODES[@]}"; do
    [[ "${NODE_ROLE[$n]}" == "$1" ]] || printf '%s\n' "$n"
  done
}

# --- real nodes: a row's index and what follows from it ---------------------------------------

# node_index <node>: its row's position in the table, from 0.
node_index() {
  local i
  for i in "${!NODES[@]}"; do
    [[ "${NODES[i]}" != "$1" ]] || { echo "$i"; return 0; }
  done
  die "unknown node $1 (the nodes of $NODE_TABLE: ${NODES[*]})"
}
node_bridge() { echo "mlops$(node_index "$1")"; }
node_ip() { echo "10.244.$(node_index "$1").1"; }
node_subnet() { echo "10.244.$(node_index "$1").0/24"; }
node_healthz_port() { echo $((16248 + 10 * $(node_index "$1"))); }

# node_taints_yaml <node>: its taints as a flow-style YAML list (the kubelet's registerWithTaints,
# a kwok Node's spec.taints).
node_taints_yaml() {
  local t key items list=""
  IFS=, read -r -a items <<<"${NODE_TAINTS[$1]}"
  for t in "${items[@]}"; do
    key="${t%%:*}"
    list+="${list:+, }{ key: ${key%%=*}, "
    [[ "$key" != *=* ]] || list+="value: ${key#*=}, "
    list+="effect: ${t#*:} }"
  done
  echo "[$list]"
}

# --- kwok nodes ---------------------------------------------------------------------------------

# kwok_nodes_yaml <node>...: the Node objects kwok plays (it manages the nodes annotated
# kwok.x-k8s.io/node=fake), with their rows' labels and taints. Capacity is generous enough for the
# app's Deployment (2-3 replicas), its HPA headroom and a training CronJob.
kwok_nodes_yaml() {
  local n label items
  for n in "$@"; do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: $n
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/hostname: $n
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    type: kwok
EOF
    IFS=, read -r -a items <<<"${NODE_LABELS[$n]}"
    for label in "${items[@]}"; do
      printf '    %s: "%s"\n' "${label%%=*}" "${label#*=}"
    done
    if [[ -n "${NODE_TAINTS[$n]}" ]]; then
      printf 'spec:\n  taints: %s\n' "$(node_taints_yaml "$n")"
    else
      printf 'spec: {}\n'
    fi
    cat <<'EOF'
status:
  allocatable: { cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi }
  capacity: { cpu: "16", memory: 64Gi, pods: "110", ephemeral-storage: 100Gi }
EOF
  done
}

# print_nodes: each node and what the scripts derive from its row, tab-separated under a header:
# name, role, bridge, pod subnet, node IP, kubelet healthz port, labels, taints (- for none).
print_nodes() {
  local n
  printf 'name\trole\tbridge\tsubnet\tnode-ip\thealthz-port\tlabels\ttaints\n'
  for n in "${NODES[@]}"; do
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "${NODE_ROLE[$n]}" "$(node_bridge "$n")" \
      "$(node_subnet "$n")" "$(node_ip "$n")" "$(node_healthz_port "$n")" \
      "${NODE_LABELS[$n]:--}" "${NODE_TAINTS[$n]:--}"
  done
}
