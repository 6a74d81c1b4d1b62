"""`make release` exports the runtime requirements with the uv `make setup` used, wherever that is."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from deploy import defaults, release
from tests.harness.servers import REPO


def test_release_runs_the_uv_the_makefile_names(tmp_path: Path) -> None:
    real_uv = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    calls = tmp_path / "calls"
    uv = tmp_path / "bin" / "uv"  # the real uv, from a directory of its own, noting each call
    uv.parent.mkdir()
    uv.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexec {real_uv} "$@"\n')
    uv.chmod(0o755)
    releases = tmp_path / "releases"
    result = subprocess.run(
        [str(REPO / ".venv/bin/python"), "-m", "deploy.release", "--releases", str(releases)], cwd=REPO,
        env={**os.environ, "UV": str(uv)}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert calls.read_text().startswith("export --frozen --no-default-groups"), calls.read_text()
    (requirements,) = releases.glob("*/requirements.txt")
    # Named by the version (pyproject.toml's) and a digest of what ships.
    assert requirements.parent.name.startswith(f"{defaults.version()}+")
    assert "django==" in requirements.read_text().lower()


def test_the_archive_is_the_same_bytes_whenever_it_is_built(tmp_path: Path) -> None:
    """Equal trees give equal archives, a second apart too (gzip's header would otherwise carry the time)."""
    files = release.app_files()[:5]
    first = release.archive(files)
    time.sleep(1.1)
    assert release.archive(files) == first
