"""Shared by the bench tests: throwaway directories, and running a bench as `make` runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.leftovers import scratch_dir
from tests.harness.servers import REPO


@pytest.fixture
def bench_dirs() -> Iterator[tuple[Path, Path]]:
    """A bench stack directory and a reports directory, removed afterwards."""
    base = scratch_dir("bench")  # the postgres account works in here when the bench runs as root
    # The stack directory's name prefixes bench-scaling's cgroups: unique, so runs side by side cannot mix.
    yield base / base.name, base / "reports"
    shutil.rmtree(base, ignore_errors=True)


def run_bench(module: str, bench_dirs: tuple[Path, Path], **knobs: str) -> subprocess.CompletedProcess[str]:
    """A bench (`python -m <module>`) in QUICK mode with its stack and reports in `bench_dirs`,
    plus `knobs`."""
    stack_dir, reports = bench_dirs
    env = {**os.environ, "QUICK": "1", "REPORTS": str(reports), "BENCH_STACK_DIR": str(stack_dir), **knobs}
    return subprocess.run(
        [str(REPO / ".venv/bin/python"), "-m", module],
        cwd=REPO, env=env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
