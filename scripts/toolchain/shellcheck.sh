#!/usr/bin/env bash
# Lints the project's shell scripts with ShellCheck (`npm run lint` runs it first): every *.sh and
# every other sh/bash script (by its #! line) under scripts/, .ci/ and .github/scripts/, sources
# followed (-x). A missing shellcheck is installed from Debian's package (as root, apt-get);
# elsewhere the script stops naming the command that installs it.
#
# usage: scripts/toolchain/shellcheck.sh [--list] [file...]
#   --list   print the files it would check, check nothing
#   file...  check these instead of the project's scripts
set -euo pipefail

# shellcheck source=scripts/toolchain/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
LOG_TAG=shellcheck

# project_scripts: the files to check, relative to the repository root, one a line.
project_scripts() {
  local f
  while IFS= read -r f; do
    if [[ "$f" == *.sh ]] || head -n 1 "$f" | grep -qE '^#!.*[/ ](ba)?sh$'; then
      printf '%s\n' "${f#./}"
    fi
  done < <(find ./scripts ./.ci ./.github/scripts -type f ! -path '*/node_modules/*' | sort)
}

ensure_shellcheck() {
  command -v shellcheck >/dev/null && return 0
  if ((EUID != 0)) || ! command -v apt-get >/dev/null; then
    die "shellcheck is missing; install it (Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y shellcheck; elsewhere the shellcheck package of this system), or run this as root to have it installed"
  fi
  apt_install shellcheck
}

main() {
  local files=() f
  # Files named here are taken from where the caller stands.
  for f in "$@"; do [[ "$f" == --list ]] || files+=("$(realpath "$f")"); done
  cd "$REPO_ROOT"
  if [[ "${1:-}" == --list ]]; then
    project_scripts
    return 0
  fi
  ((${#files[@]})) || mapfile -t files < <(project_scripts)
  ensure_shellcheck
  # The `# shellcheck source=...` directives name files from the repository root.
  shellcheck -x "${files[@]}" || die "shellcheck found the problems above in the shell scripts"
  log "${#files[@]} scripts clean ($(shellcheck --version | awk '/^version:/ { print $2 }'))"
}

main "$@"
