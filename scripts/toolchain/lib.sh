# shellcheck shell=bash
# Shared definitions for the project's scripts: the log/die helpers (the scripts under scripts/ and
# .ci/run source this file for them), and for scripts/toolchain/*.sh versions and cache layout.
# Sourced, never executed. Everything version-related is derived from the repo:
#   - Pulumi CLI + Node language host: @pulumi/pulumi in package-lock.json
#   - Kubernetes provider plugin:      @pulumi/kubernetes in package-lock.json
#   - Kubernetes + etcd:               scripts/toolchain/kubernetes/go.mod
#   - kwok:                            KWOK_VERSION below
#   - Karpenter (kwok provider):       KARPENTER_VERSION below
#   - CoreDNS (the real nodes' DNS):   scripts/toolchain/coredns/go.mod
#   - Traefik (the Gateway data plane): TRAEFIK_VERSION below
#   - NetworkPolicy engine:            scripts/toolchain/netpol/go.mod (kube-network-policies)

# shellcheck disable=SC2034 # variables are used by the scripts that source this file
TOOLCHAIN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$TOOLCHAIN_DIR/../.." && pwd)"

KWOK_VERSION="v0.8.0"
# Karpenter's kwok cloud provider (module sigs.k8s.io/karpenter, package ./kwok): a real node
# autoscaler for the local cluster. Its go.mod needs Go >= 1.26.9, newer than the installed Go:
# the go command fetches that toolchain as the module golang.org/x/toolchain@v0.0.1-go1.26.9.
KARPENTER_VERSION="v1.15.0"
# Traefik, the local cluster's Gateway API data plane (scripts/control-plane/traefik.yaml).
TRAEFIK_VERSION="v3.7.13"
KARPENTER_GOTOOLCHAIN="go1.26.9+auto"

TOOLCHAIN_CACHE="${MLOPS_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/toolchain}"
# The real nodes' sandbox image (containerd's sandbox_image): built from scripts/node/pause by
# scripts/node/images.sh pause, set by scripts/control-plane/node.sh.
PAUSE_IMAGE=localhost/mlops-pause:1

# log <message>, die <message> (exit 1), usage_error <message> (exit 2): one line on stderr,
# "[<LOG_TAG>] ..." ("[<LOG_TAG>] ERROR: ..." for the last two). A script sets its own LOG_TAG
# after sourcing this file; what fails while it is sourced is the toolchain's.
LOG_TAG=toolchain
log() { printf '[%s] %s\n' "$LOG_TAG" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage_error() { log "ERROR: $*"; exit 2; }

# apt_install <package>...: installs Debian packages with apt-get (as root; a fresh machine may
# have no package lists yet, so they are updated first), quietly, waiting for a held dpkg lock.
apt_install() {
  local start=$SECONDS
  command -v apt-get >/dev/null || die "apt-get is missing: install $* with this system's package manager"
  ((EUID == 0)) || die "installing $* needs root: run as root, or install them yourself: sudo apt-get update && sudo apt-get install -y $*"
  log "installing $* (first run only) ..."
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq update >/dev/null ||
    die "apt-get update failed (see above)"
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -qq install -y --no-install-recommends "$@" >/dev/null ||
    die "apt-get install $* failed (see above)"
  log "installed $* in $((SECONDS - start))s"
}

# require_free_space <dir> <MiB> <what needs it> [<percent>]: the filesystem holding <dir> (or its
# nearest existing parent) has at least <MiB> free, plus <percent> of its size when given, or die
# naming the filesystem, both figures and what needs the space.
require_free_space() {
  local dir="$1" need="$2" what="$3" percent="${4:-0}" size avail
  while [[ ! -e "$dir" ]]; do dir="$(dirname "$dir")"; done
  read -r size avail < <(df -Pm "$dir" | awk 'NR == 2 { print $2, $4 }')
  [[ "$size" =~ ^[0-9]+$ && "$avail" =~ ^[0-9]+$ ]] || die "could not read the free space of $dir (df -Pm)"
  need=$((need + size * percent / 100))
  ((avail >= need)) ||
    die "$what needs ${need} MiB free on the filesystem of $dir; it has ${avail} MiB: free space there, or point MLOPS_STATE_DIR at another filesystem"
}

# lock_version <npm package>: the version package-lock.json pins for it.
lock_version() {
  command -v node >/dev/null || die "Node.js 20+ is required (the scripts read versions from package-lock.json with it)"
  node -p "(require(process.argv[1]).packages['node_modules/' + process.argv[2]] || {}).version || ''" \
    "$REPO_ROOT/package-lock.json" "$1"
}

# gomod_dir <output of `go mod download -json`>: the module's directory in the module cache, or ""
# when the output is an error instead.
gomod_dir() {
  node -p 'try { JSON.parse(process.argv[1]).Dir || "" } catch { "" }' "$1"
}

# gomod_version <go.mod> <module>: the version a go.mod requires for a module.
gomod_version() {
  awk -v m="$2" '($1 == m || ($1 == "require" && $2 == m)) { print ($1 == m ? $2 : $3); exit }' "$1"
}

PULUMI_VERSION="$(lock_version @pulumi/pulumi)"
K8S_PROVIDER_VERSION="$(lock_version @pulumi/kubernetes)"
[[ -n "$PULUMI_VERSION" ]] || die "package-lock.json pins no @pulumi/pulumi"
[[ -n "$K8S_PROVIDER_VERSION" ]] || die "package-lock.json pins no @pulumi/kubernetes"
KUBE_VERSION="$(gomod_version "$TOOLCHAIN_DIR/kubernetes/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(gomod_version "$TOOLCHAIN_DIR/kubernetes/go.mod" go.etcd.io/etcd/server/v3)"
COREDNS_VERSION="$(gomod_version "$TOOLCHAIN_DIR/coredns/go.mod" github.com/coredns/coredns)"

# Cache layout: one directory per version key; a warm key is never rebuilt.
PULUMI_BIN_DIR="$TOOLCHAIN_CACHE/pulumi-v$PULUMI_VERSION/bin"
KUBE_BIN_DIR="$TOOLCHAIN_CACHE/kubernetes-$KUBE_VERSION-etcd-$ETCD_VERSION/bin"
KWOK_BIN_DIR="$TOOLCHAIN_CACHE/kwok-$KWOK_VERSION/bin"
# bin/karpenter-kwok, crds/ (NodePool, NodeClaim, NodeOverlay, KWOKNodeClass), VERSION
KARPENTER_DIR="$TOOLCHAIN_CACHE/karpenter-$KARPENTER_VERSION"
KARPENTER_BIN_DIR="$KARPENTER_DIR/bin"
COREDNS_BIN_DIR="$TOOLCHAIN_CACHE/coredns-$COREDNS_VERSION/bin"
TRAEFIK_BIN_DIR="$TOOLCHAIN_CACHE/traefik-$TRAEFIK_VERSION/bin"
TRAEFIK_IMAGE="localhost/mlops-traefik:$TRAEFIK_VERSION"
# The NetworkPolicy engine: kube-network-policies' controller (scripts/toolchain/netpol/go.mod).
NETPOL_VERSION="$(gomod_version "$TOOLCHAIN_DIR/netpol/go.mod" sigs.k8s.io/kube-network-policies)"
NETPOL_BIN_DIR="$TOOLCHAIN_CACHE/netpol-$NETPOL_VERSION/bin"
BUILD_DIR="$TOOLCHAIN_CACHE/build"
# PULUMI_HOME lives in the cache, so the air-gapped toolchain never touches ~/.pulumi.
TOOLCHAIN_PULUMI_HOME="$TOOLCHAIN_CACHE/pulumi-home"
K8S_PLUGIN_DIR="$TOOLCHAIN_PULUMI_HOME/plugins/resource-kubernetes-v$K8S_PROVIDER_VERSION"
# Go module version of each Kubernetes provider release: its provider/v4 module has
# no tags, so this is the pseudo-version of the commit tagged v<version> in
# github.com/pulumi/pulumi-kubernetes (see build_k8s_provider in build.sh).
declare -A K8S_PROVIDER_MODULE_VERSIONS=(
  # The commit tagged v4.25.0 (2026-01-15 03:34:56 UTC). @pulumi/kubernetes is pinned to a
  # release whose provider the module proxy reachable here serves.
  [4.25.0]=v4.0.0-20260115033456-f47bc2d6f199
)
# Our policy-pack analyzer (used when no Node language host is available).
ANALYZER_PLUGIN_DIR="$TOOLCHAIN_PULUMI_HOME/plugins/analyzer-policy-nodejs-v$PULUMI_VERSION"

# The checksum database has no records for some Pulumi releases the module proxy
# serves (lookups answer 404). go.sum of our tools modules still pins every hash
# of what they build; only the two modules built outside them (language host,
# provider) rely on the proxy alone.
case ",${GONOSUMDB:-}," in
  *,github.com/pulumi,*) ;;
  *) export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi" ;;
esac
