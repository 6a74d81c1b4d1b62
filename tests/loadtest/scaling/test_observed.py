"""loadtest/scaling/observed.py: Prometheus's rows become a point's figures (the stack bench test reads real ones)."""

from __future__ import annotations

import pytest

from loadtest.scaling import observed
from loadtest.server_stats import Row


def _row(key: str, instance: str, value: float) -> Row:
    return Row(key, "section", "what", instance, value)


def test_app_servers_are_summed_and_hosts_averaged_per_role() -> None:
    rows = [
        _row("app_rps", "sb-app1", 40.0), _row("app_rps", "sb-app2", 60.0),
        _row("host_cpu", "sb-app1", 0.2), _row("host_cpu", "sb-app2", 0.4), _row("host_cpu", "sb-db", 0.5),
        _row("pg_connections", "sb-db", 12), _row("pg_max_connections", "sb-db", 100),
    ]  # fmt: skip
    roles = {"sb-app1": "app", "sb-app2": "app", "sb-db": "db"}
    figures = observed.figures(rows, roles)
    assert figures["app_rps"] == 100.0
    assert figures["app_host_cpu"] == pytest.approx(0.3)
    assert figures["db_host_cpu"] == 0.5
    assert (figures["pg_connections"], figures["pg_max_connections"]) == (12, 100)


def test_a_host_without_a_role_keeps_its_own_name() -> None:
    assert observed.figures([_row("host_share", "elsewhere", 0.25)], {}) == {"elsewhere_host_share": 0.25}
