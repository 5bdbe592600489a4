#!/usr/bin/env bash
# A stack whose secrets are encrypted with PULUMI_CONFIG_PASSPHRASE (a self-managed backend such as
# azblob://) needs the `encryptionsalt:` line that `pulumi stack init` writes into its stack file,
# committed: without it every run would make a new salt and could not decrypt the state's secrets.
# Pulumi Cloud (no PULUMI_BACKEND_URL, or an https:// one) keeps its own keys: nothing to check.
# Usage: .github/scripts/check-stack-salt.sh <stack>   (from the repository root)
set -euo pipefail
stack="${1:?usage: check-stack-salt.sh <stack>}"
file="Pulumi.${stack}.yaml"
backend="${PULUMI_BACKEND_URL:-}"
if [[ -z "$backend" || "$backend" == https://* ]]; then
  exit 0
fi
if ! grep -q '^encryptionsalt: ' "$file"; then
  echo "::error::${file} has no encryptionsalt line: run \`pulumi stack init ${stack}\` once with the passphrase and commit ${file} (docs/azure.md, 1.6)" >&2
  exit 1
fi
