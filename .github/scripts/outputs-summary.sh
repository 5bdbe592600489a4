#!/usr/bin/env bash
# Writes the deployed image digest, model versions and endpoint of a stack to the job summary,
# from `pulumi stack output --json` (secrets stay hidden). Usage: outputs-summary.sh <stack> <file>
set -euo pipefail
stack="${1:?usage: outputs-summary.sh <stack> <outputs.json>}"
file="${2:?usage: outputs-summary.sh <stack> <outputs.json>}"
{
  echo "### Deployed to \`$stack\`"
  echo
  echo "| Output | Value |"
  echo "|---|---|"
  jq -r '
    "| endpointUrl | `\(.endpointUrl // "—")` |",
    "| imageRef | `\(.imageRef // "—")` |",
    ((.modelVersions // {}) | to_entries[] | "| model `\(.key)` | `\(.value)` |")
  ' "$file"
} >> "${GITHUB_STEP_SUMMARY:-/dev/stdout}"
