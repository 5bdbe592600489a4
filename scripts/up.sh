#!/usr/bin/env bash
# `npm run up`: deploys the `local` stack for real — to MLOPS_KUBE_CONTEXT when set, else to the
# local control plane (started here). See scripts/stack-env.sh for the knobs.
set -euo pipefail
# shellcheck source=scripts/stack-env.sh
source "$(dirname "$0")/stack-env.sh"

use_cluster
say "deploying stack $STACK"
cd "$REPO_ROOT"
# The Automation API with an inline program: no pulumi-language-nodejs plugin needed.
node "$REPO_ROOT/node_modules/ts-node/dist/bin.js" --transpile-only "$REPO_ROOT/stacks/deploy.ts" up --stack "$STACK" "$@"
