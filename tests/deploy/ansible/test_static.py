"""Static checks of the Ansible code: syntax, ansible-lint's production profile, yamllint, and the
one-source-of-truth links (env contract, nginx template and its defaults)."""

from __future__ import annotations

import configparser
import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from config.env import CONTRACT

from tests.harness.servers import REPO

ANSIBLE = REPO / "deploy" / "ansible"
BIN = REPO / ".venv" / "bin"
# Every playbook at the top of deploy/ansible (requirements.yml lists collections).
PLAYBOOKS = sorted(path.name for path in ANSIBLE.glob("*.yml") if path.name != "requirements.yml")


def run(*argv: str | Path, cwd: Path = ANSIBLE) -> subprocess.CompletedProcess[str]:
    subprocess.run([BIN / "python", REPO / "deploy/ansible/install_collections.py"], check=True, timeout=600)
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600,
        env={"PATH": f"{BIN}:/usr/bin:/bin", "ANSIBLE_CONFIG": str(ANSIBLE / "ansible.cfg"), "HOME": "/root"},
    )  # fmt: skip


@pytest.fixture(scope="module")
def split_inventory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An inventory of the split shape (the lab's is written only when a lab runs)."""
    hosts = {"db": ["db1"], "app": ["app1", "app2"], "lb": ["lb1"]}
    inventory = {"all": {"vars": {"scaleboard_topology": "split"},
                         "children": {g: {"hosts": {h: {"ansible_host": "10.0.0.1"} for h in names}}
                                      for g, names in hosts.items()}}}  # fmt: skip
    path = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    path.write_text(json.dumps(inventory))
    return path


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_playbooks_pass_syntax_check(playbook: str, split_inventory: Path) -> None:
    result = run(BIN / "ansible-playbook", "--syntax-check", "-i", split_inventory, playbook)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ansible_lint_production_profile_has_no_findings() -> None:
    result = run(BIN / "ansible-lint", "--offline", "--profile", "production")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    config = yaml.safe_load((ANSIBLE / ".ansible-lint").read_text())
    assert config["profile"] == "production"
    assert config["skip_list"] == [], "the issue asks for an empty skip list"


def test_yamllint_is_clean() -> None:
    result = run(BIN / "yamllint", "-c", REPO / ".yamllint.yml", "deploy/ansible", cwd=REPO)
    assert result.returncode == 0, result.stdout


def test_every_role_has_the_standard_shape() -> None:
    for role in ("common", "postgresql", "app", "nginx"):
        for part in ("defaults", "tasks/main.yml", "handlers/main.yml", "meta/main.yml"):
            assert (ANSIBLE / "roles" / role / part).exists(), f"{role} lacks {part}"


def test_nginx_role_renders_the_one_template_with_the_one_defaults_file() -> None:
    role = ANSIBLE / "roles" / "nginx"
    assert (role / "templates/site.conf.j2").resolve() == REPO / "deploy/nginx/site.conf.j2"
    assert (role / "defaults/main/site.yml").resolve() == REPO / "deploy/nginx/defaults.yml"


def _env_keys() -> set[str]:
    role = yaml.safe_load((ANSIBLE / "roles/app/defaults/main.yml").read_text())
    wiring = yaml.safe_load((ANSIBLE / "group_vars/all.yml").read_text())
    return set(role["app_env"]) | set(wiring["scaleboard_env"])


def test_env_file_writes_only_contract_variables() -> None:
    contract = {var.name for var in CONTRACT}
    assert _env_keys() <= contract, f"not in app/config/env.py: {sorted(_env_keys() - contract)}"


def test_env_file_has_every_variable_production_requires() -> None:
    required = {var.name for var in CONTRACT if var.required_in_production}
    assert required <= _env_keys(), f"missing: {sorted(required - _env_keys())}"


def test_host_keys_are_checked_except_on_the_lab_and_vagrant() -> None:
    """ansible.cfg leaves ssh's checking on, so an inventory's `StrictHostKeyChecking=accept-new` (aws.py's) holds:
    `host_key_checking = False` there would put `StrictHostKeyChecking=no` first on ssh's command line, and ssh keeps
    the first value. Only the throwaway machines made here turn checking off (the stopped run: the rehearsal in
    tests/deploy/terraform)."""
    config = configparser.ConfigParser()
    config.read(ANSIBLE / "ansible.cfg")
    assert config.getboolean("defaults", "host_key_checking", fallback=True)
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    unchecked = {path for path in tracked if (REPO / path).is_file()
                 and re.search(r"StrictHostKeyChecking=no|host_key_checking\s*=\s*false", (REPO / path).read_text(
                     errors="replace"), re.I)} - {"tests/deploy/ansible/test_static.py"}  # fmt: skip
    assert unchecked == {"deploy/lab/lab.py", "deploy/vagrant/Vagrantfile"}
