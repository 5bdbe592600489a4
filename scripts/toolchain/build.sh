#!/usr/bin/env bash
# Builds the air-gapped toolchain from source through the Go module proxy:
#   pulumi CLI + pulumi-language-nodejs (one bin dir), and in our own PULUMI_HOME's
#   plugin cache the Kubernetes provider and pulumi-analyzer-policy-nodejs,
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, kubelet, kube-proxy,
#   etcd, kwok, CoreDNS (with the plugins scripts/toolchain/coredns/main.go imports), Traefik
#   (the local cluster's Gateway API data plane) and netpol (its NetworkPolicy engine,
#   scripts/toolchain/netpol); and, only when named, Karpenter's kwok provider with its CRDs
#   (not part of `all`).
#
# usage: scripts/toolchain/build.sh [--check]
#          [all|pulumi|kubernetes|kwok|coredns|traefik|netpol|karpenter]...
#   --check   build nothing; report what is cached (exit 1 if something is missing)
#
# Idempotent: every artifact is cached by version under
#   ${MLOPS_TOOLCHAIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/toolchain}
# and a warm cache rebuilds nothing. The first build is slow (tens of minutes on
# 2 cores); Go's own module and build caches make later version bumps cheaper.
#
# MLOPS_TOOLCHAIN=auto (default): a `pulumi` already on PATH (outside this cache)
#   is used as is and the Pulumi part is not built (it acquires plugins itself).
# MLOPS_TOOLCHAIN=build: always build and use our own Pulumi toolchain.
set -euo pipefail

# shellcheck source=scripts/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CHECK_ONLY=0
targets=()
parse_args() {
  local arg
  for arg in "$@"; do
    case "$arg" in
      --check) CHECK_ONLY=1 ;;
      all | pulumi | kubernetes | kwok | coredns | traefik | netpol | karpenter) targets+=("$arg") ;;
      -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown argument '$arg' (expected --check, all, pulumi, kubernetes, kwok, coredns, traefik, netpol or karpenter)" ;;
    esac
  done
  [[ ${#targets[@]} -gt 0 ]] || targets=(all)
}
want() { [[ " ${targets[*]} " == *" all "* || " ${targets[*]} " == *" $1 "* ]]; }
# named <target>: asked for by name (a target `all` leaves out).
named() { [[ " ${targets[*]} " == *" $1 "* ]]; }

MISSING=()
FAILED=()

# ready <path> <version command...>: reports a cached binary; false when absent.
ready() {
  local bin="$1"
  shift
  [[ -x "$bin" ]] || return 1
  log "cached  $(basename "$bin"): $("$@" 2>&1 | head -n 1)"
}

# timed <label> <command...>: runs a build step in a subshell (so one failure
# does not stop the others), reports its duration, records a failure.
timed() {
  local label="$1" start=$SECONDS
  shift
  log "building $label (first build only; later runs use the cache) ..."
  # An asynchronous subshell keeps `set -e` in force (it is off inside an `if` condition).
  ("$@") &
  if wait "$!"; then
    log "built   $label in $((SECONDS - start))s"
  else
    log "FAILED  $label after $((SECONDS - start))s (reason above)"
    FAILED+=("$label")
  fi
}

# --- Pulumi CLI, Node language host, policy analyzer --------------------------

pulumi_gomod="$TOOLCHAIN_DIR/pulumi/go.mod"

build_pulumi_cli() {
  local pinned
  pinned="$(gomod_version "$pulumi_gomod" github.com/pulumi/pulumi/pkg/v3)"
  [[ "$pinned" == "v$PULUMI_VERSION" ]] ||
    die "scripts/toolchain/pulumi/go.mod pins pkg/v3 $pinned but package-lock.json has @pulumi/pulumi $PULUMI_VERSION; run: (cd scripts/toolchain/pulumi && go get github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION && go mod tidy)"
  mkdir -p "$PULUMI_BIN_DIR"
  (cd "$TOOLCHAIN_DIR/pulumi" && go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
    -o "$PULUMI_BIN_DIR/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
  mv "$PULUMI_BIN_DIR/pulumi.tmp" "$PULUMI_BIN_DIR/pulumi"
}

# The language host module has no tags: its version is the pseudo-version of
# the commit that carries the pkg/v3 release tag.
langhost_pseudo_version() {
  local json
  json="$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION")" ||
    die "cannot resolve github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION through the Go module proxy"
  # The .info file the proxy served records the tag's commit and its time.
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const fs = require("fs");
    const i = JSON.parse(fs.readFileSync(JSON.parse(fs.readFileSync(0, "utf8")).Info, "utf8"));
    if (!i.Origin || !i.Origin.Hash || !i.Time) { process.exit(1); }
    const t = i.Time.replace(/[-:TZ]/g, "").slice(0, 14);
    console.log(`v3.0.0-${t}-${i.Origin.Hash.slice(0, 12)}`);' <<<"$json" ||
    die "the module proxy did not report the commit of pkg/v3@v$PULUMI_VERSION"
}

# go_module_source <module@version> <dest>: a writable copy of a module's source
# (the module cache is read-only, and some modules must be edited before building).
go_module_source() {
  local modver="$1" dest="$2" json dir
  json="$(go mod download -json "$modver" 2>&1)" || true
  dir="$(gomod_dir "$json")"
  if [[ -z "$dir" ]]; then
    log "$json"
    die "the Go module proxy does not serve $modver (see its answer above). Alternatives: put a pulumi CLI with its plugins on PATH (MLOPS_TOOLCHAIN=auto), or point GOPROXY at a proxy that serves it."
  fi
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  cp -R "$dir" "$dest"
  chmod -R u+w "$dest"
}

build_langhost() {
  local mod=github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3 ver src
  # Called where `set -e` is off (its status is tested, being optional): stop explicitly.
  ver="$(langhost_pseudo_version)" || return 1
  src="$BUILD_DIR/pulumi-language-nodejs-$ver"
  log "pulumi-language-nodejs: $mod@$ver"
  go_module_source "$mod@$ver" "$src"
  # Its go.mod points pkg/v3 and sdk/v3 at the monorepo (../../..): use the
  # released modules of the same version, plus pkg/v3's own replace.
  (cd "$src" && go mod edit \
    -replace "github.com/pulumi/pulumi/pkg/v3=github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION" \
    -replace "github.com/pulumi/pulumi/sdk/v3=github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION" \
    -replace "github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e" &&
    GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
      -o "$PULUMI_BIN_DIR/pulumi-language-nodejs.tmp" .)
  mv "$PULUMI_BIN_DIR/pulumi-language-nodejs.tmp" "$PULUMI_BIN_DIR/pulumi-language-nodejs"
}

# The provider module (…/provider/v4) has no tags of its own (releases are tagged
# v4.x.y at the repo root), so its Go version is the pseudo-version of the release
# commit, v4.0.0-<commit time>-<commit>. The proxy serves it only under that exact
# string (not by bare commit), and the commit cannot be looked up offline, so it is
# pinned: MLOPS_K8S_PROVIDER_MODULE_VERSION, or K8S_PROVIDER_MODULE_VERSIONS in lib.sh.
# The provider embeds generated files (schema-embed.json, terraform-mapping-embed.json):
# its `go generate` step (VERSION=<version>) must run before `go build`.
build_k8s_provider() {
  local mod=github.com/pulumi/pulumi-kubernetes/provider/v4 ver="v$K8S_PROVIDER_VERSION" src modver
  modver="${MLOPS_K8S_PROVIDER_MODULE_VERSION:-${K8S_PROVIDER_MODULE_VERSIONS[$K8S_PROVIDER_VERSION]:-}}"
  [[ "$modver" =~ ^v4\.0\.0-[0-9]{14}-[0-9a-f]{12}$ ]] ||
    die "no Go module version pinned for the Kubernetes provider $ver: its module has no version tags, so it is built from the commit tagged $ver in github.com/pulumi/pulumi-kubernetes, as the pseudo-version v4.0.0-<UTC commit time YYYYMMDDhhmmss>-<first 12 hex of the commit>. Where git can reach GitHub: git clone --filter=blob:none --no-checkout https://github.com/pulumi/pulumi-kubernetes && git -C pulumi-kubernetes log -1 --date=format-local:%Y%m%d%H%M%S --format='v4.0.0-%cd-%h' --abbrev=12 $ver (with TZ=UTC). Then set MLOPS_K8S_PROVIDER_MODULE_VERSION=<that>, or add it to K8S_PROVIDER_MODULE_VERSIONS in scripts/toolchain/lib.sh."
  src="$BUILD_DIR/pulumi-kubernetes-provider-$ver"
  log "pulumi-resource-kubernetes: $mod@$modver (release $ver)"
  go_module_source "$mod@$modver" "$src"
  (cd "$src" &&
    go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4 \
      -require "github.com/pulumi/pulumi-kubernetes/sdk/v4@$ver" &&
    (cd cmd/pulumi-resource-kubernetes && VERSION="$K8S_PROVIDER_VERSION" GOFLAGS=-mod=mod go generate ./main.go) &&
    GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION" \
      -o "$src/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes)
  # The plugin cache layout the CLI expects: plugins/resource-<name>-v<version>/pulumi-resource-<name>;
  # a sibling <dir>.partial marks an unfinished install, so write it first and remove it last.
  mkdir -p "$K8S_PLUGIN_DIR"
  : >"$K8S_PLUGIN_DIR.partial"
  cp "$src/pulumi-resource-kubernetes" "$K8S_PLUGIN_DIR/pulumi-resource-kubernetes"
  rm -f "$K8S_PLUGIN_DIR.partial"
}

do_pulumi() {
  if [[ "${MLOPS_TOOLCHAIN:-auto}" != build ]]; then
    local ambient
    ambient="$(command -v pulumi || true)"
    if [[ -n "$ambient" && "$ambient" != "$PULUMI_BIN_DIR/pulumi" ]]; then
      log "using pulumi on PATH: $ambient ($("$ambient" version 2>/dev/null || echo 'version unknown')); not building Pulumi (MLOPS_TOOLCHAIN=build forces it)"
      return 0
    fi
  fi
  mkdir -p "$PULUMI_BIN_DIR" "$ANALYZER_PLUGIN_DIR"
  # Installed as a plugin (not on PATH) so the CLI does not warn about an ambient plugin.
  install -m 0755 "$TOOLCHAIN_DIR/pulumi-analyzer-policy-nodejs" "$ANALYZER_PLUGIN_DIR/pulumi-analyzer-policy-nodejs"
  # The dynamic-resource provider a released CLI ships beside its binary (the stack CA's
  # certificates are dynamic resources): the CLI finds it next to itself.
  install -m 0755 "$TOOLCHAIN_DIR/pulumi-resource-pulumi-nodejs" "$PULUMI_BIN_DIR/pulumi-resource-pulumi-nodejs"

  ready "$PULUMI_BIN_DIR/pulumi" "$PULUMI_BIN_DIR/pulumi" version || {
    if ((CHECK_ONLY)); then MISSING+=(pulumi); else timed "pulumi v$PULUMI_VERSION" build_pulumi_cli; fi
  }
  # The language host is optional: the project's entry points (npm run up/down, the e2e suite)
  # run the program through the Automation API with an inline program, served by the Node
  # process itself. Only a plain `pulumi up` on the project directory needs it. The module proxy
  # reachable here refuses its module, so a failed build is a note, not an error.
  if [[ -x "$PULUMI_BIN_DIR/pulumi-language-nodejs" ]]; then
    log "cached  pulumi-language-nodejs: present (v$PULUMI_VERSION)"
  elif ((CHECK_ONLY)); then
    log "optional pulumi-language-nodejs: not built (only a plain 'pulumi up' on the project needs it)"
  else
    log "building pulumi-language-nodejs v$PULUMI_VERSION (optional) ..."
    # Its output goes to a log: a failure is one line saying why, not an ERROR in a good run.
    local langhost_log="$BUILD_DIR/pulumi-language-nodejs.log" reason
    mkdir -p "$BUILD_DIR"
    if (build_langhost) >"$langhost_log" 2>&1; then
      log "built   pulumi-language-nodejs v$PULUMI_VERSION"
    else
      reason="$(sed -n 's/^\[[a-z-]*\] ERROR: //p' "$langhost_log" | head -n 1)"
      [[ -n "$reason" ]] || reason="$(tail -n 1 "$langhost_log")"
      log "skipped pulumi-language-nodejs (optional): $reason (log: $langhost_log). npm run up, npm run deploy and the e2e suite use the Automation API, which does not need it"
    fi
  fi
  if [[ -x "$K8S_PLUGIN_DIR/pulumi-resource-kubernetes" && ! -e "$K8S_PLUGIN_DIR.partial" ]]; then
    log "cached  pulumi-resource-kubernetes: v$K8S_PROVIDER_VERSION in $K8S_PLUGIN_DIR"
  elif ((CHECK_ONLY)); then
    MISSING+=(pulumi-resource-kubernetes)
  else
    timed "pulumi-resource-kubernetes v$K8S_PROVIDER_VERSION" build_k8s_provider
  fi
}

# --- Kubernetes control plane and etcd -----------------------------------------

build_kubernetes() {
  local major minor p ld="-s -w" info build_date commit
  major="${KUBE_VERSION#v}"; major="${major%%.*}"
  minor="${KUBE_VERSION#v*.}"; minor="${minor%%.*}"
  # The release's commit time (and commit, when the proxy recorded it) as build
  # date, so builds are reproducible.
  info="$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).Info')"
  build_date="$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).Time' "$info")"
  commit="$(node -p '(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).Origin || {}).Hash || ""' "$info")"
  # Without these every client sees the server as version 0.0 (hack/lib/version.sh).
  for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$minor"
    ld+=" -X $p.gitTreeState=clean -X $p.buildDate=$build_date"
    [[ -z "$commit" ]] || ld+=" -X $p.gitCommit=$commit"
  done
  mkdir -p "$KUBE_BIN_DIR.tmp"
  (cd "$TOOLCHAIN_DIR/kubernetes" && go build -trimpath -ldflags "$ld" -o "$KUBE_BIN_DIR.tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy &&
    go build -trimpath -ldflags "-s -w" -o "$KUBE_BIN_DIR.tmp/etcd" go.etcd.io/etcd/server/v3)
  mkdir -p "$KUBE_BIN_DIR"
  mv "$KUBE_BIN_DIR.tmp"/* "$KUBE_BIN_DIR/"
  rmdir "$KUBE_BIN_DIR.tmp"
}

do_kubernetes() {
  local ok=1 b
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy; do
    ready "$KUBE_BIN_DIR/$b" "$KUBE_BIN_DIR/$b" --version || ok=0
  done
  ready "$KUBE_BIN_DIR/kubectl" "$KUBE_BIN_DIR/kubectl" version --client || ok=0
  ready "$KUBE_BIN_DIR/etcd" "$KUBE_BIN_DIR/etcd" --version || ok=0
  ((ok)) && return 0
  if ((CHECK_ONLY)); then MISSING+=("kubernetes $KUBE_VERSION"); return 0; fi
  timed "kubernetes $KUBE_VERSION (apiserver, controller-manager, scheduler, kubectl, kubelet, kube-proxy) + etcd $ETCD_VERSION" build_kubernetes
}

# --- kwok ------------------------------------------------------------------------

do_kwok() {
  ready "$KWOK_BIN_DIR/kwok" "$KWOK_BIN_DIR/kwok" --version && return 0
  if ((CHECK_ONLY)); then MISSING+=("kwok $KWOK_VERSION"); return 0; fi
  mkdir -p "$KWOK_BIN_DIR"
  timed "kwok $KWOK_VERSION" env GOBIN="$KWOK_BIN_DIR" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

# --- Karpenter (kwok provider) ---------------------------------------------------

# `go install` of the module's ./kwok package (it has no replace directives) with the toolchain its
# go.mod needs, renamed karpenter-kwok (the package's name is kwok); its CRDs copied beside it.
# Written into <dir>.tmp and moved into place at the end, so a failed build leaves no half cache.
build_karpenter() {
  local tmp="$KARPENTER_DIR.tmp" json dir
  rm -rf "$tmp"
  mkdir -p "$tmp/bin" "$tmp/crds"
  GOTOOLCHAIN="$KARPENTER_GOTOOLCHAIN" GOBIN="$tmp/bin" go install -trimpath \
    -ldflags "-s -w -X sigs.k8s.io/karpenter/pkg/operator.Version=$KARPENTER_VERSION" \
    "sigs.k8s.io/karpenter/kwok@$KARPENTER_VERSION"
  mv "$tmp/bin/kwok" "$tmp/bin/karpenter-kwok"
  json="$(GOTOOLCHAIN="$KARPENTER_GOTOOLCHAIN" go mod download -json "sigs.k8s.io/karpenter@$KARPENTER_VERSION")"
  dir="$(gomod_dir "$json")"
  [[ -n "$dir" ]] || die "no module directory for sigs.k8s.io/karpenter@$KARPENTER_VERSION: $json"
  cp "$dir"/kwok/charts/crds/karpenter.sh_*.yaml "$dir"/kwok/apis/crds/karpenter.kwok.sh_*.yaml "$tmp/crds/"
  chmod u+w "$tmp"/crds/*.yaml
  printf '%s\n' "$KARPENTER_VERSION" >"$tmp/VERSION"
  rm -rf "$KARPENTER_DIR"
  mv "$tmp" "$KARPENTER_DIR"
}

do_karpenter() {
  # The binary answers nothing without a cluster: its VERSION file is its version.
  ready "$KARPENTER_BIN_DIR/karpenter-kwok" cat "$KARPENTER_DIR/VERSION" && return 0
  if ((CHECK_ONLY)); then MISSING+=("karpenter $KARPENTER_VERSION (build.sh karpenter)"); return 0; fi
  timed "karpenter $KARPENTER_VERSION (kwok provider, $KARPENTER_GOTOOLCHAIN)" build_karpenter
}

# --- Traefik (the local cluster's Gateway API data plane) -----------------------------

# Traefik's module builds from its own directory after three changes, each made here to a copy:
#  1. go.mod replaces the nested module github.com/traefik/traefik/dynamic/ext with
#     ./pkg/config/dynamic/ext, which the module zip leaves out: that module is a go.mod and two
#     empty structs (HTTP, Router, inlined into the dynamic configuration); written here.
#  2. its fork of github.com/abbot/go-http-auth (basic and digest auth middlewares) at a 2026
#     pseudo-version is refused by the module proxy; the fork's served
#     v0.4.1-0.20200324110947-a37a7636d23e is used. The local cluster's routes use neither
#     middleware (docs/traffic.md).
#  3. the registry of every lego ACME DNS-01 provider imports cloud SDKs the proxy refuses: that
#     one import goes, and a DNS-01 challenge answers an error naming the alternatives. HTTP-01,
#     TLS-ALPN-01 and certificates from Secrets (what the Gateway listeners use) are unaffected.
build_traefik() {
  local mod="github.com/traefik/traefik/v3@$TRAEFIK_VERSION" src="$BUILD_DIR/traefik-$TRAEFIK_VERSION"
  go_module_source "$mod" "$src"
  mkdir -p "$src/pkg/config/dynamic/ext" "$TRAEFIK_BIN_DIR"
  printf '%s\n' "module github.com/traefik/traefik/dynamic/ext" "" "go 1.24" >"$src/pkg/config/dynamic/ext/go.mod"
  printf '%s\n' "// Package ext: extension points of the dynamic configuration (none in this build)." \
    "package ext" "" "// HTTP holds extension HTTP configuration." "type HTTP struct{}" "" \
    "// Router holds extension router configuration." "type Router struct{}" >"$src/pkg/config/dynamic/ext/ext.go"
  local acme="$src/pkg/provider/acme/provider.go"
  if ! grep -q '"github.com/go-acme/lego/v5/providers/dns"' "$acme" ||
    ! grep -q 'provider, err = dns.NewDNSChallengeProviderByName(p.DNSChallenge.Provider)' "$acme"; then
    die "traefik $TRAEFIK_VERSION: $acme no longer has the DNS-01 provider registry this build removes; update build_traefik"
  fi
  sed -i -e '/"github.com\/go-acme\/lego\/v5\/providers\/dns"/d' \
    -e 's|provider, err = dns.NewDNSChallengeProviderByName(p.DNSChallenge.Provider)|provider, err = nil, errors.New("ACME DNS-01 challenge providers are not part of this build: use the HTTP-01 or TLS-ALPN-01 challenge, or certificates from Secrets")|' "$acme"
  (cd "$src" &&
    go mod edit -replace github.com/abbot/go-http-auth=github.com/containous/go-http-auth@v0.4.1-0.20200324110947-a37a7636d23e &&
    # -e: packages only the removed registry imported cannot be resolved; nothing else needs them.
    GOFLAGS=-mod=mod go mod tidy -e >/dev/null 2>&1 &&
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath \
      -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION -X github.com/traefik/traefik/v3/pkg/version.BuildDate=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
      -o "$TRAEFIK_BIN_DIR/traefik.tmp" ./cmd/traefik)
  mv "$TRAEFIK_BIN_DIR/traefik.tmp" "$TRAEFIK_BIN_DIR/traefik"
  rm -rf "$src"
}

do_traefik() {
  ready "$TRAEFIK_BIN_DIR/traefik" "$TRAEFIK_BIN_DIR/traefik" version && return 0
  if ((CHECK_ONLY)); then MISSING+=("traefik $TRAEFIK_VERSION"); return 0; fi
  timed "traefik $TRAEFIK_VERSION" build_traefik
}

# --- the NetworkPolicy engine (kube-network-policies' controller, scripts/toolchain/netpol) ------

build_netpol() {
  mkdir -p "$NETPOL_BIN_DIR"
  (cd "$TOOLCHAIN_DIR/netpol" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" \
    -o "$NETPOL_BIN_DIR/netpol.tmp" .)
  mv "$NETPOL_BIN_DIR/netpol.tmp" "$NETPOL_BIN_DIR/netpol"
}

do_netpol() {
  # The binary's version is its module's: the directory name carries it.
  ready "$NETPOL_BIN_DIR/netpol" echo "kube-network-policies $NETPOL_VERSION" && return 0
  if ((CHECK_ONLY)); then MISSING+=("netpol (kube-network-policies $NETPOL_VERSION)"); return 0; fi
  timed "netpol (kube-network-policies $NETPOL_VERSION)" build_netpol
}

# --- CoreDNS ----------------------------------------------------------------------

build_coredns() {
  mkdir -p "$COREDNS_BIN_DIR"
  (cd "$TOOLCHAIN_DIR/coredns" && go build -trimpath \
    -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
    -o "$COREDNS_BIN_DIR/coredns.tmp" .)
  mv "$COREDNS_BIN_DIR/coredns.tmp" "$COREDNS_BIN_DIR/coredns"
}

do_coredns() {
  ready "$COREDNS_BIN_DIR/coredns" "$COREDNS_BIN_DIR/coredns" -version && return 0
  if ((CHECK_ONLY)); then MISSING+=("coredns $COREDNS_VERSION"); return 0; fi
  timed "coredns $COREDNS_VERSION" build_coredns
}

# --- main ------------------------------------------------------------------------

# stream <do_fn>...: starts one build stream as a background job (its pid goes to STREAM_PIDS);
# what failed in it goes to $FAILED_FILE. A background job keeps `set -e` in force inside it,
# where a subshell tested with `||` or `if` would silently run on past a failed step.
STREAM_PIDS=()
stream() {
  (
    for fn in "$@"; do "$fn"; done
    ((${#FAILED[@]} == 0)) || { printf '%s; ' "${FAILED[@]}" >>"$FAILED_FILE"; exit 1; }
  ) &
  STREAM_PIDS+=("$!")
}
# wait_streams: waits for every started stream; one that died without recording why is named.
wait_streams() {
  local pid rc
  for pid in "${STREAM_PIDS[@]}"; do
    rc=0
    wait "$pid" || rc=$?
    if ((rc != 0)) && [[ ! -s "$FAILED_FILE" ]]; then
      printf 'a build stream (exit status %s); ' "$rc" >>"$FAILED_FILE"
    fi
  done
  STREAM_PIDS=()
}

main() {
  parse_args "$@"
  command -v go >/dev/null || die "go is required (Go >= 1.25) to build the toolchain"
  local start=$SECONDS fn pulumi_fns=() kube_fns=()
  log "cache: $TOOLCHAIN_CACHE"
  want pulumi && pulumi_fns+=(do_pulumi)
  want kubernetes && kube_fns+=(do_kubernetes)
  want kwok && kube_fns+=(do_kwok)
  want coredns && kube_fns+=(do_coredns)
  named karpenter && kube_fns+=(do_karpenter)
  # The edge's two: beside the Pulumi CLI, the shorter of the two streams on a cold cache.
  want traefik && pulumi_fns+=(do_traefik)
  want netpol && pulumi_fns+=(do_netpol)

  if ((CHECK_ONLY)); then
    for fn in "${pulumi_fns[@]}" "${kube_fns[@]}"; do "$fn"; done
  else
    mkdir -p "$TOOLCHAIN_CACHE"
    # One build at a time per cache: a second run (another terminal, the e2e suite) waits for the
    # first and then finds everything cached, instead of both writing the same files.
    if command -v flock >/dev/null; then
      exec 9>"$TOOLCHAIN_CACHE/.build.lock"
      flock -n 9 || { log "another build is using $TOOLCHAIN_CACHE; waiting for it to finish ..."; flock 9; }
    else
      log "note: no flock on this machine; do not run two builds of one cache at once"
    fi
    FAILED_FILE="$(mktemp)"
    trap 'rm -f "$FAILED_FILE"' EXIT
    # The Pulumi and Kubernetes streams share nothing but Go's caches (safe for concurrent use).
    # Run side by side, one stream's downloads and single-threaded links fill the other's idle
    # core. MLOPS_TOOLCHAIN_PARALLEL=0 runs them one after the other.
    ((${#pulumi_fns[@]} == 0)) || stream "${pulumi_fns[@]}"
    [[ "${MLOPS_TOOLCHAIN_PARALLEL:-1}" != 0 ]] || wait_streams
    ((${#kube_fns[@]} == 0)) || stream "${kube_fns[@]}"
    wait_streams
    if [[ -s "$FAILED_FILE" ]]; then
      die "could not build: $(cat "$FAILED_FILE")see the reasons above"
    fi
  fi
  if ((${#MISSING[@]})); then
    log "not built yet: ${MISSING[*]} (run scripts/toolchain/build.sh)"
    exit 1
  fi
  log "toolchain ready in $((SECONDS - start))s; environment: eval \"\$(scripts/toolchain/env.sh)\""
}

main "$@"
