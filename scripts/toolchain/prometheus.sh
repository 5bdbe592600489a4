#!/usr/bin/env bash
# Builds promtool and the Prometheus server from source through the Go module proxy, at the
# version scripts/toolchain/prometheus/go.mod pins (a tools module with a complete go.sum).
#
# usage: scripts/toolchain/prometheus.sh [--check] [--print-bin-dir] [all|promtool|prometheus]...
#   --check          build nothing; report what is cached (exit 1 if something asked is missing)
#   --print-bin-dir  print only the bin directory (for scripts and tests), build nothing
#   promtool         `promtool check rules` / `promtool test rules` (npm test uses it)
#   prometheus       the server, for the real-pod e2e suite; built without the web UI's assets
#                    (they are a Node build of their own): its HTTP API works, its UI pages do not
#
# Idempotent: cached by version under
#   ${MLOPS_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/toolchain}/prometheus-v<version>/bin
# and a warm cache rebuilds nothing. A cold promtool build takes minutes (see docs/monitoring.md).
set -euo pipefail

# shellcheck source=scripts/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROM_GOMOD="$TOOLCHAIN_DIR/prometheus/go.mod"
PROM_MODULE_VERSION="$(gomod_version "$PROM_GOMOD" github.com/prometheus/prometheus)"
[[ "$PROM_MODULE_VERSION" =~ ^v0\.([0-9]+)\.([0-9]+)$ ]] ||
  die "scripts/toolchain/prometheus/go.mod pins github.com/prometheus/prometheus '$PROM_MODULE_VERSION'; expected v0.<3MM>.<patch>"
# Prometheus 3.x releases are tagged v0.3MM.P for the Go module: v0.316.0 is Prometheus 3.16.0.
minor="${BASH_REMATCH[1]}"
((minor >= 300)) || die "Prometheus module $PROM_MODULE_VERSION predates 3.0; pin a 3.x release"
PROM_VERSION="3.$((minor - 300)).${BASH_REMATCH[2]}"
PROM_BIN_DIR="$TOOLCHAIN_CACHE/prometheus-v$PROM_VERSION/bin"

CHECK_ONLY=0
wanted=()
parse_args() {
  local arg t targets=()
  for arg in "$@"; do
    case "$arg" in
      --check) CHECK_ONLY=1 ;;
      --print-bin-dir) printf '%s\n' "$PROM_BIN_DIR"; exit 0 ;;
      all | promtool | prometheus) targets+=("$arg") ;;
      -h | --help) sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown argument '$arg' (expected --check, --print-bin-dir, all, promtool or prometheus)" ;;
    esac
  done
  [[ ${#targets[@]} -gt 0 ]] || targets=(all)
  for t in "${targets[@]}"; do
    case "$t" in
      all) wanted+=(promtool prometheus) ;;
      *) wanted+=("$t") ;;
    esac
  done
}

cached() { [[ -x "$PROM_BIN_DIR/$1" ]]; }

# build <binary>: one of Prometheus's commands, into the cache.
build() {
  local bin="$1" start=$SECONDS ld="-s -w" kv
  # The same version stamp as the release binaries (`promtool --version`).
  for kv in "Version=$PROM_VERSION" "Branch=HEAD" "BuildUser=mlops-platform" "Revision=$PROM_MODULE_VERSION"; do
    ld+=" -X github.com/prometheus/common/version.$kv"
  done
  log "building $bin v$PROM_VERSION ($PROM_MODULE_VERSION; first build only, minutes) ..."
  mkdir -p "$PROM_BIN_DIR"
  # Only the Kubernetes service discovery (what the rendered scrape config uses): Prometheus's
  # build tags leave out the cloud SDKs of every other mechanism, which dominate a cold build.
  (cd "$TOOLCHAIN_DIR/prometheus" &&
    go build -trimpath -tags remove_all_sd,enable_kubernetes_sd -ldflags "$ld" \
      -o "$PROM_BIN_DIR/$bin.tmp" "github.com/prometheus/prometheus/cmd/$bin")
  mv "$PROM_BIN_DIR/$bin.tmp" "$PROM_BIN_DIR/$bin"
  log "built   $bin in $((SECONDS - start))s: $PROM_BIN_DIR/$bin"
}

main() {
  local bin missing=()
  parse_args "$@"
  for bin in "${wanted[@]}"; do
    if cached "$bin"; then
      log "cached  $bin: $("$PROM_BIN_DIR/$bin" --version 2>&1 | head -n 1)"
    else
      missing+=("$bin")
    fi
  done
  ((${#missing[@]})) || return 0
  if ((CHECK_ONLY)); then
    log "not built yet: ${missing[*]} (run scripts/toolchain/prometheus.sh ${missing[*]})"
    exit 1
  fi

  command -v go >/dev/null || die "go is required (Go >= 1.26) to build promtool and prometheus"
  mkdir -p "$TOOLCHAIN_CACHE"
  # One build per cache at a time (a second caller waits, then finds the binaries cached).
  if command -v flock >/dev/null; then
    exec 9>"$TOOLCHAIN_CACHE/.prometheus.lock"
    flock -n 9 || { log "another prometheus build is using $TOOLCHAIN_CACHE; waiting ..."; flock 9; }
  fi
  for bin in "${missing[@]}"; do
    cached "$bin" && continue # built by the run we waited for
    build "$bin"
  done
}

main "$@"
