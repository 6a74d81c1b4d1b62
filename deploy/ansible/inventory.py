"""The inventory group contract, written in one place for every generated inventory (lab, aws).

Groups `db`, `app`, `lb` and `monitor` (Prometheus and Alertmanager); an all-in-one host is in all four. Every
host has `ansible_host` (where Ansible connects) and `scaleboard_private_address` (where the other hosts reach
it). The contract: deploy/ansible/inventories/aws/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

GROUPS = ("db", "app", "lb", "monitor")


@dataclass(frozen=True)
class InventoryHost:
    name: str
    groups: tuple[str, ...]
    address: str
    private_address: str
    # Host variables beyond the contract's two, e.g. a per-host scaleboard_env_overrides.
    variables: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.groups) - set(GROUPS)
        if unknown or not self.groups:
            raise ValueError(f"host {self.name}: groups must be some of {', '.join(GROUPS)}, not {self.groups}")


def write(
    path: Path, hosts: Iterable[InventoryHost], variables: dict[str, Any], *, written_by: str
) -> dict[str, list[str]]:
    """Write the inventory (YAML, as JSON is YAML) under a header saying who wrote it; returns {group: host names}."""
    groups: dict[str, dict[str, dict[str, dict[str, Any]]]] = {group: {"hosts": {}} for group in GROUPS}
    for host in hosts:
        for group in host.groups:
            groups[group]["hosts"][host.name] = {
                "ansible_host": host.address,
                "scaleboard_private_address": host.private_address,
                **host.variables,
            }
    path.parent.mkdir(parents=True, exist_ok=True)
    inventory = {"all": {"vars": variables, "children": groups}}
    path.write_text(f"# {written_by}\n" + json.dumps(inventory, indent=2) + "\n")
    return {group: sorted(members["hosts"]) for group, members in groups.items()}


def read(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The groups of a written inventory: {group: {host: vars}} (empty if there is none)."""
    if not path.exists():
        return {}
    children = yaml.safe_load(path.read_text())["all"]["children"]
    return {group: members["hosts"] for group, members in children.items()}
