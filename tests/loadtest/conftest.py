"""Fixtures shared by the bench tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def dirs() -> Iterator[tuple[Path, Path]]:
    """A bench stack directory and a reports directory, removed afterwards."""
    base = Path(tempfile.mkdtemp(prefix="scaleboard-bench-"))
    base.chmod(0o755)  # the postgres account works in here when run as root
    yield base / "stack", base / "reports"
    shutil.rmtree(base, ignore_errors=True)
