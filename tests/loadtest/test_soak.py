"""The soak's arithmetic: durations, p95 per minute from Locust's history, memory growth."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.soak import Memory, latency_per_minute, memory_growth, seconds


@pytest.mark.parametrize(("text", "expected"), [("90s", 90), ("10m", 600), ("1h", 3600)])
def test_durations(text: str, expected: int) -> None:
    assert seconds(text) == expected


@pytest.mark.parametrize("text", ["10", "m", "0m", "1d", "1.5m"])
def test_bad_durations_say_what_is_wanted(text: str) -> None:
    with pytest.raises(SystemExit, match="DURATION is like"):
        seconds(text)


def test_p95_per_minute_is_each_minutes_last_aggregated_row(tmp_path: Path) -> None:
    history = tmp_path / "history.csv"
    header = "Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,95%,Total Request Count,Total Failure Count\n"
    rows = [
        "1000,5,,Aggregated,1,0,10,30,10,0",
        "1001,5,GET,/,1,0,10,99,5,0",  # a single request name: not the aggregate
        "1059,5,,Aggregated,1,0,10,40,50,0",
        "1060,5,,Aggregated,1,0,10,N/A,51,1",
        "1110,5,,Aggregated,1,0,10,55,90,2",
        "1150,0,,Aggregated,0,0,10,N/A,90,2",  # no request in the rolling window
    ]
    history.write_text(header + "\n".join(rows) + "\n")
    assert latency_per_minute(history) == [(0, 40.0, 0), (1, 55.0, 2), (2, None, 2)]


def test_memory_growth_compares_the_second_tenth_with_the_last() -> None:
    samples = {"app-1": [(0.0, 50.0), (15.0, 100.0), (50.0, 104.0), (95.0, 110.0)]}
    assert memory_growth(samples, total=100) == [Memory("app-1", 100.0, 110.0)]
    assert Memory("app-1", 100.0, 110.0).growth == pytest.approx(0.10)
