"""Progress lines the benches print while they run, each with the time."""

from __future__ import annotations

from datetime import UTC, datetime


def log(message: str) -> None:
    print(f"[{datetime.now(tz=UTC):%H:%M:%S}] {message}", flush=True)
