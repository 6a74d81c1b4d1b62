"""What a lab point changes in the inventory: the app group's members, the app hosts' and the monitor's variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy import defaults
from deploy.ansible import inventory
from deploy.lab import lab as lab_module
from deploy.local.stack import BENCHMARK_ENV, benchmark_nginx
from loadtest.scaling.lab_target import LabTarget
from loadtest.scaling.observed import SCRAPE_SECONDS
from loadtest.scaling.settings import Settings


def test_a_point_writes_its_pool_and_sizes_into_the_inventory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab_module, "LAB_DIR", tmp_path)  # where the lab's secrets are made
    path = tmp_path / "hosts.yml"
    target = LabTarget(Settings(target="lab"), tmp_path)
    target.lab = lab_module.Lab("split", lab_module.plan("split", 4), app_cpus=0.25, inventory=str(path))
    apps = target.app_hosts
    target.pool = apps[:2]
    target.workers = {apps[0].name: 4, apps[1].name: 2}
    target.write_inventory()
    groups = inventory.read(path)
    assert sorted(groups["app"]) == ["sb-app1", "sb-app2"]  # nginx's upstream is rendered from this group
    assert groups["app"]["sb-app1"]["scaleboard_env_overrides"] == {**BENCHMARK_ENV, "WEB_CONCURRENCY": "4"}
    assert groups["lb"]["sb-lb"]["nginx_rate_limit"] == benchmark_nginx()["nginx_rate_limit"]
    assert groups["lb"]["sb-lb"]["nginx_microcache_enabled"] is False  # the app path, not the cache
    target.microcache = True  # the cached line
    target.write_inventory()
    assert inventory.read(path)["lb"]["sb-lb"]["nginx_microcache_enabled"] is True
    assert list(groups["db"]) == ["sb-db"]
    # The monitor host scrapes as often as the bench's observations need; its Prometheus is the target's.
    assert groups["monitor"]["sb-monitor"]["monitoring_scrape_interval"] == f"{SCRAPE_SECONDS}s"
    assert target.prometheus == f"http://{target.host('monitor').address}:{defaults.MONITOR_PORTS['prometheus']}"
    assert target.roles() == {"sb-db": "db", "sb-lb": "lb", "sb-monitor": "monitor"} | {
        host.name: "app" for host in apps
    }
