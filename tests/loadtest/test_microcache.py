"""`make bench-microcache` really runs: Locust's readers against the split stack, microcache off, then on."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.microcache import Run, report
from tests.harness.requires import needs
from tests.loadtest.conftest import run_bench


@pytest.mark.live
@needs("nginx")
def test_readers_cost_the_app_servers_less_with_the_microcache(bench_dirs: tuple[Path, Path]) -> None:
    stack_dir, reports = bench_dirs
    result = run_bench("loadtest.microcache", bench_dirs, DURATION="10s", READERS="20", APP_SERVERS="1",
                       SEED_POSTS="200")  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (out,) = reports.iterdir()
    rows = [line.split("|") for line in (out / "report.md").read_text().splitlines() if line.startswith("| o")]
    cost = {row[1].strip(): float(row[5]) for row in rows}  # app servers' CPU s per 1,000 requests
    assert set(cost) == {"off", "on"}
    # The front page, about 40 % of the readers' requests, is one shared copy per second with the microcache.
    assert 0 < cost["on"] < cost["off"]
    assert not stack_dir.exists()  # the stack was taken down and its directory removed


def test_report_gives_cpu_per_thousand_requests_and_the_saving() -> None:
    off = Run(False, 2000, 0, 40.0, {"app": 8.0, "nginx": 1.0, "postgres": 2.0})
    on = Run(True, 2000, 0, 10.0, {"app": 2.0, "nginx": 1.2, "postgres": 0.5})
    text = report([off, on], 2, "60s")
    assert "| off | 2,000 | 0 | 40 | 4.00 | 0.50 | 1.00 |" in text
    assert "| on | 2,000 | 0 | 10 | 1.00 | 0.60 | 0.25 |" in text
    assert "saved the app servers 75% of their CPU per request" in text
