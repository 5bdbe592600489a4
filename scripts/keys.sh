#!/usr/bin/env bash
# `npm run keys -- show|rotate ...`: the inference keys of a stack (tools/keys.ts, which says
# how to call it). Runs with the toolchain and Pulumi backend of `npm run up`; a rotation of a
# `local`-target stack reaches its cluster the way `npm run up` does (scripts/stack-env.sh).
set -euo pipefail
# shellcheck source=scripts/stack-env.sh
source "$(dirname "$0")/stack-env.sh"

main() {
  local stack=local rotating="" args=("$@") i
  for ((i = 0; i < ${#args[@]}; i++)); do
    case "${args[i]}" in
      --stack) stack="${args[i + 1]:-local}" ;;
      --stack=*) stack="${args[i]#--stack=}" ;;
      rotate) rotating=1 ;;
    esac
  done
  if [[ -n "$rotating" && "$(stack_config_value "$REPO_ROOT" "$stack" target 2>/dev/null || echo local)" == local ]]; then
    use_cluster
  fi
  cd "$REPO_ROOT"
  exec node "$REPO_ROOT/node_modules/ts-node/dist/bin.js" --transpile-only "$REPO_ROOT/tools/keys.ts" "$@"
}

main "$@"
