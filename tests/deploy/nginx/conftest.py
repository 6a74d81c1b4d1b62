from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.leftovers import scratch_dir


@pytest.fixture
def workdir() -> Iterator[Path]:
    """nginx's runtime directory (pid, temp files, logs), removed afterwards."""
    path = scratch_dir("nginx")
    yield path
    shutil.rmtree(path, ignore_errors=True)
