#!/usr/bin/env bash
# Create .venv with the locked dependencies, installing uv first if it is not on PATH.
# Usage: scripts/bootstrap-venv.sh [uv sync flags...]   (default: all groups for development)
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
die() { echo "error: $*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11+ (sudo apt-get install python3 python3-venv)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "Python 3.11+ is needed, $PYTHON is $("$PYTHON" -V 2>&1): set PYTHON=/path/to/python3.11"

UV="$(command -v uv || true)"
if [[ -z "$UV" ]]; then
  UV=.tools/bin/uv
  if [[ ! -x "$UV" ]]; then
    echo "uv not found: installing it into .tools/ (from PyPI) ..."
    "$PYTHON" -m venv .tools 2>/dev/null \
      || die "cannot create a virtualenv: install venv support (sudo apt-get install python3-venv)"
    .tools/bin/pip install --quiet --disable-pip-version-check uv
  fi
fi

# Never let uv fetch its own Python build: use the interpreter we were given.
export UV_PYTHON_DOWNLOADS=never
"$UV" sync --frozen --python "$PYTHON" "$@"
