"""CPU seconds of process trees, read from /proc."""

from __future__ import annotations

import subprocess
import sys

import pytest

from loadtest.cpu import tree_cpu_seconds

# Burns 0.3 s of CPU, says so, then idles, so its counters hold still while the test reads them.
_BURN_THEN_IDLE = (
    "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\n"
    "print('idle', flush=True)\ntime.sleep(30)"
)


def test_several_roots_add_up_to_their_trees() -> None:
    processes = [
        subprocess.Popen([sys.executable, "-c", _BURN_THEN_IDLE], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline() == "idle\n"
        first, second = (tree_cpu_seconds(p.pid) for p in processes)
        # /proc counts whole clock ticks (user and system time each rounded down): up to 0.02 s less.
        assert first >= 0.28
        assert second >= 0.28
        assert tree_cpu_seconds(*(p.pid for p in processes)) == pytest.approx(
            first + second
        )  # float sums in another order
    finally:
        for process in processes:
            process.kill()
            process.wait()
