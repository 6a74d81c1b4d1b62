"""The report's judgements: the wall, the cheapest setup per load, the conclusion's comparisons."""

from __future__ import annotations

from loadtest.scaling.failure import Failure
from loadtest.scaling.report import buying_guide, conclusion, frontier, observed_rows
from loadtest.scaling.results import Point, name_wall
from loadtest.scaling.settings import Settings


def _point(line: str, units: int, rps: float, usd_per_hour: float, **extra: float) -> Point:
    servers = 1 if line == "vertical" else units
    cpus = 0.25 * units if line == "vertical" else 0.25
    values: dict = {"app_cpu": servers * cpus, "valid": True, "users": units * 2, "app_instance": "t3.micro"}
    values.update(extra)
    workers = 2 * units // servers
    return Point("front", line, units, servers, workers, cpus, rps=rps, usd_per_hour=usd_per_hour,
                 usd_per_million=usd_per_hour / (rps * 3600) * 1e6, **values)  # fmt: skip


def test_the_wall_is_named_from_the_evidence() -> None:
    assert name_wall(_point("horizontal", 2, 100, 0.1)) == "app CPU"
    idle_app = {"app_cpu": 0.2}
    assert name_wall(_point("horizontal", 2, 100, 0.1, db_lock_waits=3, db_on_cpu=1, **idle_app)) == "row locks"
    full = {"db_connections": 95, "db_max_connections": 100}
    assert name_wall(_point("horizontal", 2, 100, 0.1, **full, **idle_app)) == "connections"
    assert name_wall(_point("horizontal", 2, 100, 0.1, postgres_cpu=0.95, **idle_app)) == "PostgreSQL CPU"
    assert name_wall(_point("horizontal", 2, 100, 0.1, **idle_app)).startswith("latency")
    assert name_wall(_point("horizontal", 2, 100, 0.1, valid=False)).endswith("(invalid)")


def test_frontier_keeps_only_options_that_buy_more_capacity() -> None:
    a, b, c, d = (_point("vertical", u, 50 * u, 0.05 * u) for u in (1, 2, 3, 4))
    dearer_and_smaller = _point("horizontal", 2, 60, 0.3)
    options = [(p.rps, p.usd_per_hour, p) for p in (d, b, dearer_and_smaller, a, c)]
    assert [point for _, _, point in frontier(options)] == [a, b, c, d]


def test_buying_guide_prices_each_load_and_the_one_that_survives_a_kill() -> None:
    points = [
        _point("vertical", 1, 50, 0.06), _point("vertical", 2, 105, 0.07),
        _point("horizontal", 2, 100, 0.08),
        _point("cached", 2, 900, 0.08),  # the cache's line is reported apart, not bought from
    ]  # fmt: skip
    failures = [Failure("front", "horizontal", 2, 2, 4, kept=0.5), Failure("front", "vertical", 2, 1, 4, kept=0)]
    cheapest, surviving = buying_guide(points, failures, "front")
    assert cheapest.startswith("- At the lowest price: 0-50 req/s: 1 x t3.micro")
    assert "50-105 req/s: 1 x t3.micro app server (0.5 CPU, 4 workers)" in cheapest
    assert cheapest.endswith("0.070 USD/h (0.19 USD per million requests at that load).")
    # Only the two-server setup keeps serving: half its 100 req/s.
    assert surviving.startswith("- Still serving after one app server dies: 0-50 req/s: 2 x t3.micro")


def test_conclusion_compares_the_lines_at_equal_units() -> None:
    points = [_point("vertical", 1, 50, 0.06), _point("vertical", 2, 110, 0.07),
              _point("horizontal", 1, 50, 0.06), _point("horizontal", 2, 95, 0.08)]  # fmt: skip
    text = "\n".join(conclusion(points, [], Settings(points=2, workloads=("front",))))
    assert "At 2 units one bigger server serves more: 110 vs 95 req/s (1.16x)." in text
    assert "efficiency 1.10" in text
    assert "efficiency 0.95" in text


def test_conclusion_says_what_the_microcache_does_at_as_many_servers() -> None:
    points = [_point("horizontal", 1, 50, 0.06), _point("horizontal", 2, 95, 0.08),
              _point("cached", 2, 760, 0.08, app_cpu=0.05)]  # fmt: skip
    text = "\n".join(conclusion(points, [], Settings(points=2, workloads=("front",))))
    assert "2 servers serve 760 req/s with it, 95 without (8.0x), app CPU per request 0.07 vs 5.26 ms." in text
    # Locust saturated: what the cache served is a lower bound, and the report says so.
    points[-1].valid = False
    text = "\n".join(conclusion(points, [], Settings(points=2, workloads=("front",))))
    assert "2 servers serve at least 760 req/s with it, 95 without (>= 8.0x)" in text
    assert "(At least: the load generator or the machine was the wall.)" in text


def test_what_prometheus_saw_is_a_row_per_point_with_a_dash_where_nothing_was_scraped() -> None:
    assert observed_rows([_point("vertical", 1, 50, 0.05)]) == []  # no Prometheus: no section
    point = _point("vertical", 2, 100, 0.1)
    point.observed = {"app_rps": 104.2, "app_sql": 310.0, "app_host_cpu": 0.5}
    rows = observed_rows([point])
    assert rows[0] == "## What Prometheus saw"
    # Host CPU in the inventory's group order: db / app / lb / monitor.
    assert rows[-2] == "| front | vertical | 2 | 100.0 / 104.2 | 310.0 | - | - / - | - / 0.50 / - / - |"
