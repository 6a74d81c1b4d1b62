"""The root applied for real against moto: split with 2 app servers, scaled to 4, a no-op plan, destroyed."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import yaml

from deploy.terraform import aws
from tests.deploy.terraform.conftest import Moto, needs_terraform, tf

pytestmark = needs_terraform


def apply(root: Path, app_count: int, key: str) -> tuple[dict[str, int], float]:
    """terraform apply with the knobs make deploy-aws sets; (added/changed/destroyed, seconds)."""
    (root / aws.KNOBS_FILE).write_text(json.dumps({"topology": "split", "app_count": app_count,
                                                   "admin_cidr": "10.77.0.1/32", "ssh_public_key": key}))  # fmt: skip
    started = time.monotonic()
    output = tf(root, "apply", "-input=false", "-auto-approve", "-no-color").stdout
    seconds = time.monotonic() - started
    summary = output[output.index("Apply complete!") :].split("\n", 1)[0]
    added, changed, destroyed = (int(word) for word in summary.replace(",", "").split() if word.isdigit())
    return {"added": added, "changed": changed, "destroyed": destroyed}, seconds


def running_instances(moto: Moto) -> dict[str, dict[str, str]]:
    found = {}
    for reservation in moto.client("ec2").describe_instances()["Reservations"]:
        for instance in reservation["Instances"]:
            if instance["State"]["Name"] == "running":
                tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
                found[tags["Name"]] = {
                    "role": tags["Role"],
                    "project": tags["Project"],
                    "public": instance["PublicIpAddress"],
                    "tokens": instance["MetadataOptions"]["HttpTokens"],
                }
    return found


def test_apply_scale_noop_destroy(moto: Moto, moto_root: Path, tmp_path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    key = (tmp_path / "key.pub").read_text().strip()
    tf(moto_root, "init", "-input=false")
    counts, apply_seconds = apply(moto_root, 2, key)
    servers = running_instances(moto)
    assert sorted(servers) == ["scaleboard-app-1", "scaleboard-app-2", "scaleboard-db", "scaleboard-lb"]
    assert {s["role"] for s in servers.values()} == {"app", "db", "lb"}
    assert all(s["tokens"] == "required" and s["project"] == "scaleboard" for s in servers.values())

    # The inventory the playbooks get, from this state's outputs: the group contract, real addresses.
    state = {k: v["value"] for k, v in json.loads(tf(moto_root, "output", "-json").stdout).items()}
    inventory_path = tmp_path / "hosts.yml"
    aws.write_inventory(state, Path("/keys/id_ed25519"), "10.77.0.1/32", inventory_path)
    inventory = yaml.safe_load(inventory_path.read_text())["all"]
    groups = {name: group["hosts"] for name, group in inventory["children"].items()}
    assert {name: sorted(hosts) for name, hosts in groups.items()} == {
        "db": ["scaleboard-db"], "app": ["scaleboard-app-1", "scaleboard-app-2"], "lb": ["scaleboard-lb"]}  # fmt: skip
    for hosts in groups.values():
        for name, host in hosts.items():
            assert host["ansible_host"] == servers[name]["public"]
            assert host["scaleboard_private_address"].startswith("10.0.")
    assert inventory["vars"]["scaleboard_topology"] == "split"
    assert inventory["vars"]["common_admin_cidrs"] == ["10.77.0.1/32"]
    assert inventory["vars"]["scaleboard_server_names"] == [servers["scaleboard-lb"]["public"]]

    ids_before = {name: s["public"] for name, s in servers.items()}
    scaled, scale_seconds = apply(moto_root, 4, key)
    assert scaled == {"added": 2, "changed": 0, "destroyed": 0}, "scaling adds exactly the two new servers"
    servers = running_instances(moto)
    assert len(servers) == 6
    assert {name: servers[name]["public"] for name in ids_before} == ids_before, "no server was replaced"

    plan = tf(moto_root, "plan", "-input=false", "-detailed-exitcode", "-no-color", check=False)
    assert plan.returncode == 0, f"a plan right after apply must be empty:\n{plan.stdout[-4000:]}"

    started = time.monotonic()
    tf(moto_root, "destroy", "-input=false", "-auto-approve", "-no-color")
    destroy_seconds = time.monotonic() - started
    assert moto.leftovers() == {"instances": [], "vpcs": [], "security groups": [], "key pairs": [], "buckets": []}
    print(f"\nmoto: apply split x2 {apply_seconds:.0f} s ({counts['added']} resources), scale to 4 "
          f"{scale_seconds:.0f} s, destroy {destroy_seconds:.0f} s")  # fmt: skip
