"""Where the benches write: one directory per run under loadtest/reports/ (REPORTS moves it)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def report_dir(kind: str) -> Path:
    """loadtest/reports/<UTC timestamp>-<kind>/, made here."""
    out = (
        Path(os.environ.get("REPORTS", ROOT / "loadtest" / "reports")) / f"{datetime.now(tz=UTC):%Y%m%dT%H%M%SZ}-{kind}"
    )
    out.mkdir(parents=True)
    return out
