#!/usr/bin/env bash
# A local Kubernetes cluster on this machine, for `npm run up` and the real-engine tests:
# etcd, kube-apiserver (static-token auth, Node+RBAC authorization, service-account signing keys,
# self-signed serving cert) on loopback, kube-controller-manager, kube-scheduler, and the nodes of
# scripts/control-plane/nodes.tsv (their names, roles, labels and taints): an application node and
# a training node with the training pool's label and taint.
#
# MLOPS_NODES=real (default): real nodes that run containers (scripts/control-plane/node.sh):
#   a kubelet + containerd + runc + CNI bridge per node, kube-proxy (iptables; NodePorts on
#   127.0.0.1) and CoreDNS. Needs root and Linux; missing packages are installed
#   (scripts/node/install.sh).
# MLOPS_NODES=kwok: API only, fast: kwok plays every kubelet, pods are marked Ready but no
#   container runs. For whoever only needs the API (object diffs, admission, policies).
# MLOPS_TRAINING_NODE=static (default): the training node is always there.
# MLOPS_TRAINING_NODE=none (kwok only): no training node at rest, only the other nodes; training
#   nodes come from an autoscaler (Karpenter's kwok provider creates them, kwok plays them).
# MLOPS_AUTOSCALER=karpenter (kwok only): also apply Karpenter's CRDs and run Karpenter's kwok
#   provider (scripts/toolchain/build.sh karpenter) as the cluster's node autoscaler; it acts
#   on the NodePools applied to the cluster (infra/k8s/karpenter.ts renders the training pool's).
#   It binds its metrics and health ports (MLOPS_KARPENTER_METRICS_PORT=16290, see below) on
#   every interface: Karpenter v1.15.0 has no bind-address option; nothing here talks to them but
#   this script, on 127.0.0.1.
#
# usage: scripts/control-plane.sh start|stop|status|kubeconfig|logs|load <image>...|footprint
#                                |socket <node>|nodes
#   start       start what is not running (idempotent), wait for /readyz and Ready nodes, and
#               install the Gateway API CRDs (standard channel, scripts/toolchain/gateway-api)
#   stop        stop the processes this script started (by their PID files only); with real
#               nodes also remove every container, mount, interface, iptables chain and cgroup
#               they made, and restore the sysctls they set
#   status      component PIDs, /readyz, server version, nodes (exit 1 if a component is down)
#   kubeconfig  print the path of the admin kubeconfig
#   load        copy images from buildah's store (scripts/node/images.sh) into every real node
#   footprint   what real nodes left on this machine, one line each (nothing after a clean stop)
#   socket      print the containerd socket of a real node (for ctr)
#   nodes       print the node table with what is derived from it (bridge, pod subnet, node IP,
#               kubelet healthz port), tab-separated; starts nothing
#
# Binaries come from scripts/toolchain/build.sh (its cache; etcd falls back to an
# `etcd` on PATH, e.g. Debian's etcd-server). State (etcd data, certificates,
# tokens, kubeconfigs, logs, PIDs, node state) lives outside the repo in
#   ${MLOPS_STATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/control-plane}
# Ports (loopback, override with env): MLOPS_APISERVER_PORT=16443, MLOPS_ETCD_PORT=12379,
# MLOPS_ETCD_PEER_PORT=12380, MLOPS_KCM_PORT=16257, MLOPS_SCHEDULER_PORT=16259, MLOPS_KWOK_PORT=16247;
# Karpenter: MLOPS_KARPENTER_METRICS_PORT=16290, MLOPS_KARPENTER_HEALTH_PORT=16291;
# real nodes: kubelets on their node IPs port 10250, healthz on 127.0.0.1 (a port per node; both
# in `nodes`); MLOPS_KUBE_PROXY_HEALTHZ_PORT=16256, MLOPS_KUBE_PROXY_METRICS_PORT=16249,
# MLOPS_COREDNS_HEALTH_PORT=16280, MLOPS_COREDNS_READY_PORT=16281.
# MLOPS_KUBE_CONTEXT=<context>: use that existing cluster instead; start/stop do nothing
# and kubeconfig prints ${KUBECONFIG:-~/.kube/config}.
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/toolchain/lib.sh
source "$SCRIPTS_DIR/toolchain/lib.sh"
LOG_TAG=control-plane

STATE="${MLOPS_STATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/control-plane}"
PKI="$STATE/pki"
RUN="$STATE/run"
LOGS="$STATE/logs"
HOST=127.0.0.1
APISERVER_PORT="${MLOPS_APISERVER_PORT:-16443}"
ETCD_PORT="${MLOPS_ETCD_PORT:-12379}"
ETCD_PEER_PORT="${MLOPS_ETCD_PEER_PORT:-12380}"
KCM_PORT="${MLOPS_KCM_PORT:-16257}"
SCHEDULER_PORT="${MLOPS_SCHEDULER_PORT:-16259}"
KWOK_PORT="${MLOPS_KWOK_PORT:-16247}"
KARPENTER_METRICS_PORT="${MLOPS_KARPENTER_METRICS_PORT:-16290}"
KARPENTER_HEALTH_PORT="${MLOPS_KARPENTER_HEALTH_PORT:-16291}"
SERVER="https://$HOST:$APISERVER_PORT"
ADMIN_KUBECONFIG="$STATE/admin.kubeconfig"
NODE_MODE="${MLOPS_NODES:-real}"
TRAINING_NODE="${MLOPS_TRAINING_NODE:-static}"
AUTOSCALER="${MLOPS_AUTOSCALER:-none}"
CONTROL_COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler)
COMPONENTS=()
TIMEOUT="${MLOPS_CONTROL_PLANE_TIMEOUT:-120}"

# shellcheck source=scripts/control-plane/node-table.sh
source "$SCRIPTS_DIR/control-plane/node-table.sh"
# shellcheck source=scripts/control-plane/node.sh
source "$SCRIPTS_DIR/control-plane/node.sh"
# shellcheck source=scripts/control-plane/edge.sh
source "$SCRIPTS_DIR/control-plane/edge.sh"

# check_options: the node options that cannot work together stop the script (exit 2) before it
# does anything.
check_options() {
  case "$NODE_MODE" in
    real | kwok) ;;
    *) usage_error "MLOPS_NODES: got \"$NODE_MODE\"; allowed: real (containers run), kwok (API only)" ;;
  esac
  case "$NODE_MODE:$TRAINING_NODE" in
    *:static | kwok:none) ;;
    real:none) usage_error "MLOPS_TRAINING_NODE=none needs MLOPS_NODES=kwok: a real training node is a kubelet that runs the training pod, no autoscaler adds one here" ;;
    *) usage_error "MLOPS_TRAINING_NODE: got \"$TRAINING_NODE\"; allowed: static ($(nodes_except_role app | paste -sd, -) always there), none (kwok only: no training node at rest)" ;;
  esac
  case "$NODE_MODE:$AUTOSCALER" in
    *:none | kwok:karpenter) ;;
    real:karpenter) usage_error "MLOPS_AUTOSCALER=karpenter needs MLOPS_NODES=kwok: its kwok provider creates kwok nodes, not kubelets" ;;
    *) usage_error "MLOPS_AUTOSCALER: got \"$AUTOSCALER\"; allowed: none, karpenter (kwok only)" ;;
  esac
}

# set_components: the processes of this mode, in start order (status, logs and start go by it).
set_components() {
  local node_parts
  if [[ "$NODE_MODE" == real ]]; then
    read -r -a node_parts <<<"$(node_components)"
    COMPONENTS=("${CONTROL_COMPONENTS[@]}" "${node_parts[@]}")
  else
    COMPONENTS=("${CONTROL_COMPONENTS[@]}" kwok)
    [[ "$AUTOSCALER" != karpenter ]] || COMPONENTS+=(karpenter)
  fi
}

# --- binaries ----------------------------------------------------------------------

bin() {
  local name="$1" dir
  case "$name" in
    kwok) dir="$KWOK_BIN_DIR" ;;
    karpenter-kwok) dir="$KARPENTER_BIN_DIR" ;;
    coredns) dir="$COREDNS_BIN_DIR" ;;
    netpol) dir="$NETPOL_BIN_DIR" ;;
    *) dir="$KUBE_BIN_DIR" ;;
  esac
  if [[ -x "$dir/$name" ]]; then
    echo "$dir/$name"
  elif [[ "$name" == etcd ]] && command -v etcd >/dev/null; then
    command -v etcd
  else
    die "$name not found in $dir: run scripts/toolchain/build.sh first"
  fi
}

kc() { "$(bin kubectl)" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

# --- processes ---------------------------------------------------------------------

pidfile() { echo "$RUN/$1.pid"; }

# running <component>[@<node>]: its PID file names a live process running that component's
# binary (for a node's component, with that node in its command line).
running() {
  local f pid cmdline name="${1%%@*}" node=""
  [[ "$1" != *@* ]] || node="${1#*@}"
  f="$(pidfile "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(<"$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
  [[ "$cmdline" == *"$name"* && "$cmdline" == *"$node"* ]]
}

port_in_use() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

require_free_port() {
  local component="$1" port
  shift
  for port in "$@"; do
    if port_in_use "$port"; then
      die "$component: port $HOST:$port is already in use by another process; free it or set the MLOPS_*_PORT variables (see the header of $0)"
    fi
  done
}

# launch <component> <binary> <args...>: start in the background, detached, log + PID file.
# Components run with the usual umask (022), whatever the script's: containerd unpacks image
# layers with it, and a 077 would leave their directories unreadable to a container's user.
launch() {
  local component="$1"
  shift
  log "starting $component (log: $LOGS/$component.log)"
  (umask 022 && exec setsid "$@") >>"$LOGS/$component.log" 2>&1 </dev/null &
  echo $! >"$(pidfile "$component")"
}

# wait_for <description> <command...>: poll until the command succeeds or TIMEOUT.
wait_for() {
  local what="$1" deadline=$((SECONDS + TIMEOUT))
  shift
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      die "timed out after ${TIMEOUT}s waiting for $what; see the logs in $LOGS"
    fi
    sleep 1
  done
}

alive_or_die() {
  local tries=25
  # Until the launched subshell has exec'd the binary, its PID's command line is still bash's:
  # give it a moment (up to 5 s) rather than taking that for an exit.
  until running "$1"; do
    ((--tries > 0)) || break
    sleep 0.2
  done
  running "$1" || die "$1 exited right after start; last lines of $LOGS/$1.log:
$(tail -n 20 "$LOGS/$1.log" 2>/dev/null)"
}

# --- one-time material: PKI, tokens, kubeconfigs -------------------------------------

ensure_pki() {
  [[ -f "$PKI/apiserver.crt" && -f "$PKI/apiserver-kubelet-client.crt" && -f "$PKI/sa.key" && -f "$STATE/tokens.csv" ]] &&
    grep -q ',system:kube-proxy,' "$STATE/tokens.csv" &&
    { [[ "$AUTOSCALER" != karpenter ]] || grep -q ',karpenter,' "$STATE/tokens.csv"; } && return 0
  command -v openssl >/dev/null || die "openssl is required to create the control plane's certificates"
  log "creating certificates, service-account keys and tokens in $STATE"
  mkdir -p "$PKI"
  local old_umask
  old_umask="$(umask)"
  umask 077
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=mlops-platform-local-ca" \
    -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$PKI/apiserver.key" -out "$PKI/apiserver.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
    "extendedKeyUsage=serverAuth" "keyUsage=digitalSignature,keyEncipherment" >"$PKI/apiserver.ext"
  openssl x509 -req -in "$PKI/apiserver.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -extfile "$PKI/apiserver.ext" -out "$PKI/apiserver.crt" 2>/dev/null
  # The API server's client certificate towards kubelets (logs, exec, port-forward).
  openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=kube-apiserver-kubelet-client" \
    -keyout "$PKI/apiserver-kubelet-client.key" -out "$PKI/apiserver-kubelet-client.csr" 2>/dev/null
  printf '%s\n' "extendedKeyUsage=clientAuth" "keyUsage=digitalSignature,keyEncipherment" >"$PKI/client.ext"
  openssl x509 -req -in "$PKI/apiserver-kubelet-client.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" \
    -CAcreateserial -days 3650 -extfile "$PKI/client.ext" -out "$PKI/apiserver-kubelet-client.crt" 2>/dev/null
  openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
  openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
  # Static tokens: token,user,uid,"group1,group2"
  {
    echo "$(openssl rand -hex 24),admin,admin,\"system:masters\""
    echo "$(openssl rand -hex 24),system:kube-controller-manager,system:kube-controller-manager,\"\""
    echo "$(openssl rand -hex 24),system:kube-scheduler,system:kube-scheduler,\"\""
    # kwok plays the kubelet of several nodes (the Node authorizer allows one node per
    # identity), so it runs with cluster-admin rights like kwok's own setups.
    echo "$(openssl rand -hex 24),kwok,kwok,\"system:masters\""
    # Karpenter creates and deletes nodes, evicts pods and reads everything a scheduler does:
    # cluster-admin, as its chart's ClusterRoles nearly are.
    echo "$(openssl rand -hex 24),karpenter,karpenter,\"system:masters\""
    # Real nodes: each kubelet is its node (Node authorizer), kube-proxy and CoreDNS get their
    # own users with only the roles they need (scripts/control-plane/node.sh binds them).
    local n
    for n in "${NODES[@]}"; do
      echo "$(openssl rand -hex 24),system:node:$n,system:node:$n,\"system:nodes\""
    done
    echo "$(openssl rand -hex 24),system:kube-proxy,system:kube-proxy,\"\""
    echo "$(openssl rand -hex 24),mlops:coredns,mlops:coredns,\"\""
    echo "$(openssl rand -hex 24),mlops:netpol,mlops:netpol,\"\""
  } >"$STATE/tokens.csv.tmp"
  mv "$STATE/tokens.csv.tmp" "$STATE/tokens.csv"
  rm -f "$STATE"/*.kubeconfig
  umask "$old_umask"
}

token_of() { awk -F, -v u="$1" '$2 == u { print $1 }' "$STATE/tokens.csv"; }

# ensure_token <user>: a token for a user that a newer version of this script added (the PKI and
# every other token stay). The API server reads the token file when it starts: a running one is
# stopped here, so that start brings it back with the new token.
ensure_token() {
  grep -q ",$1," "$STATE/tokens.csv" && return 0
  log "adding a token for $1"
  (umask 077 && echo "$(openssl rand -hex 24),$1,$1,\"\"" >>"$STATE/tokens.csv")
  rm -f "$STATE/${1#mlops:}.kubeconfig"
  if running kube-apiserver; then
    log "restarting kube-apiserver to read it"
    stop_group kube-apiserver
  fi
}

write_kubeconfig() {
  local file="$1" user="$2" ca old_umask
  ca="$(base64 <"$PKI/ca.crt" | tr -d '\n')"
  old_umask="$(umask)"
  umask 077
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: mlops-local
  cluster:
    server: $SERVER
    certificate-authority-data: $ca
users:
- name: $user
  user:
    token: $(token_of "$user")
contexts:
- name: mlops-local
  context:
    cluster: mlops-local
    user: $user
current-context: mlops-local
EOF
  mv "$file.tmp" "$file"
  umask "$old_umask"
}

ensure_kubeconfigs() {
  # A user a newer version of this script added (ensure_token) gets its kubeconfig alone.
  [[ -f "$STATE/netpol.kubeconfig" ]] || write_kubeconfig "$STATE/netpol.kubeconfig" mlops:netpol
  [[ -f "$ADMIN_KUBECONFIG" ]] && grep -q "server: $SERVER\$" "$ADMIN_KUBECONFIG" && return 0
  write_kubeconfig "$ADMIN_KUBECONFIG" admin
  write_kubeconfig "$STATE/kube-controller-manager.kubeconfig" system:kube-controller-manager
  write_kubeconfig "$STATE/kube-scheduler.kubeconfig" system:kube-scheduler
  write_kubeconfig "$STATE/kwok.kubeconfig" kwok
  write_kubeconfig "$STATE/karpenter.kubeconfig" karpenter
  local n
  for n in "${NODES[@]}"; do write_kubeconfig "$STATE/node-$n.kubeconfig" "system:node:$n"; done
  write_kubeconfig "$STATE/kube-proxy.kubeconfig" system:kube-proxy
  write_kubeconfig "$STATE/coredns.kubeconfig" mlops:coredns
}

# --- components ----------------------------------------------------------------------

start_etcd() {
  require_free_port etcd "$ETCD_PORT" "$ETCD_PEER_PORT"
  launch etcd "$(bin etcd)" --name mlops-local --data-dir "$STATE/etcd" \
    --listen-client-urls "http://$HOST:$ETCD_PORT" --advertise-client-urls "http://$HOST:$ETCD_PORT" \
    --listen-peer-urls "http://$HOST:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
    --initial-cluster "mlops-local=http://$HOST:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --log-level warn
  wait_for "etcd on $HOST:$ETCD_PORT" port_in_use "$ETCD_PORT"
  alive_or_die etcd
}

start_apiserver() {
  require_free_port kube-apiserver "$APISERVER_PORT"
  launch kube-apiserver "$(bin kube-apiserver)" \
    --etcd-servers "http://$HOST:$ETCD_PORT" \
    --bind-address "$HOST" --advertise-address "$HOST" --secure-port "$APISERVER_PORT" \
    --endpoint-reconciler-type none \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --client-ca-file "$PKI/ca.crt" \
    --token-auth-file "$STATE/tokens.csv" \
    --authorization-mode Node,RBAC \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --allow-privileged=true --profiling=false
  wait_for "kube-apiserver /readyz on $SERVER" kc get --raw /readyz
  alive_or_die kube-apiserver
}

start_controller_manager() {
  require_free_port kube-controller-manager "$KCM_PORT"
  local kcfg="$STATE/kube-controller-manager.kubeconfig"
  launch kube-controller-manager "$(bin kube-controller-manager)" \
    --kubeconfig "$kcfg" --authentication-kubeconfig "$kcfg" --authorization-kubeconfig "$kcfg" \
    --bind-address "$HOST" --secure-port "$KCM_PORT" --leader-elect=false \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --use-service-account-credentials=true --cluster-name mlops-local \
    --service-cluster-ip-range 10.96.0.0/16 --profiling=false
  alive_or_die kube-controller-manager
}

start_scheduler() {
  require_free_port kube-scheduler "$SCHEDULER_PORT"
  local kcfg="$STATE/kube-scheduler.kubeconfig"
  launch kube-scheduler "$(bin kube-scheduler)" \
    --kubeconfig "$kcfg" --authentication-kubeconfig "$kcfg" --authorization-kubeconfig "$kcfg" \
    --bind-address "$HOST" --secure-port "$SCHEDULER_PORT" --leader-elect=false --profiling=false
  alive_or_die kube-scheduler
}

start_kwok() {
  require_free_port kwok "$KWOK_PORT"
  launch kwok "$(bin kwok)" --kubeconfig "$STATE/kwok.kubeconfig" \
    --config "$SCRIPTS_DIR/control-plane/kwok-stages.yaml" \
    --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --node-lease-duration-seconds 40 \
    --server-address "$HOST:$KWOK_PORT" --node-ip 10.0.0.1 --cidr 10.244.0.0/16
  alive_or_die kwok
}

# Karpenter's CRDs (NodePool, NodeClaim, NodeOverlay, KWOKNodeClass), from the toolchain cache.
ensure_karpenter_crds() {
  [[ -d "$KARPENTER_DIR/crds" ]] || die "no Karpenter CRDs in $KARPENTER_DIR/crds: run scripts/toolchain/build.sh karpenter"
  kc apply --server-side --force-conflicts -f "$KARPENTER_DIR/crds/" >/dev/null
  wait_for "Karpenter's CRDs to be established" \
    kc wait --for=condition=Established --timeout=5s \
    crd/nodepools.karpenter.sh crd/nodeclaims.karpenter.sh crd/kwoknodeclasses.karpenter.kwok.sh
}

karpenter_ready() { curl -fsS --max-time 2 -o /dev/null "http://$HOST:$KARPENTER_HEALTH_PORT/readyz"; }

start_karpenter() {
  require_free_port karpenter "$KARPENTER_METRICS_PORT" "$KARPENTER_HEALTH_PORT"
  command -v curl >/dev/null || die "curl is needed to wait for Karpenter's /readyz"
  # Outside the cluster: no leader election (one replica), its own identity, and the ports above.
  launch karpenter env KUBECONFIG="$STATE/karpenter.kubeconfig" DISABLE_LEADER_ELECTION=true \
    METRICS_PORT="$KARPENTER_METRICS_PORT" HEALTH_PROBE_PORT="$KARPENTER_HEALTH_PORT" \
    SYSTEM_NAMESPACE=kube-system LOG_LEVEL="${MLOPS_KARPENTER_LOG_LEVEL:-info}" \
    "$(bin karpenter-kwok)"
  alive_or_die karpenter
  wait_for "Karpenter's /readyz on $HOST:$KARPENTER_HEALTH_PORT" karpenter_ready
}

ensure_nodes() {
  local n nodes=("${NODES[@]}")
  # Without a training node at rest: only the nodes of the other roles.
  [[ "$TRAINING_NODE" != none ]] || mapfile -t nodes < <(nodes_except_role training)
  kwok_nodes_yaml "${nodes[@]}" | kc apply -f - >/dev/null
  for n in "${nodes[@]}"; do
    wait_for "node $n to become Ready" kc wait --for=condition=Ready "node/$n" --timeout=5s
  done
  # Pods in a namespace need its default ServiceAccount (created by the controller-manager).
  wait_for "the default ServiceAccount" kc -n default get serviceaccount default
}

# The Gateway API CRDs (standard channel) at the version scripts/toolchain/gateway-api/go.mod
# pins (the module carries them; go.sum verifies it), so the API server admits and validates
# (schema and CEL rules) every Gateway and HTTPRoute the program renders. No controller serves
# them here (docs/traffic.md).
ensure_gateway_api_crds() {
  local mod="$SCRIPTS_DIR/toolchain/gateway-api" json dir
  json="$(cd "$mod" && GOFLAGS=-mod=mod go mod download -json sigs.k8s.io/gateway-api)" ||
    die "could not download the Gateway API module pinned in $mod/go.mod: $json"
  dir="$(gomod_dir "$json")"
  [[ -d "$dir/config/crd/standard" ]] || die "no config/crd/standard in the Gateway API module ($dir)"
  kc apply --server-side --force-conflicts -f "$dir/config/crd/standard/" >/dev/null
  wait_for "the Gateway API CRDs to be established" \
    kc wait --for=condition=Established --timeout=5s \
    crd/gateways.gateway.networking.k8s.io crd/httproutes.gateway.networking.k8s.io
}

# --- commands --------------------------------------------------------------------------

cmd_start() {
  if [[ -n "${MLOPS_KUBE_CONTEXT:-}" ]]; then
    log "MLOPS_KUBE_CONTEXT=$MLOPS_KUBE_CONTEXT: using that existing cluster; nothing to start"
    return 0
  fi
  local c all=1 start=$SECONDS
  for c in "${COMPONENTS[@]}"; do running "$c" || all=0; done
  if ((all)); then
    log "already running"
    cmd_status
    ensure_gateway_api_crds
    [[ "$AUTOSCALER" != karpenter ]] || ensure_karpenter_crds
    [[ "$NODE_MODE" != real ]] || ensure_traefik
    return 0
  fi
  # Resolve every binary and check every port before starting anything.
  for c in "${CONTROL_COMPONENTS[@]}" kubectl; do bin "$c" >/dev/null; done
  [[ "$NODE_MODE" != kwok ]] || bin kwok >/dev/null
  [[ "$AUTOSCALER" != karpenter ]] || bin karpenter-kwok >/dev/null
  running etcd || require_free_port etcd "$ETCD_PORT" "$ETCD_PEER_PORT"
  running kube-apiserver || require_free_port kube-apiserver "$APISERVER_PORT"
  running kube-controller-manager || require_free_port kube-controller-manager "$KCM_PORT"
  running kube-scheduler || require_free_port kube-scheduler "$SCHEDULER_PORT"
  [[ "$NODE_MODE" != kwok ]] || running kwok || require_free_port kwok "$KWOK_PORT"
  [[ "$AUTOSCALER" != karpenter ]] || running karpenter ||
    require_free_port karpenter "$KARPENTER_METRICS_PORT" "$KARPENTER_HEALTH_PORT"
  [[ "$NODE_MODE" != real ]] || node_prerequisites
  mkdir -p "$RUN" "$LOGS"
  ensure_pki
  ensure_token mlops:netpol
  ensure_kubeconfigs
  running etcd || start_etcd
  running kube-apiserver || start_apiserver
  running kube-controller-manager || start_controller_manager
  running kube-scheduler || start_scheduler
  if [[ "$NODE_MODE" == kwok ]]; then
    running kwok || start_kwok
    ensure_nodes
    if [[ "$AUTOSCALER" == karpenter ]]; then
      ensure_karpenter_crds
      running karpenter || start_karpenter
    fi
  else
    # Nodes a kwok run registered under the same names would shadow the kubelets' own.
    kc delete node -l type=kwok --ignore-not-found >/dev/null
    start_nodes
    wait_for "the default ServiceAccount" kc -n default get serviceaccount default
  fi
  ensure_gateway_api_crds
  # The edge's GatewayClass needs the Gateway API CRDs.
  [[ "$NODE_MODE" != real ]] || start_edge
  log "ready in $((SECONDS - start))s ($NODE_MODE nodes): export KUBECONFIG=$ADMIN_KUBECONFIG"
}

# stop_group <component...>: SIGTERM them all at once, then wait (SIGKILL after 10 s).
stop_group() {
  local c pid pids=()
  for c in "$@"; do
    if running "$c"; then
      pid="$(<"$(pidfile "$c")")"
      log "stopping $c (pid $pid)"
      kill "$pid" 2>/dev/null || true
      pids+=("$c:$pid")
    fi
  done
  for c in "${pids[@]}"; do
    pid="${c#*:}"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    if kill -0 "$pid" 2>/dev/null; then
      log "${c%%:*} did not exit in 10s; killing pid $pid"
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  for c in "$@"; do rm -f "$(pidfile "$c")"; done
}

cmd_stop() {
  if [[ -n "${MLOPS_KUBE_CONTEXT:-}" ]]; then
    log "MLOPS_KUBE_CONTEXT=$MLOPS_KUBE_CONTEXT: not ours to stop"
    return 0
  fi
  # Nodes (whichever mode started them) and clients first, then the apiserver, etcd last.
  [[ ! -d "$NODE_STATE" ]] || stop_nodes
  # Karpenter first: it must not see nodes or pods go and act on it.
  stop_group karpenter
  stop_group kwok kube-scheduler kube-controller-manager
  stop_group kube-apiserver
  stop_group etcd
  log "stopped (state kept in $STATE; delete it for a fresh cluster)"
}

cmd_status() {
  if [[ -n "${MLOPS_KUBE_CONTEXT:-}" ]]; then
    log "using existing context $MLOPS_KUBE_CONTEXT"
    return 0
  fi
  local c down=0
  for c in "${COMPONENTS[@]}"; do
    if running "$c"; then
      printf '%-24s running (pid %s)\n' "$c" "$(<"$(pidfile "$c")")"
    else
      printf '%-24s stopped\n' "$c"
      down=1
    fi
  done
  if running kube-apiserver; then
    printf '%-24s %s\n' "readyz" "$(kc get --raw /readyz 2>&1 || true)"
    printf '%-24s %s\n' "server version" "$(kc get --raw /version 2>/dev/null | tr -d ' \n' | sed 's/.*"gitVersion":"\([^"]*\)".*/\1/' || true)"
    printf '%-24s %s\n' "kubeconfig" "$ADMIN_KUBECONFIG"
    kc get nodes -o wide 2>&1 || true
  fi
  return "$down"
}

cmd_kubeconfig() {
  if [[ -n "${MLOPS_KUBE_CONTEXT:-}" ]]; then
    echo "${KUBECONFIG:-$HOME/.kube/config}"
    return 0
  fi
  [[ -f "$ADMIN_KUBECONFIG" ]] || die "no kubeconfig yet: run $0 start"
  echo "$ADMIN_KUBECONFIG"
}

cmd_logs() {
  local c
  for c in "${COMPONENTS[@]}"; do
    echo "==> $LOGS/$c.log <=="
    tail -n 15 "$LOGS/$c.log" 2>/dev/null || true
  done
}

cmd_load() {
  (($#)) || die "usage: $0 load <image>..."
  if [[ -n "${MLOPS_KUBE_CONTEXT:-}" || "$NODE_MODE" != real ]]; then
    log "no real nodes of ours (MLOPS_KUBE_CONTEXT or MLOPS_NODES=kwok): nothing to load"
  else
    load_images "$@"
  fi
}

main() {
  read_node_table
  check_options
  set_components
  case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    kubeconfig) cmd_kubeconfig ;;
    logs) cmd_logs ;;
    footprint) node_footprint ;;
    nodes) print_nodes ;;
    socket)
      [[ " ${NODES[*]} " == *" ${2:-} "* ]] || die "usage: $0 socket <node> (one of: ${NODES[*]})"
      node_socket "$2"
      ;;
    load) shift; cmd_load "$@" ;;
    *) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" >&2; exit 2 ;;
  esac
}

main "$@"
