"""`make stack-up MONITORING=1`: Prometheus scrapes every app server of the local stack with the one rules file, and
the app-server-down alert fires when one stops and resolves when it is back."""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from deploy.local import stack as local_stack
from deploy.monitoring.render import RULES
from tests.harness.leftovers import scratch_dir
from tests.harness.requires import needs
from tests.harness.servers import free_port_block, get

pytestmark = [pytest.mark.live, needs("nginx", "prometheus")]

T = TypeVar("T")


@pytest.fixture(scope="module")
def monitored() -> Iterator[local_stack.Stack]:
    directory = scratch_dir("stack-monitoring")
    base = free_port_block(5)  # nginx, 2 app servers, PostgreSQL, Prometheus
    started = local_stack.up(
        directory, topology="split", app_servers=2, port=base, first_app_port=base + 1, database_port=base + 3,
        monitoring_port=base + 4, workers=1, seed=(3, 20, 20), nginx_overrides={"nginx_microcache_enabled": False},
    )  # fmt: skip
    try:
        yield started
    finally:
        local_stack.down(directory)
        assert not local_stack.process_alive(started.prometheus_pid, "prometheus"), "stack-down stops Prometheus"
        shutil.rmtree(directory, ignore_errors=True)


def api(stack: local_stack.Stack, path: str, **query: str) -> Any:
    url = f"http://127.0.0.1:{stack.monitoring_port}/api/v1/{path}?{urllib.parse.urlencode(query)}"
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)["data"]


def eventually(check: Callable[[], T | None], within: float, what: str) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise AssertionError(f"{what}: not within {within:.0f} s")


def by_instance(stack: local_stack.Stack, query: str) -> dict[str, float]:
    return {r["metric"]["instance"]: float(r["value"][1]) for r in api(stack, "query", query=query)["result"]}


def app_down_alerts(stack: local_stack.Stack) -> dict[str, str]:
    alerts = api(stack, "alerts")["alerts"]
    return {
        a["labels"]["instance"]: a["state"] for a in alerts if a["labels"]["alertname"] == "ScaleboardAppServerDown"
    }


def test_every_app_server_is_scraped_and_counted(monitored: local_stack.Stack) -> None:
    assert local_stack.status(monitored.directory), "stack-status counts Prometheus in"
    instances = {f"127.0.0.1:{server.port}" for server in monitored.app_servers}
    eventually(lambda: by_instance(monitored, 'up{job="scaleboard-app"}') == dict.fromkeys(instances, 1.0), 30,
               "every app server up")  # fmt: skip
    for _ in range(20):  # nginx spreads them over both app servers
        assert get(monitored.url("/new"))[0] == 200
    counted = eventually(
        lambda: (rates := by_instance(monitored, "sum by (instance) (increase(scaleboard_http_requests_total[1m]))"))
        and set(rates) == instances and all(rate > 0 for rate in rates.values()) and rates,
        30, "requests counted on every app server",
    )  # fmt: skip
    assert set(counted) == instances


def test_the_app_dashboard_has_data_in_every_panel(monitored: local_stack.Stack) -> None:
    dashboard = json.loads((RULES.parent / "dashboards/scaleboard-app.json").read_text())
    for _ in range(10):
        assert get(monitored.url("/"))[0] == 200
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            eventually(lambda e=target["expr"]: api(monitored, "query", query=e)["result"], 30,
                       f"{panel['title']}: {target['expr']}")  # fmt: skip


def test_an_app_server_down_fires_the_alert_and_its_return_resolves_it(monitored: local_stack.Stack) -> None:
    server = monitored.app_servers[0]
    instance = f"127.0.0.1:{server.port}"
    local_stack.stop_app_server(monitored, server)
    try:
        # `for: 1m` after the first failed scrape (every 5 s here), then one evaluation.
        eventually(lambda: app_down_alerts(monitored).get(instance) == "firing", 120, f"{instance} down alert firing")
        assert set(app_down_alerts(monitored)) == {instance}, "only the stopped app server"
    finally:
        local_stack.start_app_server(monitored, server)
        monitored.save()
    eventually(lambda: instance not in app_down_alerts(monitored), 60, "the alert resolved")
