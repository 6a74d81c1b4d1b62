"""loadtest/server_stats.py's report (the lab test reads a real one from a real Prometheus: tests/deploy/ansible)."""

from __future__ import annotations

import pytest

from loadtest import server_stats
from tests.harness.servers import free_port


def test_the_report_is_a_table_and_names_what_was_not_scraped() -> None:
    rows = [server_stats.Row("host_cpu", "hosts", "CPU busy (cores)", "sb-app1", 0.4213, "{:.2f}"),
            server_stats.Row("app_rps", "app servers", "requests/s", "sb-app1", 12.0)]  # fmt: skip
    text = server_stats.markdown(rows, "http://10.77.0.12:9090", 100.0, 160.0)
    assert text.startswith("# The servers during the run (60 s, from http://10.77.0.12:9090)\n")
    assert "| hosts | CPU busy (cores) | sb-app1 | 0.42 |" in text
    assert text.endswith("Not scraped: PostgreSQL.\n")


def test_nothing_scraped_is_said_plainly() -> None:
    assert "Prometheus had no series for this window" in server_stats.markdown([], "http://x", 0.0, 30.0)


def test_an_unreachable_prometheus_is_one_line_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert server_stats.main(["--prometheus", url, "--start", "0", "--end", "60"]) == 1
    assert capsys.readouterr().err.startswith(f"loadtest: Prometheus at {url} did not answer")
