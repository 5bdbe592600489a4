# shellcheck shell=bash
# Real nodes for scripts/control-plane.sh (sourced by it; uses its helpers and variables).
#
# The nodes of scripts/control-plane/nodes.tsv (read by node-table.sh, which derives each one's
# bridge, pod subnet, node IP, labels and taints), each a kubelet with a containerd of its own (so
# neither kubelet takes the other's containers for orphans), runc, and a CNI bridge; plus one
# kube-proxy (iptables mode; NodePorts on 127.0.0.1) and CoreDNS (cluster.local, served on every
# bridge's address). Pods get routes to the pod and service ranges only: no default
# route, so nothing a pod sends leaves this machine. Every process, container, mount, interface,
# iptables chain, cgroup and sysctl that start creates, stop removes or restores.

NODE_STATE="$STATE/nodes"
POD_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16
CLUSTER_DOMAIN=cluster.local
KUBE_PROXY_HEALTHZ_PORT="${MLOPS_KUBE_PROXY_HEALTHZ_PORT:-16256}"
KUBE_PROXY_METRICS_PORT="${MLOPS_KUBE_PROXY_METRICS_PORT:-16249}"
COREDNS_HEALTH_PORT="${MLOPS_COREDNS_HEALTH_PORT:-16280}"
COREDNS_READY_PORT="${MLOPS_COREDNS_READY_PORT:-16281}"
# The sysctls the nodes need; their values before start are restored by stop.
NODE_SYSCTLS=(net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.ipv4.conf.all.route_localnet=1)

node_dir() { echo "$NODE_STATE/$1"; }
# containerd's sockets and the kubelets' root dirs live in a short directory of their own: a unix
# socket path may not exceed 104 characters (108 for the kubelet's), and the state directory can be
# long (a long HOME). One per state directory.
NODE_RUN_DIR="/run/mlops-platform/$(printf '%s' "$STATE" | sha256sum | cut -c1-12)"
node_socket() { echo "$NODE_RUN_DIR/$(node_index "$1")/containerd.sock"; }
# The kubelet's root dir holds sockets too (pod-resources, plugin registration): also short.
node_root_dir() { echo "$NODE_RUN_DIR/$(node_index "$1")/kubelet"; }
node_components() {
  local n
  for n in "${NODES[@]}"; do printf 'containerd@%s kubelet@%s ' "$n" "$n"; done
  printf 'kube-proxy coredns %s\n' "${EDGE_COMPONENTS[*]}"
}

ctr_of() { ctr --address "$(node_socket "$1")" -n k8s.io "${@:2}"; }

# http_ok <port> <path>: a GET on 127.0.0.1 answers 200 (bash only; no curl needed).
http_ok() {
  local status
  exec 3<>"/dev/tcp/$HOST/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$2" "$HOST" >&3
  IFS= read -r -t 5 status <&3 || status=""
  exec 3<&-
  [[ "$status" == "HTTP/1."?" 200"* ]]
}

# --- host prerequisites --------------------------------------------------------------

node_prerequisites() {
  ((EUID == 0)) || die "real nodes run containers: run as root (or use kwok: MLOPS_NODES=kwok, API only; or a kind cluster: MLOPS_KUBE_CONTEXT)"
  bash "$SCRIPTS_DIR/node/install.sh"
  local b
  for b in kubelet kube-proxy coredns; do bin "$b" >/dev/null; done
  node_disk_space
  [[ -d /proc/sys/net/bridge ]] ||
    die "the kernel has no bridge netfilter (/proc/sys/net/bridge): load br_netfilter (modprobe br_netfilter)"
  bash "$SCRIPTS_DIR/node/images.sh" pause
}

# The nodes' containerd roots (the side-loaded images, the containers' layers) are in the state
# directory. Below the kubelets' eviction threshold (nodefs.available 1%, write_kubelet_config)
# they taint their nodes and delete unused images, which nothing can pull again here: pods then
# stay Pending or fail to start their sandbox. So start only with what a run writes
# (MLOPS_NODE_FREE_MIB, 4 GiB: the nodes hold about 1.5 GiB after the e2e suite) above 1% of the
# filesystem.
node_disk_space() {
  local free="${MLOPS_NODE_FREE_MIB:-4096}"
  [[ "$free" =~ ^[0-9]+$ ]] || usage_error "MLOPS_NODE_FREE_MIB must be a whole number of MiB; got '$free'"
  require_free_space "$NODE_STATE" "$free" \
    "the real nodes (what a run writes, $free MiB, above the kubelets' eviction threshold, 1% of the filesystem)" 1
}

# The sysctls: remember each value once (the first start), then set.
node_sysctls() {
  local kv key saved="$NODE_STATE/sysctl.orig"
  mkdir -p "$NODE_STATE"
  if [[ ! -f "$saved" ]]; then
    for kv in "${NODE_SYSCTLS[@]}"; do
      key="${kv%%=*}"
      echo "$key=$(cat "/proc/sys/${key//.//}")"
    done >"$saved.tmp"
    mv "$saved.tmp" "$saved"
  fi
  for kv in "${NODE_SYSCTLS[@]}"; do
    key="${kv%%=*}"
    echo "${kv#*=}" >"/proc/sys/${key//.//}"
  done
}

node_restore_sysctls() {
  local saved="$NODE_STATE/sysctl.orig" kv key
  [[ -f "$saved" ]] || return 0
  while IFS= read -r kv; do
    key="${kv%%=*}"
    [[ -z "$key" ]] || echo "${kv#*=}" >"/proc/sys/${key//.//}" 2>/dev/null || true
  done <"$saved"
  rm -f "$saved"
}

# The bridges (made here, not by the CNI plugin, so the node IP exists before the kubelet starts)
# and the service range's route: the host reaches ClusterIPs through kube-proxy's DNAT; a packet
# to a ClusterIP that nothing translates goes to the bridge, never to the default route.
node_network() {
  local n br
  # One cluster with real nodes per machine: the bridges, the pod and service ranges and
  # kube-proxy's iptables chains are the machine's, not a state directory's.
  if [[ ! -f "$NODE_STATE/network.owned" ]] && ip link show "$(node_bridge "$APP_NODE")" >/dev/null 2>&1; then
    die "bridge $(node_bridge "$APP_NODE") exists but was not made from $STATE: another local cluster with real nodes is running (npm run down, or scripts/control-plane.sh stop with its MLOPS_STATE_DIR, stops it)"
  fi
  : >"$NODE_STATE/network.owned"
  for n in "${NODES[@]}"; do
    br="$(node_bridge "$n")"
    if ! ip link show "$br" >/dev/null 2>&1; then
      ip link add "$br" type bridge
      ip addr add "$(node_ip "$n")/24" dev "$br"
    fi
    ip link set "$br" up
  done
  ip route replace "$SERVICE_CIDR" dev "$(node_bridge "$APP_NODE")" src "$(node_ip "$APP_NODE")"
}

node_remove_network() {
  local n br
  ip route del "$SERVICE_CIDR" 2>/dev/null || true
  for n in "${NODES[@]}"; do
    br="$(node_bridge "$n")"
    ip link show "$br" >/dev/null 2>&1 && ip link del "$br"
  done
  rm -f "$NODE_STATE/network.owned"
}

# --- containerd --------------------------------------------------------------------------

write_containerd_config() {
  local n="$1" dir
  dir="$(node_dir "$n")"
  mkdir -p "$dir/containerd" "$dir/cni/net.d" "$dir/cni/ipam"
  cat >"$dir/containerd/config.toml" <<EOF
# containerd of node $n (written by scripts/control-plane/node.sh)
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
# The opt plugin would install into /opt/containerd; nothing here uses it.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$(node_socket "$n")"

[plugins."io.containerd.grpc.v1.cri"]
  # No registry is reachable: the pause image is built and imported by scripts/node/images.sh.
  sandbox_image = "$PAUSE_IMAGE"
  # The VM withholds CAP_SYS_RESOURCE even from root: without this every sandbox fails to start.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
    max_conf_num = 1
EOF
  # Pods: an address on the node's bridge, routes to the pod and service ranges only.
  cat >"$dir/cni/net.d/10-mlops.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "mlops-$n",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$(node_bridge "$n")",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/cni/ipam",
        "ranges": [[{ "subnet": "$(node_subnet "$n")", "gateway": "$(node_ip "$n")" }]],
        "routes": [{ "dst": "$POD_CIDR" }, { "dst": "$SERVICE_CIDR" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true }, "snat": true }
  ]
}
EOF
}

start_containerd() {
  local n="$1" sock
  sock="$(node_socket "$n")"
  write_containerd_config "$n"
  mkdir -p "$(dirname "$sock")"
  rm -f "$sock"
  launch "containerd@$n" containerd --config "$(node_dir "$n")/containerd/config.toml"
  wait_for "containerd of $n ($sock)" ctr --address "$sock" version
  alive_or_die "containerd@$n"
  bash "$SCRIPTS_DIR/node/images.sh" import "$sock" -- "$PAUSE_IMAGE"
}

# --- kubelet -------------------------------------------------------------------------------

write_kubelet_config() {
  local n="$1" dir
  dir="$(node_dir "$n")"
  mkdir -p "$dir/kubelet"
  # ClusterFirst pods get the cluster DNS and nothing of the host's resolver.
  : >"$dir/kubelet/resolv.conf"
  cat >"$dir/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $(node_ip "$n")
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $(node_healthz_port "$n")
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$(node_socket "$n")
imageServiceEndpoint: unix://$(node_socket "$n")
# This machine's cgroups are a v1/v2 hybrid without systemd.
cgroupDriver: cgroupfs
cgroupRoot: /$n
failCgroupV1: false
failSwapOn: false
clusterDNS: [$(node_ip "$n")]
clusterDomain: $CLUSTER_DOMAIN
resolvConf: $dir/kubelet/resolv.conf
# Each kubelet removes the log directories of pods it does not run: two sharing /var/log/pods
# would delete each other's (and the containers would fail to start).
podLogsDir: $dir/kubelet/pod-logs
maxPods: 30
registerWithTaints: $(node_taints_yaml "$n")
# Images cannot be pulled again here (no registry): never collect them, and keep eviction for
# real memory pressure only.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 100Mi, nodefs.available: 1%, imagefs.available: 1% }
serializeImagePulls: false
containerLogMaxSize: 5Mi
# A Secret volume (the inference keys) is refreshed on each pod sync: a new or rotated key
# reaches the pods within this (AKS's kubelet: 1m, the default).
syncFrequency: 10s
EOF
}

# The kubelet's cgroupRoot (/<node>) must exist in every cgroup v1 hierarchy before it starts.
node_cgroups() {
  local n="$1" h
  for h in /sys/fs/cgroup/*/; do
    h="${h%/}"
    [[ -f "$h/cgroup.procs" && "$(basename "$h")" != unified ]] || continue
    mkdir -p "$h/$n"
    if [[ -f "$h/cpuset.cpus" ]]; then
      # A v1 cpuset accepts no task until it has CPUs and memory nodes of its own.
      [[ -n "$(cat "$h/$n/cpuset.cpus")" ]] || cat "$h/cpuset.cpus" >"$h/$n/cpuset.cpus"
      [[ -n "$(cat "$h/$n/cpuset.mems")" ]] || cat "$h/cpuset.mems" >"$h/$n/cpuset.mems"
    fi
  done
}

start_kubelet() {
  local n="$1" labels="${NODE_LABELS[$1]}"
  write_kubelet_config "$n"
  node_cgroups "$n"
  launch "kubelet@$n" "$(bin kubelet)" \
    --config "$(node_dir "$n")/kubelet/config.yaml" \
    --kubeconfig "$STATE/node-$n.kubeconfig" \
    --root-dir "$(node_root_dir "$n")" --cert-dir "$(node_dir "$n")/kubelet/pki" \
    --hostname-override "$n" --node-ip "$(node_ip "$n")" \
    ${labels:+--node-labels "$labels"} --v 1
  alive_or_die "kubelet@$n"
}

# --- kube-proxy and CoreDNS ------------------------------------------------------------------

start_kube_proxy() {
  local dir="$NODE_STATE/kube-proxy"
  mkdir -p "$dir"
  cat >"$dir/config.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: { kubeconfig: $STATE/kube-proxy.kubeconfig }
hostnameOverride: $APP_NODE
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
clusterCIDR: $POD_CIDR
# NodePorts answer on loopback only.
nodePortAddresses: [127.0.0.0/8]
iptables: { localhostNodePorts: true }
# Leave the machine's conntrack settings alone.
conntrack: { maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
EOF
  require_free_port kube-proxy "$KUBE_PROXY_HEALTHZ_PORT" "$KUBE_PROXY_METRICS_PORT"
  launch kube-proxy "$(bin kube-proxy)" --config "$dir/config.yaml"
  wait_for "kube-proxy healthz on $HOST:$KUBE_PROXY_HEALTHZ_PORT" port_in_use "$KUBE_PROXY_HEALTHZ_PORT"
  alive_or_die kube-proxy
}

start_coredns() {
  local dir="$NODE_STATE/coredns" addrs="" n
  mkdir -p "$dir"
  for n in "${NODES[@]}"; do addrs+=" $(node_ip "$n")"; done
  cat >"$dir/Corefile" <<EOF
# The local cluster's DNS: cluster.local from the API server, nothing else (pods have no route
# out of this machine, so no other name is forwarded anywhere).
$CLUSTER_DOMAIN:53 in-addr.arpa:53 ip6.arpa:53 {
  bind$addrs
  errors
  health $HOST:$COREDNS_HEALTH_PORT
  ready $HOST:$COREDNS_READY_PORT
  cache 5
  kubernetes $CLUSTER_DOMAIN in-addr.arpa ip6.arpa {
    kubeconfig $STATE/coredns.kubeconfig mlops-local
    pods insecure
  }
}
EOF
  kc apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: "mlops:coredns" }
rules:
  - apiGroups: [""]
    resources: [services, pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [discovery.k8s.io]
    resources: [endpointslices]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "mlops:coredns" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "mlops:coredns" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: "mlops:coredns" }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "mlops:kube-proxy" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:node-proxier" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:kube-proxy" }]
EOF
  require_free_port coredns "$COREDNS_HEALTH_PORT" "$COREDNS_READY_PORT"
  launch coredns "$(bin coredns)" -conf "$dir/Corefile"
  wait_for "CoreDNS ready on $HOST:$COREDNS_READY_PORT" http_ok "$COREDNS_READY_PORT" /ready
  alive_or_die coredns
}

# --- start / stop --------------------------------------------------------------------------

start_nodes() {
  local n
  node_prerequisites
  node_sysctls
  node_network
  for n in "${NODES[@]}"; do
    running "containerd@$n" || start_containerd "$n"
  done
  # RBAC for kube-proxy and CoreDNS before they start.
  running coredns || start_coredns
  running kube-proxy || start_kube_proxy
  for n in "${NODES[@]}"; do
    running "kubelet@$n" || start_kubelet "$n"
  done
  for n in "${NODES[@]}"; do
    wait_for "node $n to become Ready" kc wait --for=condition=Ready "node/$n" --timeout=5s
  done
}

# Containers a stopped kubelet left behind (a pod still running at `stop`): their tasks killed,
# containers deleted (node_remove_netns then removes their sandboxes' network namespaces).
node_remove_containers() {
  local n sock ids id
  for n in "${NODES[@]}"; do
    sock="$(node_socket "$n")"
    [[ -S "$sock" ]] || continue
    running "containerd@$n" || continue
    ids="$(ctr_of "$n" containers ls -q 2>/dev/null || true)"
    [[ -n "$ids" ]] || continue
    log "removing $(wc -w <<<"$ids") container(s) left on $n"
    for id in $ids; do
      ctr_of "$n" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    sleep 1
    for id in $ids; do
      ctr_of "$n" tasks delete -f "$id" >/dev/null 2>&1 || true
      ctr_of "$n" containers delete "$id" >/dev/null 2>&1 || true
    done
  done
}

# Network namespaces the CNI plugin made for sandboxes (they live in /var/run/netns as cni-*),
# only those with an address in one of our nodes' pod subnets.
node_remove_netns() {
  local ns n
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ { print $1 }'); do
    for n in "${NODES[@]}"; do
      if ip -n "$ns" -o addr show 2>/dev/null | grep -q " inet $(node_subnet "$n" | cut -d. -f1-3)\."; then
        ip netns delete "$ns" 2>/dev/null || true
        break
      fi
    done
  done
}

# Every KUBE-* chain (kube-proxy's and the kubelets' canaries and firewall) and CNI-HOSTPORT-* and
# CNI-DN-* chain (the portmap plugin's hostPorts), and the rules of the built-in chains that jump
# to one, in every table, IPv4 and IPv6.
node_remove_iptables() {
  local cmd table rule chain
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in filter nat mangle; do
      while IFS= read -r rule; do
        # A rule as iptables-save prints it: words, with quoted comments.
        eval "\"\$cmd\" -t \"\$table\" -D ${rule#-A }" 2>/dev/null || true
      done < <("$cmd-save" -t "$table" 2>/dev/null | grep -E '^-A [A-Z]+ .*-j (KUBE|CNI-HOSTPORT|CNI-DN)-' | grep -vE '^-A (KUBE|CNI-HOSTPORT|CNI-DN)-')
      for chain in $("$cmd-save" -t "$table" 2>/dev/null | awk '/^:(KUBE|CNI-HOSTPORT|CNI-DN)-/ { print substr($1, 2) }'); do
        "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$cmd-save" -t "$table" 2>/dev/null | awk '/^:(KUBE|CNI-HOSTPORT|CNI-DN)-/ { print substr($1, 2) }'); do
        "$cmd" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

# Every mount under the nodes' state and run dirs (volumes, overlay rootfs, shm), deepest first.
node_unmount_all() {
  local m
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v p="$NODE_STATE/" -v r="$NODE_RUN_DIR/" 'index($2, p) == 1 || index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r)
}

# The kubelets' cgroups (cgroupRoot /<node>), in every hierarchy, deepest first.
node_remove_cgroups() {
  local n d
  for n in "${NODES[@]}"; do
    for d in /sys/fs/cgroup/*/"$n" /sys/fs/cgroup/"$n"; do
      [[ -d "$d" ]] || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  done
}

stop_nodes() {
  local n
  stop_edge
  stop_group coredns
  for n in "${NODES[@]}"; do stop_group "kubelet@$n"; done
  node_remove_containers
  node_remove_netns
  for n in "${NODES[@]}"; do stop_group "containerd@$n"; done
  stop_group kube-proxy
  # kube-proxy's own cleanup of the chains it made, then what is left of the kubelets'.
  if [[ -x "$KUBE_BIN_DIR/kube-proxy" ]]; then
    "$KUBE_BIN_DIR/kube-proxy" --cleanup >/dev/null 2>&1 || true
  fi
  node_remove_iptables
  node_unmount_all
  node_remove_network
  node_remove_cgroups
  node_restore_sysctls
  rm -rf "$NODE_RUN_DIR"
  rmdir /run/mlops-platform 2>/dev/null || true
}

# load_images <image>...: into every node's containerd (the kubelets never pull: no registry).
load_images() {
  local n socks=()
  for n in "${NODES[@]}"; do
    running "containerd@$n" || die "node $n is not running: run $0 start"
    socks+=("$(node_socket "$n")")
  done
  bash "$SCRIPTS_DIR/node/images.sh" import "${socks[@]}" -- "$@"
}

# node_footprint: one line per thing of a real node left on this machine (nothing when clean):
# node processes and container shims, the bridges, sandbox network namespaces, mounts under the
# node state, kube-proxy's iptables chains, the kubelets' cgroups.
node_footprint() {
  local pid cmd n d ns chain
  for pid in $(pgrep -f 'containerd|kubelet|kube-proxy|coredns' 2>/dev/null || true); do
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    case "$cmd" in
      *"$STATE"* | *containerd-shim*"$NODE_STATE"* | *coredns*"$NODE_STATE"*) echo "process $pid: ${cmd:0:160}" ;;
    esac
  done
  for pid in $(pgrep -f containerd-shim-runc-v2 2>/dev/null || true); do
    cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    [[ "$cmd" != *"$NODE_RUN_DIR/"* ]] || echo "container shim $pid: ${cmd:0:160}"
  done
  for n in "${NODES[@]}"; do
    ip link show "$(node_bridge "$n")" >/dev/null 2>&1 && echo "bridge $(node_bridge "$n")"
    for d in /sys/fs/cgroup/*/"$n"; do [[ -d "$d" ]] && echo "cgroup $d"; done
  done
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ { print $1 }'); do
    ip -n "$ns" -o addr show 2>/dev/null | grep -q ' inet 10\.244\.' && echo "netns $ns"
  done
  awk -v p="$NODE_STATE/" -v r="$NODE_RUN_DIR/" 'index($2, p) == 1 || index($2, r) == 1 { print "mount " $2 }' /proc/self/mounts
  for chain in $( (iptables-save; ip6tables-save) 2>/dev/null | awk '/^:(KUBE|CNI-HOSTPORT|CNI-DN)-/ { print substr($1, 2) }' | sort -u); do
    echo "iptables chain $chain"
  done
  edge_footprint
  ip route show "$SERVICE_CIDR" 2>/dev/null | grep -q . && echo "route $SERVICE_CIDR"
  [[ ! -e "$NODE_RUN_DIR" ]] || echo "directory $NODE_RUN_DIR"
  return 0
}
