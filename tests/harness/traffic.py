"""A small, bounded GET load for reliability tests: it counts every answer and every failure."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Traffic:
    """`clients` threads GETting `urls` in turn until stopped or `max_seconds` pass (whichever first), with
    `headers` on every request."""

    urls: list[str]
    clients: int = 4
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 10
    max_seconds: float = 120
    statuses: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    slowest: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _log: list[tuple[float, int]] = field(default_factory=list)

    def _client(self, offset: int) -> None:
        deadline = time.monotonic() + self.max_seconds
        i = offset
        while not self._stop.is_set() and time.monotonic() < deadline:
            url = self.urls[i % len(self.urls)]
            i += 1
            started = time.monotonic()
            status = 0
            try:
                request = urllib.request.Request(url, headers=self.headers)  # noqa: S310 - loopback only
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - loopback only
                    response.read()
                    status = response.status
            except urllib.error.HTTPError as exc:
                status = exc.code
            except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
                # HTTPException: e.g. IncompleteRead, a response cut off after its headers.
                with self._lock:
                    self.errors.append(f"{url}: {type(exc).__name__}: {exc}")
            elapsed = time.monotonic() - started
            with self._lock:
                if status:
                    self.statuses[status] += 1
                self._log.append((time.monotonic(), status))
                self.slowest = max(self.slowest, elapsed)

    def __enter__(self) -> Traffic:
        self._threads = [threading.Thread(target=self._client, args=(n,), daemon=True) for n in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + len(self.errors)

    def statuses_since(self, moment: float) -> Counter[int]:
        with self._lock:
            return Counter(status for at, status in self._log if at >= moment)
