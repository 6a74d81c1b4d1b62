"""Every target's effective env, value by value, against the single source: the env contract's default, or the
deployment default (deploy/defaults.env). A target may differ only where docs/configuration.md's table of
intended overrides lists it, with its reason; a row there that no longer differs is an error too."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import environ
import pytest
import yaml
from config.env import CONTRACT, Var

from deploy import defaults
from deploy.local import stack as local_stack
from tests.deploy.ansible.resolve import resolved
from tests.harness.servers import REPO

VARS = {var.name: var for var in CONTRACT}
ANSIBLE = REPO / "deploy" / "ansible"
# No default exists for these: each deployment supplies its own (secrets, its host names, its database).
PER_DEPLOYMENT = {name for name, var in VARS.items() if var.required_in_production}


def expected(name: str) -> str | None:
    """The source's value: deploy/defaults.env's, else the contract's default."""
    if name == "DJANGO_SETTINGS_MODULE":
        return "config.settings.production"  # what every deploy target runs: no target may run another
    if name == "GUNICORN_BIND":
        return f"0.0.0.0:{defaults.APP_PORT}"
    if name in defaults.DEFAULTS:
        return defaults.DEFAULTS[name]
    return VARS[name].default


def same(var: Var, value: str, source: str | None) -> bool:
    if source is None:
        return False
    if var.name == "GUNICORN_BIND":  # the address is the target's; the port is APP_PORT
        return value.rpartition(":")[2] == source.rpartition(":")[2] and not value.startswith("unix:")
    if var.kind == "bool":
        true = environ.Env.BOOLEAN_TRUE_STRINGS  # what the env contract reads as true
        return (value.strip().lower() in true) == (source.strip().lower() in true)
    if var.kind == "list":
        return [v.strip() for v in value.split(",") if v.strip()] == [v.strip() for v in source.split(",") if v.strip()]
    return value == source


def env_file(path: Path) -> dict[str, str]:
    return defaults.parse(path.read_text())


def intended() -> dict[tuple[str, str], str]:
    """docs/configuration.md's table: (target, variable) -> reason."""
    text = (REPO / "docs/configuration.md").read_text()
    section = text.split("## Overrides that are intended", 1)[1]
    rows = re.findall(r"^\| `([\w-]+)` \| `(\w+)` \| [^|]* \| ([^|]+) \|$", section, flags=re.M)
    return {(target, name): reason.strip() for target, name, reason in rows}


def ansible_env(inventory: Path, host: str) -> dict[str, str]:
    """The app's env file on `host`: the app role's app_env, then the playbooks' app_env_extra over it."""
    role = yaml.safe_load((ANSIBLE / "roles/app/defaults/main.yml").read_text())["app_env"]
    found = resolved(inventory, host, ["app_bind", "app_env_extra"])
    env = {**role, "GUNICORN_BIND": found["app_bind"], **found["app_env_extra"]}
    return {name: str(value) for name, value in env.items()}


@cache
def kustomized(overlay: str) -> dict[str, str]:
    result = subprocess.run(["kubectl", "kustomize", f"deploy/k8s/overlays/{overlay}"], cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    objects = [o for o in yaml.safe_load_all(result.stdout) if o]
    config = next(o for o in objects if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("scaleboard-env"))
    return dict(config["data"])


def effective(target: str, tmp_path: Path) -> dict[str, str]:
    """What `target` gives its app servers, rendered the way it renders it."""
    if target == "stack":
        (tmp_path / "stack").mkdir(exist_ok=True)
        env = local_stack.Stack(tmp_path / "stack").app_env(GUNICORN_BIND=f"127.0.0.1:{local_stack.FIRST_APP_PORT}")
        return {name: value for name, value in env.items() if name in VARS}
    if target == "ansible-vagrant":
        vagrant = yaml.safe_load((ANSIBLE / "inventories/vagrant/vagrant.yml").read_text())
        groups = {group: {"hosts": {"vm": {}}} for group in ("db", "app", "lb", "monitor")}
        inventory = tmp_path / "vagrant.json"
        hosts = {"vm": {"ansible_host": "127.0.0.1"}}
        inventory.write_text(json.dumps({"all": {"hosts": hosts, "vars": vagrant, "children": groups}}))
        return ansible_env(inventory, "vm")
    if target == "ansible-split":
        lab = yaml.safe_load((ANSIBLE / "inventories/lab/group_vars/all.yml").read_text())
        addresses = {"db": "10.0.0.1", "app": "10.0.0.2", "lb": "10.0.0.3", "monitor": "10.0.0.4"}
        groups = {group: {"hosts": {f"{group}1": {"ansible_host": ip}}} for group, ip in addresses.items()}
        inventory = tmp_path / "split.json"
        split = {**lab, "scaleboard_topology": "split"}
        inventory.write_text(json.dumps({"all": {"vars": split, "children": groups}}))
        return ansible_env(inventory, "app1")
    if target == "compose":
        compose = yaml.safe_load((REPO / "docker/compose.yaml").read_text())
        env = {}
        for name in compose["x-app"]["env_file"]:
            env.update(env_file(REPO / "docker" / ("compose.env.example" if name == "compose.env" else name)))
        return {**env, **compose["services"]["web"]["environment"]}
    if target.startswith("k8s-"):
        return kustomized(target.removeprefix("k8s-"))
    if target == "heroku":
        app = json.loads((REPO / "app.json").read_text())
        return {name: spec["value"] for name, spec in app["env"].items() if "value" in spec}
    raise AssertionError(target)


TARGETS = ["stack", "ansible-vagrant", "ansible-split", "compose", "k8s-local", "k8s-aws", "heroku"]


def differences(target: str, tmp_path: Path) -> set[str]:
    env = effective(target, tmp_path)
    unknown = set(env) - set(VARS)
    assert not unknown, f"{target} sets variables outside the env contract: {sorted(unknown)}"
    return {
        name
        for name, value in env.items()
        if name not in PER_DEPLOYMENT and not same(VARS[name], value, expected(name))
    }


@pytest.mark.parametrize("target", TARGETS)
def test_each_value_is_the_sources_or_an_intended_override(target: str, tmp_path: Path) -> None:
    if target.startswith("k8s-") and not shutil.which("kubectl"):
        pytest.skip("needs kubectl (it ships kustomize): `sudo make test-all` installs it")
    listed = {name for (where, name) in intended() if where == target}
    differing = differences(target, tmp_path)
    assert differing - listed == set(), f"{target}: not the source's value and not in docs/configuration.md's table"
    assert listed - differing == set(), f"{target}: listed as an override in docs/configuration.md but equal now"


@pytest.mark.parametrize("target", TARGETS)
def test_no_target_restates_a_contract_default(target: str, tmp_path: Path) -> None:
    """A value equal to the contract's default is a second copy of it: leave the variable out."""
    if target.startswith("k8s-") and not shutil.which("kubectl"):
        pytest.skip("needs kubectl (it ships kustomize): `sudo make test-all` installs it")
    env = effective(target, tmp_path)
    contract = {name: VARS[name].default for name in env if VARS[name].default and name not in defaults.DEFAULTS}
    restated = {name for name, default in contract.items() if same(VARS[name], env[name], default)}
    assert restated == set(), f"{target} restates the env contract's defaults"


def test_the_table_gives_a_reason_for_each_override() -> None:
    rows = intended()
    assert rows
    assert all(reason and reason != "-" for reason in rows.values())
    assert {target for target, _ in rows} <= set(TARGETS)
