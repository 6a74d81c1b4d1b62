"""Terraform fixtures: copies of deploy/terraform to work in, and a moto server standing in for AWS."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.terraform import aws
from tests.harness.servers import REPO, free_port

TERRAFORM = REPO / "deploy" / "terraform"
HERE = Path(__file__).parent
# moto has no Debian images; this is one of the Ubuntu AMIs it ships (ami_id skips the lookup).
MOTO_AMI = "ami-1e749f67"

needs_terraform = pytest.mark.skipif(
    not shutil.which("terraform"), reason="needs terraform >= 1.6 (https://developer.hashicorp.com/terraform/install)"
)


def copy_root(target: Path) -> Path:
    """deploy/terraform without any local state or working dirs, so tests never touch the user's."""
    shutil.copytree(TERRAFORM, target, ignore=shutil.ignore_patterns(
        ".terraform*", "*.tfstate*", "terraform.tfvars*", aws.KNOBS_FILE, aws.SITE_FILE, "*.py",
        "__pycache__"))  # fmt: skip
    return target


def tf(workdir: Path, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        ["terraform", f"-chdir={workdir}", *args], env=aws.terraform_env(), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
    if check:
        assert result.returncode == 0, f"terraform {' '.join(args)}:\n{result.stdout[-4000:]}{result.stderr[-4000:]}"
    return result


class Moto:
    """A moto server on 127.0.0.1; `reset()` forgets every resource."""

    def __init__(self, url: str) -> None:
        self.url = url

    def reset(self) -> None:
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310 - our own moto
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 - our own moto on 127.0.0.1

    def client(self, service: str):  # type: ignore[no-untyped-def]  # boto3 clients are typed per service
        import boto3

        return boto3.client(service, endpoint_url=self.url, region_name="eu-west-1", aws_access_key_id="testing",
                            aws_secret_access_key="testing")  # fmt: skip

    def leftovers(self) -> dict[str, list[str]]:
        """What a destroy must leave empty (the default VPC and its group are moto's own)."""
        ec2 = self.client("ec2")
        instances = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
                     if i["State"]["Name"] != "terminated"]  # fmt: skip
        return {
            "instances": instances,
            "vpcs": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]],
            "security groups": [
                g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"
            ],
            "key pairs": [k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]],
            "buckets": [b["Name"] for b in self.client("s3").list_buckets()["Buckets"]],
        }


@pytest.fixture(scope="session")
def moto() -> Iterator[Moto]:
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/moto-api/", timeout=2)  # noqa: S310 - our own moto
                break
            except OSError:
                assert time.monotonic() < deadline, "moto server did not start"
                time.sleep(0.3)
        yield Moto(url)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def moto_root(moto: Moto, tmp_path: Path) -> Path:
    """A copy of the root wired to moto, with the variables an emulator needs; moto is reset first."""
    moto.reset()
    root = copy_root(tmp_path / "terraform")
    (root / "moto_override.tf").write_text(
        (HERE / "moto_override.tf.template").read_text().replace("MOTO_URL", moto.url)
    )
    shutil.copy(HERE / "moto_backups_override.tf", root / "modules" / "backups" / "moto_override.tf")
    (root / "terraform.tfvars.json").write_text(
        json.dumps({"ami_id": MOTO_AMI, "region": "eu-west-1", "disposable": True})
    )
    return root
