"""`make stack-up MONITORING=1`: Prometheus scrapes every app server of the local stack with the one rules file, and
the app-server-down alert fires when one stops and resolves when it is back."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest

from deploy.local import stack as local_stack
from deploy.monitoring.render import RULES
from tests.harness.leftovers import scratch_dir
from tests.harness.prometheus import alert_states, api, by_instance, eventually, panel_queries
from tests.harness.requires import needs
from tests.harness.servers import free_port_block, get

pytestmark = [pytest.mark.live, needs("nginx", "prometheus")]


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


@pytest.fixture(scope="module")
def prometheus(monitored: local_stack.Stack) -> str:
    return f"http://127.0.0.1:{monitored.monitoring_port}"


def test_every_app_server_is_scraped_and_counted(monitored: local_stack.Stack, prometheus: str) -> None:
    assert local_stack.status(monitored.directory), "stack-status counts Prometheus in"
    instances = {"app1", "app2"}  # the stack names its app servers in order
    eventually(lambda: by_instance(prometheus, 'up{job="scaleboard-app"}') == dict.fromkeys(instances, 1.0), 30,
               "every app server up")  # fmt: skip
    for _ in range(20):  # nginx spreads them over both app servers
        assert get(monitored.url("/new"))[0] == 200
    # The counter itself, not increase(): a series born with these requests has no earlier sample to rise from
    # (scrapes of /metrics are not counted, so nothing else makes it rise).
    new_page = 'sum by (instance) (scaleboard_http_requests_total{view="board:new"})'
    counted = eventually(
        lambda: (found := by_instance(prometheus, new_page)) and sum(found.values()) == 20 and found,
        30, "the 20 requests counted",
    )  # fmt: skip
    assert set(counted) == instances, f"requests on every app server: {counted}"
    assert set(counted) == instances


def test_the_app_dashboard_has_data_in_every_panel(monitored: local_stack.Stack, prometheus: str) -> None:
    for _ in range(10):
        assert get(monitored.url("/"))[0] == 200
    for title, expr in panel_queries(RULES.parent / "dashboards/scaleboard-app.json"):
        eventually(lambda e=expr: api(prometheus, "query", query=e)["result"], 30, f"{title}: {expr}")


def test_an_app_server_down_fires_the_alert_and_its_return_resolves_it(
    monitored: local_stack.Stack, prometheus: str
) -> None:
    server = monitored.app_servers[0]
    instance = "app1"
    local_stack.stop_app_server(monitored, server)
    try:
        # `for: 1m` after the first failed scrape (every 5 s here), then one evaluation.
        eventually(
            lambda: alert_states(prometheus, "ScaleboardAppServerDown").get(instance) == "firing",
            120,
            f"{instance} down alert firing",
        )
        assert set(alert_states(prometheus, "ScaleboardAppServerDown")) == {instance}, "only the stopped app server"
    finally:
        local_stack.start_app_server(monitored, server)
        monitored.save()
    eventually(lambda: instance not in alert_states(prometheus, "ScaleboardAppServerDown"), 60, "the alert resolved")
