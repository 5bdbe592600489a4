#!/usr/bin/env bash
# Installs what a real node of the local cluster needs, from the distribution's packages, when
# missing: containerd, runc, the CNI plugins, iptables, conntrack, buildah (image builds without a
# Docker engine), debootstrap (the locally made base image) and socat (pods' path to the API
# server, scripts/control-plane/edge.sh). Debian/Ubuntu only, as root; on
# anything else it names what is missing and exits 1 (on a laptop, use kind: MLOPS_KUBE_CONTEXT).
#
# usage: scripts/node/install.sh [--check]
set -euo pipefail

# shellcheck source=scripts/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../toolchain/lib.sh"
LOG_TAG=node-install

# command -> Debian package
declare -A PACKAGES=(
  [containerd]=containerd
  [runc]=runc
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [iptables]=iptables
  [conntrack]=conntrack
  [buildah]=buildah
  [debootstrap]=debootstrap
  [ip]=iproute2
  [socat]=socat
)

have() { if [[ "$1" == /* ]]; then [[ -x "$1" ]]; else command -v "$1" >/dev/null; fi; }

main() {
  local cmd missing=()
  for cmd in "${!PACKAGES[@]}"; do
    have "$cmd" || missing+=("${PACKAGES[$cmd]}")
  done
  ((${#missing[@]})) || return 0
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  [[ "${1:-}" != --check ]] || die "missing: ${missing[*]}"
  command -v apt-get >/dev/null ||
    die "missing: ${missing[*]}; this script installs them with apt-get (Debian/Ubuntu). Elsewhere install them yourself, or deploy to kind instead: MLOPS_KUBE_CONTEXT=kind-kind npm run up"
  ((EUID == 0)) || die "missing: ${missing[*]}; run as root to install them (apt-get), or deploy to kind instead: MLOPS_KUBE_CONTEXT=kind-kind npm run up"
  apt_install "${missing[@]}"
}

main "$@"
