"""The lab's plan, inventory, input errors and CPU caps (the converges are in tests/deploy/ansible)."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from deploy import dev_secrets
from deploy.lab import lab
from loadtest.cpu import tree_cpu_seconds
from tests.deploy.ansible.conftest import needs_lab
from tests.harness.servers import REPO


def test_split_plan_gives_each_role_its_own_hosts_and_addresses() -> None:
    hosts = lab.plan("split", 3)
    assert [h.name for h in hosts] == ["sb-db", "sb-lb", "sb-monitor", "sb-app1", "sb-app2", "sb-app3"]
    assert [h.groups for h in hosts] == [["db"], ["lb"], ["monitor"], ["app"], ["app"], ["app"]]
    assert len({h.address for h in hosts}) == 6
    assert all(h.address.startswith(lab.SUBNET + ".") for h in hosts)


def test_all_in_one_plan_is_one_host_in_every_group() -> None:
    (host,) = lab.plan("all-in-one", 1)
    assert host.groups == ["db", "app", "lb", "monitor"]


def test_a_staging_lab_beside_the_lab_has_names_and_addresses_of_its_own() -> None:
    for topology in lab.TOPOLOGIES:
        production, staging = (
            lab.plan(topology, lab.MAX_APP_SERVERS),
            lab.plan(topology, lab.MAX_APP_SERVERS, "lab-staging"),
        )
        assert [h.groups for h in staging] == [h.groups for h in production]
        assert not {h.name for h in staging} & {h.name for h in production}
        assert not {h.address for h in staging} & {h.address for h in production}
        assert all(h.name.startswith("sb-staging-") and h.address.startswith(lab.SUBNET + ".") for h in staging)
    with pytest.raises(lab.LabError, match="LAB must be one of lab, lab-staging, not 'prod'"):
        lab.plan("split", 2, "prod")


@pytest.mark.parametrize(("topology", "servers", "message"), [
    ("ring", 1, "TOPOLOGY must be one of all-in-one, split, not 'ring'"),
    ("split", 0, "APP_SERVERS must be 1..8, not 0"),
    ("split", 9, "APP_SERVERS must be 1..8, not 9"),
])  # fmt: skip
def test_bad_input_is_refused_with_the_reason(topology: str, servers: int, message: str) -> None:
    with pytest.raises(lab.LabError, match=message):
        lab.plan(topology, servers)


def test_inventory_follows_the_group_contract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lab, "LAB_DIR", tmp_path)
    running = lab.Lab("split", lab.plan("split", 2))
    path = tmp_path / "hosts.yml"
    lab.write_inventory(running, path)
    inventory = yaml.safe_load(path.read_text())["all"]
    # The lab's secrets: made here on first use, kept for the next write (a re-provision changes nothing).
    made = {name: inventory["vars"][name] for name in dev_secrets.SIZES}
    lab.write_inventory(running, path)
    assert {name: yaml.safe_load(path.read_text())["all"]["vars"][name] for name in dev_secrets.SIZES} == made
    assert made == json.loads((tmp_path / "secrets.json").read_text())
    assert inventory["vars"]["scaleboard_topology"] == "split"
    assert inventory["vars"]["ansible_user"] == "admin"
    groups = inventory["children"]
    assert {name: sorted(g["hosts"]) for name, g in groups.items()} == {
        "db": ["sb-db"], "lb": ["sb-lb"], "monitor": ["sb-monitor"], "app": ["sb-app1", "sb-app2"],
    }  # fmt: skip
    app1 = groups["app"]["hosts"]["sb-app1"]
    assert app1["ansible_host"] == app1["scaleboard_private_address"] == f"{lab.SUBNET}.21"


def test_make_lab_up_stops_on_a_bad_topology_before_booting_anything() -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "lab-up", "TOPOLOGY=ring"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "TOPOLOGY must be one of all-in-one, split, not 'ring'" in result.stderr


@needs_lab
def test_capped_app_host_is_held_to_its_quota() -> None:
    """`make lab-up CPUS_PER_SERVER=0.25`: the whole container is in the cap, and a busy loop inside stays in it."""
    try:
        output = subprocess.run(
            ["make", "--no-print-directory", "lab-up", "TOPOLOGY=all-in-one", "CPUS_PER_SERVER=0.25"],
            cwd=REPO, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert output.returncode == 0, (output.stdout + output.stderr)[-3000:]
        running = lab.Lab.load()
        assert running is not None
        (host,) = running.hosts
        cap = running.cap(host)
        assert cap is not None
        assert cap.quota_cpus() == pytest.approx(0.25)
        assert host.pid in cap.pids()
        # Two busy loops inside the host for 3 s; capped, the container gets ~0.25 of a CPU, not 2.
        before = tree_cpu_seconds(host.pid)
        started = time.monotonic()
        lab.ssh(host, "for i in 1 2; do timeout 3 sh -c 'while :; do :; done' & done; wait")
        share = (tree_cpu_seconds(host.pid) - before) / (time.monotonic() - started)
        assert share < 0.6, f"the capped host used {share:.2f} CPUs"
    finally:
        subprocess.run(["make", "--no-print-directory", "lab-down"], cwd=REPO, capture_output=True, timeout=300)
    assert not cap.path.exists(), "lab-down removes the cap"


@needs_lab
def test_a_killed_host_leaves_no_process_or_veth_behind() -> None:
    """The path lab-down takes when a host does not power off in time: nothing of the host may survive."""
    try:
        output = subprocess.run(["make", "--no-print-directory", "lab-up", "TOPOLOGY=all-in-one"], cwd=REPO,
                                capture_output=True, text=True, timeout=600)  # fmt: skip
        assert output.returncode == 0, (output.stdout + output.stderr)[-3000:]
        running = lab.Lab.load()
        assert running is not None
        (host,) = running.hosts
        init = int(Path(f"/proc/{host.pid}/task/{host.pid}/children").read_text().split()[0])
        lab.kill(host)
        deadline = time.monotonic() + 10
        while (Path(f"/proc/{init}").exists() or Path(f"/sys/class/net/vb-{host.name}").exists()) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.2)
        assert not Path(f"/proc/{init}").exists(), "the host's systemd outlived nspawn"
        assert not Path(f"/sys/class/net/vb-{host.name}").exists(), "the host's veth is still there"
    finally:
        subprocess.run(["make", "--no-print-directory", "lab-down"], cwd=REPO, capture_output=True, timeout=300)


def test_a_db_host_keeps_its_backups_on_a_volume_that_outlives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The restore drill replaces the db host: a repository inside it would go with it.
    monkeypatch.setattr(lab, "VOLUMES", tmp_path / "volumes")
    db, app = (lab.Host("sb-db", "10.77.0.10", ["db"]), lab.Host("sb-app1", "10.77.0.21", ["app"]))
    assert lab.volumes(db) == [f"--bind={tmp_path / 'volumes/sb-db/pgbackrest'}:/var/lib/pgbackrest"]
    assert (tmp_path / "volumes/sb-db/pgbackrest").is_dir()
    assert lab.volumes(app) == []
