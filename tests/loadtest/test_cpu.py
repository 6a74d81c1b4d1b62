"""CPU seconds of process trees, read from /proc."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from loadtest.cpu import tree_cpu_seconds

# Burns ~0.3 s of CPU, then idles, so its counters hold still while the test reads them.
_BURN_THEN_IDLE = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass\ntime.sleep(30)"


def test_several_roots_add_up_to_their_trees() -> None:
    processes = [subprocess.Popen([sys.executable, "-c", _BURN_THEN_IDLE]) for _ in range(2)]
    try:
        deadline = time.monotonic() + 20
        while min(tree_cpu_seconds(p.pid) for p in processes) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.1)
        first, second = (tree_cpu_seconds(p.pid) for p in processes)
        assert first >= 0.3
        assert second >= 0.3
        assert tree_cpu_seconds(*(p.pid for p in processes)) == pytest.approx(
            first + second
        )  # float sums in another order
    finally:
        for process in processes:
            process.kill()
            process.wait()
