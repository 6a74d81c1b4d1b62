"""The one writer of the inventory group contract (the lab's and AWS's inventories both use it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deploy.ansible import inventory


def test_written_inventory_follows_the_group_contract(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "hosts.yml"
    hosts = [
        inventory.InventoryHost("db", ("db",), "203.0.113.5", "10.0.0.5"),
        inventory.InventoryHost("app-1", ("app",), "203.0.113.6", "10.0.0.6"),
        inventory.InventoryHost("lb", ("lb",), "203.0.113.7", "10.0.0.7"),
        inventory.InventoryHost("monitor", ("monitor",), "203.0.113.8", "10.0.0.8"),
    ]
    groups = inventory.write(path, hosts, {"scaleboard_topology": "split"}, written_by="Written by a test.")
    assert groups == {"db": ["db"], "app": ["app-1"], "lb": ["lb"], "monitor": ["monitor"]}
    text = path.read_text()
    assert text.startswith("# Written by a test.\n")
    assert yaml.safe_load(text)["all"]["vars"] == {"scaleboard_topology": "split"}
    assert inventory.read(path)["app"] == {
        "app-1": {"ansible_host": "203.0.113.6", "scaleboard_private_address": "10.0.0.6"}
    }


def test_host_variables_go_with_the_host(tmp_path: Path) -> None:
    overrides = {"scaleboard_env_overrides": {"WEB_CONCURRENCY": "8"}}
    host = inventory.InventoryHost("app-1", ("app",), "192.0.2.1", "10.0.0.1", overrides)
    inventory.write(tmp_path / "hosts.yml", [host], {}, written_by="test")
    assert inventory.read(tmp_path / "hosts.yml")["app"]["app-1"]["scaleboard_env_overrides"] == {
        "WEB_CONCURRENCY": "8"
    }


def test_an_all_in_one_host_is_in_every_group(tmp_path: Path) -> None:
    host = inventory.InventoryHost("server", inventory.GROUPS, "192.0.2.1", "192.0.2.1")
    groups = inventory.write(tmp_path / "hosts.yml", [host], {}, written_by="test")
    assert groups == {"db": ["server"], "app": ["server"], "lb": ["server"], "monitor": ["server"]}


@pytest.mark.parametrize("groups", [("web",), ()])
def test_a_host_outside_the_contract_is_refused(groups: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="groups must be some of db, app, lb, monitor"):
        inventory.InventoryHost("x", groups, "192.0.2.1", "192.0.2.1")


def test_reading_a_missing_inventory_gives_no_groups(tmp_path: Path) -> None:
    assert inventory.read(tmp_path / "absent.yml") == {}
