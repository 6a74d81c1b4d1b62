#!/usr/bin/env bash
# Create .venv with the locked dependencies, installing uv first if it is not on PATH.
# Usage: scripts/bootstrap-venv.sh [uv sync flags...]   (default: all groups for development)
# UV names the uv to use (the Makefile exports it: yours on PATH, else .tools/bin/uv, installed here).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
UV="${UV:-$(command -v uv || echo "$PWD/.tools/bin/uv")}"
die() { echo "error: $*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11+ (sudo apt-get install python3 python3-venv)"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  die "Python 3.11+ is needed, $PYTHON is $("$PYTHON" -V 2>&1). Get 3.11 with uv, then point make at it:
    $PYTHON -m pip install --user uv     # or: curl -LsSf https://astral.sh/uv/install.sh | sh
    uv python install 3.11
    make setup PYTHON=\"\$(uv python find 3.11)\"     # likewise: make run PYTHON=..."
fi

if [[ ! -x "$UV" ]]; then
  [[ "$UV" == "$PWD/.tools/bin/uv" ]] || die "UV=$UV is not an executable uv"
  echo "uv not found: installing it into .tools/ (from PyPI) ..."
  "$PYTHON" -m venv .tools 2>/dev/null \
    || die "cannot create a virtualenv: install venv support (sudo apt-get install python3-venv)"
  .tools/bin/pip install --quiet --disable-pip-version-check uv
fi

# Never let uv fetch its own Python build: use the interpreter we were given.
export UV_PYTHON_DOWNLOADS=never
"$UV" sync --frozen --python "$PYTHON" "$@"
