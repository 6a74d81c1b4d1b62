"""`make bench-scaling QUICK=1`: really run, on CPU-capped app servers, and leave nothing behind."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from deploy.local.cpu_cap import CGROUP_ROOT, GROUP_PREFIX
from loadtest.bench_scaling import Point, Settings, explain
from tests.harness.requires import needs
from tests.loadtest.conftest import run_bench


def _cgroup_children() -> set[str]:
    groups = set()
    for parent in (CGROUP_ROOT / "cpu" / GROUP_PREFIX, CGROUP_ROOT / GROUP_PREFIX):
        if parent.is_dir():
            groups |= {child.name for child in parent.iterdir() if child.is_dir()}
    return groups


@pytest.mark.live
@needs("nginx", root=True)  # app servers are CPU-capped with cgroups
def test_quick_bench_produces_csv_plot_and_report(bench_dirs: tuple[Path, Path]) -> None:
    stack_dir, reports = bench_dirs
    result = run_bench("bench_scaling.py", bench_dirs, STEP_SECONDS="3")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "vertical: 2 unit(s)" in result.stdout  # progress is printed while it runs
    (out,) = reports.iterdir()
    with (out / "results.csv").open() as rows:
        points = {(row["line"], int(row["units"])): row for row in csv.DictReader(rows)}
    assert set(points) == {("vertical", 1), ("horizontal", 1), ("vertical", 2), ("horizontal", 2), ("django", 1),
                           ("raw-wsgi", 1)}  # fmt: skip
    for row in points.values():
        if row["valid"] == "True":
            assert float(row["rps"]) > 0
            # The cap held: an app server never used much more than its quota.
            assert float(row["app_cpu"]) <= int(row["units"]) * 0.25 * 1.3 + 0.05
    assert (out / "scaling.png").stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "## What the numbers say" in report
    assert "Speed of light" in report
    # Caps and processes are gone afterwards.
    assert {group for group in _cgroup_children() if group.startswith(stack_dir.name)} == set()
    assert not (stack_dir / "state.json").exists()


def _point(line: str, units: int, rps: float, app_cpu: float) -> Point:
    return Point(line, units, units if line == "horizontal" else 1, 2, units * 2, rps, 100, 200, 300, 0, app_cpu,
                 0.02, 0.05, 0.1, valid=True)  # fmt: skip


def test_report_names_the_bend_and_the_wall() -> None:
    settings = Settings(unit=0.25, points=4)
    points = [
        _point("vertical", 1, 10, 0.25), _point("vertical", 2, 20, 0.5), _point("vertical", 3, 21, 0.5),
        _point("vertical", 4, 22, 0.5), _point("horizontal", 1, 10, 0.25), _point("horizontal", 2, 20, 0.5),
        _point("horizontal", 3, 30, 0.75), _point("horizontal", 4, 39, 1.0),
    ]  # fmt: skip
    sol = (_point("django", 1, 10, 0.25), _point("raw-wsgi", 1, 100, 0.25))
    words = "\n".join(explain(points, settings, sol))
    assert "**vertical**: bends at 3 units" in words
    assert "**horizontal**: near-linear up to 4 units" in words
    assert "At 4 units, more servers wins" in words
    assert "**0.10x**" in words
