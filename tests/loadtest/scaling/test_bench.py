"""`make bench-scaling QUICK=1 MONITORING=1` (TARGET=stack): really run, on CPU-capped app servers, with Prometheus
beside them, and leave nothing behind."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from deploy.local.cpu_cap import CGROUP_ROOT, GROUP_PREFIX
from tests.harness import leftovers
from tests.harness.requires import needs
from tests.loadtest.conftest import run_bench


def _cgroup_children() -> set[str]:
    groups = set()
    for parent in (CGROUP_ROOT / "cpu" / GROUP_PREFIX, CGROUP_ROOT / GROUP_PREFIX):
        if parent.is_dir():
            groups |= {child.name for child in parent.iterdir() if child.is_dir()}
    return groups


@pytest.mark.live
@needs("nginx", "prometheus", root=True)  # app servers are CPU-capped with cgroups
def test_quick_bench_measures_the_lines_both_workloads_a_kill_and_the_bill(bench_dirs: tuple[Path, Path]) -> None:
    stack_dir, reports = bench_dirs
    result = run_bench("loadtest.scaling", bench_dirs, TARGET="stack", MONITORING="1")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "vertical: 2 unit(s)" in result.stdout  # progress is printed while it runs
    (out,) = reports.iterdir()
    with (out / "results.csv").open() as rows:
        points = {(row["workload"], row["line"], int(row["units"])): row for row in csv.DictReader(rows)}
    assert set(points) == {
        (w, line, u) for w in ("front", "mix") for line in ("vertical", "horizontal") for u in (1, 2)
    } | {("front", "cached", 2), ("mix", "cached", 2)}  # QUICK: the cached line's largest point only
    for row in points.values():
        # The front page always fits the SLO; the mix's sign-ins may not on one quarter-CPU server in QUICK's
        # short steps, and the report says so.
        assert float(row["rps"]) > 0 or (row["workload"] == "mix" and row["note"] == "no step met the SLO"), row
        # The cap held: app servers never used much more than their quota.
        assert float(row["app_cpu"]) <= int(row["servers"]) * float(row["cpus"]) * 1.2 + 0.05, row
        if float(row["rps"]):
            assert float(row["usd_per_million"]) > 0, row
            assert row["app_instance"].startswith("t3."), row
            assert int(row["db_max_connections"]) > 0, "PostgreSQL's sessions were sampled"
    # With the microcache, nginx answers the anonymous front page: the app servers see a miss a second.
    cached, uncached = points[("front", "cached", 2)], points[("front", "horizontal", 2)]
    per_request = [float(p["app_cpu"]) / float(p["rps"]) for p in (cached, uncached)]
    assert per_request[0] < per_request[1] / 4, (cached, uncached)
    with (out / "steps.csv").open() as rows:
        mix_users = [int(row["users"]) for row in csv.DictReader(rows) if row["workload"] == "mix"]
    assert min(mix_users) >= 10, "every step of the mix runs readers, writers and API clients"
    with (out / "failures.csv").open() as rows:
        (kill,) = list(csv.DictReader(rows))[:1]
    # One of two servers killed: nginx sends its share to the other; most of the throughput stays.
    assert kill["line"] == "horizontal"
    assert kill["servers"] == "2"
    assert 0.2 < float(kill["kept"]) < 1.1, kill
    for plot in ("throughput.png", "latency.png", "cost.png", "failure.png", "cache.png"):
        assert (out / plot).stat().st_size > 10_000, plot
    # Prometheus scraped the app servers through every measured point: their own counters saw the load.
    with (out / "observed.csv").open() as rows:
        observed = {(row["workload"], row["line"], int(row["units"])): row for row in csv.DictReader(rows)}
    measured = {key for key, row in points.items() if float(row["rps"])}
    assert measured <= set(observed)
    # A window that still held sign-ins is marked invalid: the app's counters stall while every worker hashes a
    # password. The front page has no sign-ins, so its points are always checked.
    settled = {key for key in measured if not points[key]["note"].startswith("sign-ins ran into")}
    assert {key for key in points if key[0] == "front"} <= settled
    for key in settled - {("front", "cached", 2)}:
        assert float(observed[key]["app_rps"]) > 0, observed[key]
        assert float(observed[key]["app_sql"]) > 0, observed[key]
    # The cached front page reaches the app servers only on a miss, about once per TTL: in a few seconds' window
    # their counters may not move at all. Prometheus sees what Locust's figures imply: nginx answered the rest.
    cached_seen = observed[("front", "cached", 2)]
    assert float(cached_seen["app_rps"]) < float(cached["rps"]) / 4, (cached_seen, cached)
    report = (out / "report.md").read_text()
    assert "## What Prometheus saw" in report
    assert report.index("## Conclusion") < report.index("## Points")
    assert "## A server killed mid-step" in report
    assert "Universal Scalability Law" in report
    # Caps and processes are gone afterwards.
    assert {group for group in _cgroup_children() if group.startswith(stack_dir.name)} == set()
    assert not (stack_dir / "state.json").exists()
    assert leftovers.processes_mentioning(str(stack_dir)) == []
