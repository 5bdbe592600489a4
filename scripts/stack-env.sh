# shellcheck shell=bash
# Shared by scripts/up.sh and scripts/down.sh (sourced): the toolchain, the cluster and the
# Pulumi backend the `local` stack is deployed with.
#
#   MLOPS_KUBE_CONTEXT  a kube context to deploy to (kind-kind, minikube, docker-desktop...).
#                       Unset: the local control plane of scripts/control-plane.sh is started
#                       and used. Explicit on purpose: `npm run up` never deploys to whatever
#                       context happens to be current.
#   MLOPS_NODES         real (default): the local cluster's nodes run containers; kwok: API only
#   MLOPS_STACK         the stack. Default: local
#   PULUMI_BACKEND_URL  default: a file backend under ~/.cache/mlops-platform/state (no account)
#   PULUMI_CONFIG_PASSPHRASE  default for the local file backend only: "local-dev-only"

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/toolchain/lib.sh
source "$SCRIPTS_DIR/toolchain/lib.sh"
LOG_TAG="$(basename "$0" .sh)"
# shellcheck disable=SC2034 # used by the scripts that source this file
STACK="${MLOPS_STACK:-local}"
STATE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform"

# shellcheck source=scripts/stack-config.sh
source "$SCRIPTS_DIR/stack-config.sh"

[[ -d "$REPO_ROOT/node_modules/@pulumi/pulumi" ]] || die "dependencies are missing: run npm ci first"

# What the local cluster needs besides Kubernetes: CoreDNS, Traefik (the Gateway data plane) and
# the NetworkPolicy engine for real nodes, kwok for fake ones.
node_tools=()
case "${MLOPS_NODES:-real}" in
  real) node_tools=(coredns traefik netpol) ;;
  kwok) node_tools=(kwok) ;;
  *) die "MLOPS_NODES: got \"$MLOPS_NODES\"; allowed: real (containers run), kwok (API only)" ;;
esac
toolchain_targets=()
[[ -n "${MLOPS_KUBE_CONTEXT:-}" ]] || toolchain_targets+=(kubernetes "${node_tools[@]}")
# The Pulumi CLI: an installed one when present, else the one built from source (cached).
if [[ "${MLOPS_TOOLCHAIN:-auto}" != build ]] && command -v pulumi >/dev/null; then
  log "using the installed pulumi CLI ($(command -v pulumi))"
else
  command -v go >/dev/null || die "no pulumi CLI on PATH and no Go to build one: install either"
  log "no pulumi CLI on PATH: using the one built from source (the first build takes long; later runs are cached)"
  toolchain_targets+=(pulumi)
fi
((${#toolchain_targets[@]} == 0)) || "$SCRIPTS_DIR/toolchain/build.sh" "${toolchain_targets[@]}" >&2
# shellcheck source=scripts/toolchain/env.sh
source "$SCRIPTS_DIR/toolchain/env.sh"

export PULUMI_SKIP_UPDATE_CHECK=true
if [[ -z "${PULUMI_BACKEND_URL:-}" ]]; then
  mkdir -p "$STATE_ROOT/state"
  export PULUMI_BACKEND_URL="file://$STATE_ROOT/state"
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-local-dev-only}"
fi
log "Pulumi backend: $PULUMI_BACKEND_URL"

# use_cluster: export KUBECONFIG for the provider. With MLOPS_KUBE_CONTEXT, a minified kubeconfig
# of just that context (so nothing is written into the stack file); else the local control plane,
# started if it is not running.
use_cluster() {
  if [[ -n "${MLOPS_KUBE_CONTEXT:-}" ]]; then
    command -v kubectl >/dev/null || die "MLOPS_KUBE_CONTEXT needs kubectl to read the context"
    local file="$STATE_ROOT/kubeconfig-$MLOPS_KUBE_CONTEXT"
    mkdir -p "$STATE_ROOT"
    (umask 077 && kubectl config view --minify --flatten --context "$MLOPS_KUBE_CONTEXT" >"$file") ||
      die "no kube context $MLOPS_KUBE_CONTEXT (kubectl config get-contexts lists them)"
    export KUBECONFIG="$file"
    log "kube context $MLOPS_KUBE_CONTEXT"
    # The stack routes with the Gateway API unless mlops:ingress.api is ingress: its CRDs come
    # with a Gateway API implementation (docs/traffic.md), not with this program.
    if [[ "$(stack_config_value "$REPO_ROOT" "$STACK" ingress.api 2>/dev/null || true)" != ingress ]] &&
      ! kubectl get crd httproutes.gateway.networking.k8s.io >/dev/null 2>&1; then
      die "context $MLOPS_KUBE_CONTEXT has no Gateway API CRDs (httproutes.gateway.networking.k8s.io): install a Gateway API implementation (docs/traffic.md), or set mlops:ingress.api: ingress in Pulumi.$STACK.yaml"
    fi
  else
    "$SCRIPTS_DIR/control-plane.sh" start >&2
    KUBECONFIG="$("$SCRIPTS_DIR/control-plane.sh" kubeconfig)"
    export KUBECONFIG
    log "local control plane (KUBECONFIG=$KUBECONFIG)"
  fi
}
