"""A step's figures from Locust's request log and psql's samples."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from loadtest.scaling.results import invalid_because
from loadtest.scaling.steps import DbActivity, Step, read_requests, setup_done, summarise, window


def test_only_the_window_counts_and_sign_ins_and_rate_limits_are_apart(tmp_path: Path) -> None:
    start = 1000.0
    rows = [(start + 0.5, "/", 200, 5, 0)]  # warm-up: in the timeline, not in the figures
    rows += [(start + 2 + i / 100, "/", 200, 10 + i % 10, 0) for i in range(100)]
    rows += [
        (start + 3, "/", 502, 1, 1),
        (start + 3, "POST /login", 200, 900, 0),
        (start + 3, "POST /submit", 429, 1, 1),
    ]
    with (tmp_path / "requests-1.csv").open("w", newline="") as out:
        csv.writer(out).writerows(rows)
    step = Step(users=4)
    summarise(step, list(read_requests(tmp_path)), start, (start + 2, start + 4))
    assert (step.requests, step.errors, step.rate_limited) == (101, 1, 1)
    assert step.rps == pytest.approx(100 / 2)
    assert step.p50_ms == 14
    assert step.p95_ms == 19
    assert step.timeline == [(0, 1, 0), (1, 0, 0), (2, 100, 0), (3, 0, 1)]


def test_db_activity_is_the_mean_of_the_samples() -> None:
    output = "2|1|0|0|0|10|100\n4|3|0|1|0|12|100\nWed Dec  2 (every 0.5s)\n"
    activity = DbActivity.parse(output)
    assert (activity.on_cpu, activity.lock, activity.io, activity.connections) == (3, 2, 0.5, 11)
    assert (activity.max_connections, activity.samples) == (100, 2)
    assert DbActivity.parse("") == DbActivity()


def test_the_window_starts_after_the_warm_up_and_the_last_sign_in() -> None:
    rows = [(10.0, "/", 200, 5.0, False), (14.0, "POST /login", 200, 900.0, False)]
    assert window(rows, earliest=12, end=30) == 14.5
    assert window(rows[:1], earliest=12, end=30) == 12
    assert window(rows, earliest=12, end=16) == 13  # never shorter than three seconds


def test_a_step_whose_sign_ins_ran_into_its_window_is_invalid() -> None:
    rows = [(10.0, "/", 200, 5.0, False), (14.0, "POST /login", 200, 900.0, False)]
    start = window(rows, earliest=12, end=16)
    assert setup_done(rows) == 14 > start  # what steps.run records as `unsettled`
    cpu = {"generator": 0.1, "machine": 0.5}
    assert "sign-ins ran into the measured window" in invalid_because(Step(4, cpu=cpu, unsettled=True), 1)
    assert invalid_because(Step(4, cpu=cpu), 1) == ""
