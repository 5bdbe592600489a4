#!/usr/bin/env bash
# Prints the environment for using the toolchain, as `export` lines:
#   eval "$(scripts/toolchain/env.sh)"
# or, from bash, `source scripts/toolchain/env.sh` to export into the current shell.
#
# Built toolchain (MLOPS_TOOLCHAIN=build, or no `pulumi` on PATH):
#   PATH       our pulumi bin dir (CLI, language host, policy analyzer) first, then
#              the Kubernetes and kwok bin dirs
#   PULUMI_HOME inside the toolchain cache (holds the provider plugin); ~/.pulumi is never touched
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true, PULUMI_SKIP_UPDATE_CHECK=true
# Ambient toolchain (MLOPS_TOOLCHAIN=auto and a `pulumi` on PATH): PATH gains only
# the Kubernetes and kwok bin dirs; PULUMI_HOME and plugin acquisition stay as the user has them.
# MLOPS_TOOLCHAIN_MODE tells consumers which one applies: built | ambient.
# Nothing is built here: run scripts/toolchain/build.sh first (exit 1 if the CLI is missing).

_mlops_env() {
  # shellcheck source=scripts/toolchain/lib.sh
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
  local mode=built ambient path_prefix=""
  if [[ "${MLOPS_TOOLCHAIN:-auto}" != build ]]; then
    ambient="$(command -v pulumi || true)"
    if [[ -n "$ambient" && "$ambient" != "$PULUMI_BIN_DIR/pulumi" ]]; then
      mode=ambient
    fi
  fi
  if [[ $mode == built ]]; then
    [[ -x "$PULUMI_BIN_DIR/pulumi" ]] || {
      log "no pulumi CLI in $PULUMI_BIN_DIR: run scripts/toolchain/build.sh"
      return 1
    }
    path_prefix="$PULUMI_BIN_DIR:"
  fi
  path_prefix+="$KUBE_BIN_DIR:$KWOK_BIN_DIR"
  printf 'export MLOPS_TOOLCHAIN_MODE=%q\n' "$mode"
  printf 'export PATH=%q\n' "$path_prefix:$PATH"
  printf 'export PULUMI_SKIP_UPDATE_CHECK=true\n'
  if [[ $mode == built ]]; then
    printf 'export PULUMI_HOME=%q\n' "$TOOLCHAIN_PULUMI_HOME"
    printf 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true\n'
  fi
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  _mlops_env
else
  # Sourced: export into the caller's shell without leaking helpers or `set` options;
  # a missing toolchain makes `source` return 1 (so `set -e` callers stop there).
  if _mlops_env_out="$(_mlops_env)"; then
    eval "$_mlops_env_out"
    unset -f _mlops_env
    unset _mlops_env_out
  else
    unset -f _mlops_env
    unset _mlops_env_out
    return 1
  fi
fi
