"""The end-to-end rehearsals' parts: `make deploy-aws` runs unchanged against moto, and lab hosts stand in for the
instances, taking the public and private addresses moto gave them while the target waits for SSH."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from deploy.lab import lab as lab_module
from deploy.terraform import aws
from tests.deploy.terraform.conftest import Moto
from tests.harness.servers import REPO

VPC_CIDR = "10.0.0.0/16"  # the network module's default
ADMIN = "10.77.0.1"  # this machine, on the lab's network


@contextlib.contextmanager
def fresh_deployment() -> Iterator[None]:
    """No inventory or known hosts of an earlier run before (moto hands out the same addresses run after run), and
    none, nor the lab, after."""
    aws.INVENTORY.unlink(missing_ok=True)
    aws.KNOWN_HOSTS.unlink(missing_ok=True)
    try:
        yield
    finally:
        aws.INVENTORY.unlink(missing_ok=True)
        aws.KNOWN_HOSTS.unlink(missing_ok=True)
        subprocess.run(["make", "--no-print-directory", "lab-down"], cwd=REPO, capture_output=True, timeout=300)


def moto_env(moto_root: Path, secrets: Path, **extra: str) -> dict[str, str]:
    """The make targets' environment: Terraform on the moto root, Ansible given the test's secrets."""
    return {**os.environ, "TF_DIR": str(moto_root), "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "SSH_TIMEOUT": "300", "ANSIBLE_ARGS": f"-e @{secrets}", **extra}  # fmt: skip


def running_instances(moto: Moto) -> dict[str, dict[str, str]]:
    found = {}
    for reservation in moto.client("ec2").describe_instances()["Reservations"]:
        for instance in reservation["Instances"]:
            if instance["State"]["Name"] == "running":
                tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
                found[tags["Name"]] = {
                    "project": tags["Project"],
                    "public": instance["PublicIpAddress"],
                    "tokens": instance["MetadataOptions"]["HttpTokens"],
                }
    return found


def lab_name(instance: str) -> str:
    """The lab host standing in for an instance: scaleboard-app-2 -> sb-app2, scaleboard-db -> sb-db."""
    return "sb-" + instance.removeprefix("scaleboard-").replace("-", "")


def stand_in(lab: lab_module.Lab, done: set[str]) -> None:
    """Give each new instance's lab host the public and private address moto gave the instance."""
    for hosts in aws.read_inventory().values():
        for name, addresses in hosts.items():
            if name in done:
                continue
            host = next(h for h in lab.hosts if h.name == lab_name(name))
            public, private = addresses["ansible_host"], addresses["scaleboard_private_address"]
            commands = [f"ip addr add {public}/32 dev host0", f"ip addr add {private}/32 dev host0",
                        f"ip route add {VPC_CIDR} dev host0 src {private}"]  # fmt: skip
            lab_module.ssh(host, " && ".join(f"sudo {command}" for command in commands))
            subprocess.run(["ip", "route", "replace", f"{public}/32", "dev", lab_module.BRIDGE], check=True)
            done.add(name)


def make_standing_in(
    lab: lab_module.Lab,
    done: set[str],
    env: dict[str, str],
    log: Path,
    *args: str,
    on_inventory: Callable[[], None] = lambda: None,
) -> str:
    """Run a make target that applies Terraform; map new instances to lab hosts while it waits for SSH (and call
    `on_inventory`, once the inventory names their addresses)."""
    started = time.time()
    with log.open("w") as out:
        process = subprocess.Popen(["make", "--no-print-directory", *args], cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
        try:
            # The inventory is (re)written right after the apply, before the SSH wait starts.
            while process.poll() is None and not (aws.INVENTORY.exists() and aws.INVENTORY.stat().st_mtime > started):
                assert time.time() - started < 900, "no inventory after 15 minutes"
                time.sleep(1)
            if process.poll() is None:
                time.sleep(0.5)  # written in one go; let the writer finish
                stand_in(lab, done)
                on_inventory()
            process.wait(timeout=1800)
        finally:
            if process.poll() is None:
                process.kill()
    output = log.read_text()
    assert process.returncode == 0, output[-8000:]
    return output
