"""`make loadtest` against the local stack: real Locust users, real reports, thresholds that bite."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

import pytest

from deploy.local.stack import Stack
from loadtest import shapes
from tests.harness.requires import needs
from tests.harness.servers import REPO

pytestmark = [pytest.mark.live, needs("nginx")]


def run_loadtest(stack: Stack, reports: Path, **variables: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    env = {
        **os.environ,
        "HOST": stack.url("").rstrip("/"),
        "REPORTS": str(reports),
        "LOADTEST_DEMO_USERS": "5",  # the stack fixture seeds demo1..demo5
        **variables,
    }
    result = subprocess.run(["loadtest/run.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    runs = sorted(reports.iterdir())
    assert runs, result.stdout + result.stderr
    return result, runs[-1]


def stats_by_name(report: Path) -> dict[str, dict[str, str]]:
    with (report / "locust_stats.csv").open() as rows:
        return {row["Name"]: row for row in csv.DictReader(rows)}


def test_mixed_traffic_run_writes_reports_and_passes(stack: Stack, tmp_path: Path) -> None:
    result, report = run_loadtest(stack, tmp_path, USERS="12", SPAWN_RATE="12", RUN_TIME="12s")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (report / "report.html").stat().st_size > 10_000
    summary = json.loads((report / "summary.json").read_text())
    assert summary["passed"] is True
    assert summary["requests"] > 30
    assert summary["failures"] == 0
    names = set(stats_by_name(report))
    # Readers, writers (signed in) and API clients all did their work.
    assert {"/", "/post/[id]", "POST /login", "/api/posts"} <= names


def test_several_processes_write_one_summary_and_a_request_log_each(stack: Stack, tmp_path: Path) -> None:
    result, report = run_loadtest(
        stack, tmp_path, USERS="4", SPAWN_RATE="4", RUN_TIME="6s", SCENARIO="front", PROCESSES="2",
        LOADTEST_REQUEST_LOG="1",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    logs = sorted(report.glob("requests-*.csv"))
    assert len(logs) == 2, "one request log per worker process"
    logged = sum(1 for log in logs for _ in csv.reader(log.open()))
    # The master's summary counts every worker's requests (a worker's own summary would count none).
    assert json.loads((report / "summary.json").read_text())["requests"] == logged > 0


def test_tags_select_a_scenario(stack: Stack, tmp_path: Path) -> None:
    result, report = run_loadtest(stack, tmp_path, USERS="4", SPAWN_RATE="4", RUN_TIME="6s", SCENARIO="api")
    assert result.returncode == 0, result.stderr
    names = set(stats_by_name(report)) - {"Aggregated", "/"}  # every user reads the front page on start
    assert names
    assert all("api" in name or "login" in name or "tokens" in name for name in names), names


def test_broken_thresholds_fail_the_run(stack: Stack, tmp_path: Path) -> None:
    result, report = run_loadtest(
        stack,
        tmp_path,
        USERS="2",
        SPAWN_RATE="2",
        RUN_TIME="4s",
        SCENARIO="read",
        LOADTEST_MAX_P95_MS="0.001",
    )
    assert result.returncode == 1
    assert "thresholds failed: p95" in result.stderr
    assert json.loads((report / "summary.json").read_text())["passed"] is False


def test_a_load_shape_runs_and_stops_by_itself(stack: Stack, tmp_path: Path) -> None:
    # The spike shape at 1/20 of its length: 3 s quiet, 1.5 s spike, 3 s quiet. A spike is meant to
    # overload the stack, so this run checks the shape, not latency.
    result, report = run_loadtest(
        stack,
        tmp_path,
        LOAD_SHAPE="spike",
        LOAD_SHAPE_SCALE="0.05",
        SCENARIO="read",
        LOADTEST_MAX_P95_MS="60000",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((report / "summary.json").read_text())["requests"] > 0


def test_missing_host_is_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "HOST"}
    result = subprocess.run(["loadtest/run.sh"], cwd=REPO, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "set HOST to the target" in result.stderr


def test_every_shape_is_well_formed() -> None:
    for name, stages in shapes.SHAPES.items():
        assert stages, name
        assert all(seconds > 0 and users > 0 and rate > 0 for seconds, users, rate in stages), name
