"""CPU caps: a process tree in a cap is held near its quota, and the cap goes away cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from deploy.local.cpu_cap import CpuCap, CpuCapError
from loadtest.cpu import tree_cpu_seconds
from tests.harness.requires import needs

needs_root = needs(root=True)  # cgroups are root's to write


@needs_root
def test_a_busy_process_is_held_to_its_cap() -> None:
    cap = CpuCap(f"test-{os.getpid()}", 0.2)
    cap.create()
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"], preexec_fn=cap.join)
    try:
        assert cap.pids() == [busy.pid]
        assert cap.quota_cpus() == pytest.approx(0.2)
        time.sleep(0.5)
        start_cpu, start = tree_cpu_seconds(busy.pid), time.monotonic()
        time.sleep(2)
        share = (tree_cpu_seconds(busy.pid) - start_cpu) / (time.monotonic() - start)
        # Uncapped, a busy loop uses a whole core (1.0); capped at 0.2 it stays far below that.
        assert share < 0.45
    finally:
        cap.remove()  # kills what is still in the cap, like workers orphaned by a kill -9 of their master
    assert busy.wait(timeout=5) == -9
    assert not cap.path.exists()


@needs_root
def test_a_cap_must_be_positive() -> None:
    with pytest.raises(CpuCapError, match="must be positive"):
        CpuCap("test-zero", 0).create()


@pytest.mark.skipif(os.geteuid() == 0, reason="checks the message non-root users get")
def test_non_root_gets_a_clear_message() -> None:
    with pytest.raises(CpuCapError, match="need root"):
        CpuCap("x", 0.5).create()
