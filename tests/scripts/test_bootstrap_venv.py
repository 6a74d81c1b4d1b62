"""scripts/bootstrap-venv.sh: what `make setup` and `make run` say before they install anything."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.harness.servers import REPO

SCRIPT = REPO / "scripts" / "bootstrap-venv.sh"


def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT)], env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


def test_an_older_python_is_refused_with_the_uv_commands_that_get_311(tmp_path: Path) -> None:
    # No Python 3.10 can be installed on this Debian 12 machine: a stand-in that answers as 3.10 does.
    python310 = tmp_path / "python3.10"
    python310.write_text('#!/bin/sh\n[ "$1" = -V ] && echo "Python 3.10.12" && exit 0\nexit 1\n')
    python310.chmod(0o755)
    result = run({"PYTHON": str(python310)})
    assert result.returncode == 1
    assert "Python 3.11+ is needed" in result.stderr
    assert "uv python install 3.11" in result.stderr
    assert 'make setup PYTHON="$(uv python find 3.11)"' in result.stderr


def test_a_uv_that_is_not_there_is_named() -> None:
    result = run({"UV": "/nonexistent/uv"})
    assert result.returncode == 1
    assert "UV=/nonexistent/uv is not an executable uv" in result.stderr
