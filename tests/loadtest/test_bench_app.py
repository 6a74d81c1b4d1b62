"""`make bench-app QUICK=1` really runs: wrk against the app, nginx and the raw-WSGI reference."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.harness.requires import needs
from tests.loadtest.conftest import run_bench


@pytest.mark.live
@needs("wrk", "nginx")
def test_quick_bench_app_reports_every_page_with_ratios(bench_dirs: tuple[Path, Path]) -> None:
    stack_dir, reports = bench_dirs
    result = run_bench("loadtest.bench_app", bench_dirs, DURATION="1", SEED_POSTS="300")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (out,) = reports.iterdir()
    with (out / "bench-app.csv").open() as rows:
        results = {(row["page"], row["via"]): row for row in csv.DictReader(rows)}
    pages = {"front page", "new", "post with ~100 comments", "search", "API post list", "healthz"}
    cached = ("front page, microcache", "nginx")
    assert set(results) == {("front page (raw WSGI)", "direct"), cached} | {
        (p, v) for p in pages for v in ("direct", "nginx")
    }
    for (page, via), row in results.items():
        assert float(row["rps_median"]) > 0
        assert float(row["cpu_ms_per_request"]) > 0
        if via == "nginx" and (page, via) != cached:
            assert float(row["nginx_to_direct"]) > 0
    # nginx's copy is served without the app: many times the app's own rate, even on a small data set.
    assert float(results[cached]["rps_median"]) > 3 * float(results["front page", "nginx"]["rps_median"])
    assert "x speed of light" in (out / "summary.md").read_text()
    assert not (stack_dir / "state.json").exists()  # the stack was taken down


def test_ratios_pair_each_run_with_the_reference_run_before_it() -> None:
    from loadtest.bench_app import paired_ratio

    # The machine's speed changed between rounds: the round-by-round ratios are 0.25, 0.5, 0.5; the
    # ratio of the two medians (100 / 400) would say 0.25.
    page = [(100.0, 1.0, 2.0), (300.0, 1.0, 2.0), (50.0, 1.0, 2.0)]
    reference = [(400.0, 1.0, 2.0), (600.0, 1.0, 2.0), (100.0, 1.0, 2.0)]
    assert paired_ratio(page, reference) == 0.5
    with pytest.raises(ValueError, match="shorter"):
        paired_ratio(page, reference[:2])
