#!/usr/bin/env bash
# `npm run test:mutation`: StrykerJS over each mutation scope in turn (README "Mutation testing"),
# or over the scopes listed in MUTATION_SCOPE (comma-separated). Each scope is its own Stryker run
# with its own suites, report and incremental file (stryker.config.mjs, jest.mutation.config.js);
# arguments go to each `stryker run` (e.g. --concurrency 2). Prints each scope's score and exits
# non-zero when a scope fails to run or scores under its break threshold (80 %).
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(tools policy model infra-config infra-k8s infra-azure infra-monitoring)

# score <mutation.json>: "<score> % (<detected> of <valid> detected)", or "no report".
score() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const fs = require("fs");
    if (!fs.existsSync(process.argv[1])) { console.log("no report"); process.exit(0); }
    const n = {};
    for (const file of Object.values(JSON.parse(fs.readFileSync(process.argv[1], "utf8")).files))
      for (const m of file.mutants) n[m.status] = (n[m.status] ?? 0) + 1;
    const detected = (n.Killed ?? 0) + (n.Timeout ?? 0);
    const valid = detected + (n.Survived ?? 0) + (n.NoCoverage ?? 0);
    console.log(`${(valid ? (100 * detected) / valid : 0).toFixed(1)} % (${detected} of ${valid} detected)`);
  ' "$1"
}

main() {
  local scopes scope start outcome result status=0 summary=()
  IFS=, read -r -a scopes <<<"${MUTATION_SCOPE:-$(
    IFS=,
    echo "${ALL[*]}"
  )}"
  for scope in "${scopes[@]}"; do
    if [[ " ${ALL[*]} " != *" $scope "* ]]; then
      echo "mutation: MUTATION_SCOPE names \"$scope\", which is not a scope; use one or more of: ${ALL[*]}" >&2
      exit 2
    fi
  done

  for scope in "${scopes[@]}"; do
    echo "mutation: scope $scope"
    start=$SECONDS
    if MUTATION_SCOPE=$scope nice -n 15 npx stryker run "$@"; then
      outcome=""
    else
      outcome=" FAILED (under the break threshold, or did not run)"
      status=1
    fi
    result="$(score "reports/mutation/$scope/mutation.json")"
    summary+=("$scope: $result in $((SECONDS - start)) s$outcome")
  done
  echo "mutation scores:"
  printf '  %s\n' "${summary[@]}"
  exit "$status"
}

main "$@"
