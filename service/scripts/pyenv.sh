#!/usr/bin/env bash
# Creates (once) the Python venv the service tests use: tritonclient (HTTP + gRPC) and schemathesis,
# at the versions pinned in requirements-test.txt. Prints the venv's python on stdout.
# Cache: $MLOPS_PYENV_DIR, default ~/.cache/mlops-platform/venv (outside the repository).
# The venv is rebuilt when requirements-test.txt changes (its hash is stored in the venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements-test.txt"
venv="${MLOPS_PYENV_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlops-platform/venv}"
python="${PYTHON:-python3}"
want="$(sha256sum "$req" | cut -c1-64)"
if [[ -x "$venv/bin/python" && -f "$venv/.requirements.sha256" && "$(cat "$venv/.requirements.sha256")" == "$want" ]]; then
  echo "$venv/bin/python"
  exit 0
fi
# One installer at a time (jest runs test files in parallel workers).
mkdir -p "$(dirname "$venv")"
exec 9>"$venv.lock"
flock 9
if [[ -x "$venv/bin/python" && -f "$venv/.requirements.sha256" && "$(cat "$venv/.requirements.sha256")" == "$want" ]]; then
  echo "$venv/bin/python"
  exit 0
fi
command -v "$python" >/dev/null || { echo "pyenv.sh: $python not found (Python >= 3.9 is needed)" >&2; exit 1; }
rm -rf "$venv"
if ! "$python" -m venv "$venv" >&2; then
  # Debian's python3 ships without ensurepip: install python3-venv (root only), then retry.
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    echo "pyenv.sh: installing python3-venv (Debian package)" >&2
    apt-get -o DPkg::Lock::Timeout=300 install -y python3-venv >&2
    rm -rf "$venv"
    "$python" -m venv "$venv" >&2
  else
    echo "pyenv.sh: '$python -m venv' failed; install the venv module (Debian: apt-get install python3-venv)" >&2
    exit 1
  fi
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet -r "$req" >&2
echo "$want" > "$venv/.requirements.sha256"
echo "$venv/bin/python"
