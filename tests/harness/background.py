"""Test servers made of background processes (moto behind nginx, Pebble and its DNS): started on entering, waited
for until they answer, and stopped on leaving, pass or fail."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from types import TracebackType


class Background:
    def __init__(self) -> None:
        self.processes: list[subprocess.Popen[bytes]] = []

    def wait_until(self, answers: Callable[[], object], what: str, timeout: float = 30) -> None:
        """Until `answers()` stops raising OSError; else stop everything and say `what` did not start."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                answers()
                return
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in self.processes):
                    self.__exit__(None, None, None)
                    raise RuntimeError(f"{what} did not start") from None
                time.sleep(0.2)

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)
