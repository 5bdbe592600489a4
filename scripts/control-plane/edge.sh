# shellcheck shell=bash
# The local cluster's edge, for scripts/control-plane.sh with real nodes (sourced after node.sh;
# uses its helpers and variables). Three parts, started after the nodes and stopped before them:
#
#   apiserver-bridge  pods reach the API server as in any cluster, through the `kubernetes`
#                     Service (in-cluster config): the API server listens on loopback only, so a
#                     forwarder (Debian's socat) listens on the app node's bridge address and the
#                     Service's EndpointSlice names it. Traefik's Gateway provider needs it.
#   netpol            NetworkPolicies enforced: kube-network-policies' controller
#                     (scripts/toolchain/netpol) decides the first packet of every new connection
#                     from or to a pod, by the NetworkPolicies of both ends; iptables hands it
#                     those packets (chains MLOPS-NETPOL*, NFQUEUE $NETPOL_QUEUE). Root's own
#                     connections from the host (the kubelets' probes, kube-proxy, this script)
#                     pass, as the controller's own rules let them. No engine running: the
#                     queue has no reader and new pod connections are dropped (fail closed).
#   traefik           the Gateway API data plane (scripts/control-plane/traefik.yaml): a pod on
#                     the app node in namespace traefik, GatewayClass `traefik`, its entry points
#                     on 127.0.0.1:80 and :443 (hostPorts).

APISERVER_BRIDGE_PORT="${MLOPS_APISERVER_BRIDGE_PORT:-6443}"
NETPOL_METRICS_PORT="${MLOPS_NETPOL_METRICS_PORT:-16295}"
NETPOL_QUEUE=100
NETPOL_CHAINS=(MLOPS-NETPOL MLOPS-NETPOL-OUT)
EDGE_COMPONENTS=(apiserver-bridge netpol)

# --- the API server for pods ---------------------------------------------------------------

start_apiserver_bridge() {
  command -v socat >/dev/null || die "socat is missing: run scripts/node/install.sh"
  local addr
  addr="$(node_ip "$APP_NODE")"
  # The component's name leads its command line (what `running` looks for).
  # shellcheck disable=SC2016 # the inner shell expands "$@"
  launch apiserver-bridge bash -c 'exec -a apiserver-bridge socat "$@"' socat \
    "TCP-LISTEN:$APISERVER_BRIDGE_PORT,bind=$addr,fork,reuseaddr" "TCP:$HOST:$APISERVER_PORT"
  alive_or_die apiserver-bridge
  # The API server keeps no endpoints of its own here (--endpoint-reconciler-type none).
  kc apply -f - >/dev/null <<EOF
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: kubernetes
  namespace: default
  labels:
    kubernetes.io/service-name: kubernetes
    endpointslice.kubernetes.io/managed-by: control-plane.mlops-platform
addressType: IPv4
endpoints:
  - addresses: ["$addr"]
    conditions: { ready: true }
ports:
  - { name: https, port: $APISERVER_BRIDGE_PORT, protocol: TCP }
EOF
}

# --- NetworkPolicy enforcement ---------------------------------------------------------------

# netpol_rules: MLOPS-NETPOL queues a new connection's packet that a pod sends or receives
# (established ones and DNS over UDP pass); MLOPS-NETPOL-OUT lets the host's root processes
# through first. Hooked where kube-network-policies hooks: after routing (POSTROUTING, before
# SNAT), and for pods' connections to the host itself (INPUT).
netpol_rules() {
  local c
  netpol_remove_rules
  for c in "${NETPOL_CHAINS[@]}"; do iptables -t mangle -N "$c"; done
  iptables -t mangle -A MLOPS-NETPOL -m conntrack --ctstate ESTABLISHED,RELATED -j RETURN
  iptables -t mangle -A MLOPS-NETPOL -p udp --dport 53 -j RETURN
  iptables -t mangle -A MLOPS-NETPOL -s "$POD_CIDR" -j NFQUEUE --queue-num "$NETPOL_QUEUE"
  iptables -t mangle -A MLOPS-NETPOL -d "$POD_CIDR" -j NFQUEUE --queue-num "$NETPOL_QUEUE"
  iptables -t mangle -A MLOPS-NETPOL-OUT -m owner --uid-owner 0 -j RETURN
  iptables -t mangle -A MLOPS-NETPOL-OUT -j MLOPS-NETPOL
  iptables -t mangle -I POSTROUTING -j MLOPS-NETPOL-OUT
  iptables -t mangle -I INPUT -j MLOPS-NETPOL
}

netpol_remove_rules() {
  local c
  while iptables -t mangle -D POSTROUTING -j MLOPS-NETPOL-OUT 2>/dev/null; do :; done
  while iptables -t mangle -D INPUT -j MLOPS-NETPOL 2>/dev/null; do :; done
  for c in "${NETPOL_CHAINS[@]}"; do iptables -t mangle -F "$c" 2>/dev/null || true; done
  for c in "${NETPOL_CHAINS[@]}"; do iptables -t mangle -X "$c" 2>/dev/null || true; done
}

start_netpol() {
  [[ -e /proc/net/netfilter/nfnetlink_queue ]] ||
    die "the kernel has no nfnetlink queue (CONFIG_NETFILTER_NETLINK_QUEUE): NetworkPolicies cannot be enforced here"
  kc apply -f - >/dev/null <<'EOF'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: "mlops:netpol" }
rules:
  - apiGroups: [""]
    resources: [pods, namespaces]
    verbs: [list, watch]
  - apiGroups: [networking.k8s.io]
    resources: [networkpolicies]
    verbs: [list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: "mlops:netpol" }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "mlops:netpol" }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: "mlops:netpol" }]
EOF
  require_free_port netpol "$NETPOL_METRICS_PORT"
  # The reader first, then the rules: no window in which new connections are queued unread.
  launch netpol "$(bin netpol)" --kubeconfig "$STATE/netpol.kubeconfig" --node-name "$APP_NODE" \
    --nfqueue-id "$NETPOL_QUEUE" --metrics-bind-address "$HOST:$NETPOL_METRICS_PORT"
  wait_for "the NetworkPolicy engine's metrics on $HOST:$NETPOL_METRICS_PORT" http_ok "$NETPOL_METRICS_PORT" /metrics
  alive_or_die netpol
  netpol_rules
}

# --- the Gateway data plane ---------------------------------------------------------------------

traefik_class_accepted() {
  [[ "$(kc get gatewayclass traefik -o jsonpath='{.status.conditions[?(@.type=="Accepted")].status}')" == True ]]
}

ensure_traefik() {
  bash "$SCRIPTS_DIR/node/images.sh" traefik
  load_images "$TRAEFIK_IMAGE"
  sed -e "s|\${TRAEFIK_IMAGE}|$TRAEFIK_IMAGE|g" -e "s|\${TRAEFIK_NODE}|$APP_NODE|g" \
    "$SCRIPTS_DIR/control-plane/traefik.yaml" | kc apply -f - >/dev/null
  wait_for "Traefik to be ready (namespace traefik)" kc -n traefik rollout status deployment/traefik --timeout=5s
  wait_for "GatewayClass traefik to be Accepted" traefik_class_accepted
}

# --- start / stop ---------------------------------------------------------------------------------

start_edge() {
  running apiserver-bridge || start_apiserver_bridge
  running netpol || start_netpol
  ensure_traefik
}

stop_edge() {
  stop_group "${EDGE_COMPONENTS[@]}"
  netpol_remove_rules
}

# edge_footprint: what of the edge is left on this machine (nothing when clean).
edge_footprint() {
  local chain
  for chain in $(iptables-save -t mangle 2>/dev/null | awk '/^:MLOPS-NETPOL/ { print substr($1, 2) }'); do
    echo "iptables chain $chain"
  done
}
