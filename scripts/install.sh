#!/usr/bin/env bash
# Create the virtualenv in .venv (if missing) and install civicpanel into it, editable, with the
# test extras. `make install` runs this only when pyproject.toml is newer than its last run.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "install: $*" >&2; }
python="${PYTHON:-python3}"

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  say "civicpanel needs Python 3.11 or newer as '$python' (set PYTHON=... to choose another)."
  exit 1
fi

if [[ ! -x .venv/bin/python ]]; then
  if ! "$python" -m venv .venv; then
    rm -rf .venv
    # Debian and Ubuntu ship venv (ensurepip) separately from python3.
    if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
      say "installing python3-venv with apt-get"
      apt-get update >&2
      DEBIAN_FRONTEND=noninteractive apt-get install -y python3-venv >&2
      "$python" -m venv .venv
    else
      say "'$python -m venv' failed: install your Python's venv module" \
          "(Debian/Ubuntu: sudo apt-get install -y python3-venv) and run this again."
      exit 1
    fi
  fi
fi

.venv/bin/pip install --quiet -e '.[test]'
say "the venv .venv has civicpanel and its test tools"
