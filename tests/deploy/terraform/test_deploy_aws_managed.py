"""`make deploy-aws` with `use_rds` and `use_alb`: no db or lb server, the app servers on RDS behind an ALB.

moto stands in for AWS and lab hosts for the instances, as in test_deploy_aws.py. Two stand-ins more, as neither
service is a server moto runs:
- RDS: a PostgreSQL on this machine that, like RDS, has the app's database owned by its master user and takes
  network connections over TLS with a password only. The app servers resolve moto's endpoint name to it.
- the ALB: this test sends what the ALB would, from an address in the ALB's subnets, to the targets moto registered:
  its health check (Host: the target's address) and the users' requests (Host: the ALB's name).
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from deploy import defaults
from deploy.lab import lab as lab_module
from deploy.terraform import aws
from tests.deploy.ansible.conftest import make, needs_lab, sign_up
from tests.deploy.terraform.conftest import Moto, needs_terraform
from tests.deploy.terraform.rehearsal import (
    ADMIN,
    fresh_deployment,
    lab_name,
    make_standing_in,
    moto_env,
    running_instances,
)
from tests.harness.managed_postgres import ManagedPostgres
from tests.harness.prometheus import api, eventually
from tests.harness.servers import REPO, get

pytestmark = [needs_terraform, needs_lab]
# checkov:skip=CKV_SECRET_6: guards the test's stand-in database, gone when the test ends
DB_PASSWORD = "rehearsal-only-db-password"


@contextlib.contextmanager
def alb_node(private_addresses: list[str], subnet: str) -> Iterator[str]:
    """An address of this machine in the ALB's subnet, the source of everything sent to the app servers' private
    addresses, as an ALB node's would be."""
    taken = set(private_addresses)
    node = next(str(a) for a in reversed(list(ipaddress.ip_network(subnet).hosts())) if str(a) not in taken)
    routes = [["ip", "route", "replace", f"{address}/32", "dev", lab_module.BRIDGE, "src", node]
              for address in private_addresses]  # fmt: skip
    subprocess.run(["ip", "addr", "add", f"{node}/32", "dev", lab_module.BRIDGE], check=True)
    try:
        for route in routes:
            subprocess.run(route, check=True)
        yield node
    finally:
        for route in routes:
            subprocess.run(["ip", "route", "del", *route[3:6]], check=False, capture_output=True)
        subprocess.run(["ip", "addr", "del", f"{node}/32", "dev", lab_module.BRIDGE], check=False, capture_output=True)


def registered_targets(moto: Moto) -> dict[str, int]:
    """The ALB target group's targets as {private address: port}."""
    elb, ec2 = moto.client("elbv2"), moto.client("ec2")
    (group,) = elb.describe_target_groups()["TargetGroups"]
    targets = elb.describe_target_health(TargetGroupArn=group["TargetGroupArn"])["TargetHealthDescriptions"]
    ports = {t["Target"]["Id"]: t["Target"]["Port"] for t in targets}
    found = ec2.describe_instances(InstanceIds=list(ports))["Reservations"]
    return {i["PrivateIpAddress"]: ports[i["InstanceId"]] for r in found for i in r["Instances"]}


def health_check(address: str, port: int, path: str = "/healthz") -> int:
    """What the ALB's health check sends: plain HTTP, the target's own address as the Host."""
    connection = http.client.HTTPConnection(address, port, timeout=10)
    try:
        connection.request("GET", path, headers={"Host": f"{address}:{port}"})
        return connection.getresponse().status
    finally:
        connection.close()


def test_make_deploy_aws_with_rds_and_an_alb(
    moto: Moto, moto_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tfvars = moto_root / "terraform.tfvars.json"
    tfvars.write_text(json.dumps({**json.loads(tfvars.read_text()), "use_rds": True, "use_alb": True}))
    secrets = tmp_path / "secrets.yml"
    env = moto_env(moto_root, secrets, TF_VAR_database_password=DB_PASSWORD)
    with fresh_deployment(), contextlib.ExitStack() as stack:
        make("lab-up", "TOPOLOGY=split", "APP_SERVERS=2")  # its db and lb hosts stay idle: RDS and the ALB replace them
        lab = lab_module.Lab.load()
        assert lab is not None
        rds = stack.enter_context(ManagedPostgres(ADMIN, DB_PASSWORD))
        secrets.write_text(json.dumps({
            # checkov:skip=CKV_SECRET_6: guards moto's emulated servers, gone when the test ends
            "scaleboard_secret_key": "rehearsal-only-secret-key-0123456789-abcdefghijklmnop",
            "scaleboard_db_password": DB_PASSWORD,
            "monitoring_grafana_install": False,
        }))  # fmt: skip

        def resolve_rds() -> None:
            """The VPC's DNS would give the app servers RDS's address; here /etc/hosts gives them the stand-in's."""
            endpoint = yaml.safe_load(aws.INVENTORY.read_text())["all"]["vars"]["scaleboard_database_address"]
            for name in aws.read_inventory()["app"]:
                host = next(h for h in lab.hosts if h.name == lab_name(name))
                lab_module.ssh(host, f"echo '{ADMIN} {endpoint}' | sudo tee -a /etc/hosts")

        started = time.monotonic()
        knobs = ["AUTO_APPROVE=1", f"ADMIN_CIDR={ADMIN}/32", f"SSH_KEY={lab.key}"]
        output = make_standing_in(lab, set(), env, tmp_path / "deploy.log", "deploy-aws", "TOPOLOGY=split",
                                  "APP_SERVERS=2", *knobs, on_inventory=resolve_rds)  # fmt: skip
        deploy_seconds = time.monotonic() - started
        check_the_deployment(moto, lab, rds, output, monkeypatch)
        result = subprocess.run(["make", "--no-print-directory", "backup", "INVENTORY=aws"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=600)  # fmt: skip
        assert result.returncode != 0, result.stdout[-3000:]
        assert "its database is RDS" in result.stdout, result.stdout[-3000:]
        started = time.monotonic()
        result = subprocess.run(["make", "--no-print-directory", "destroy-aws", "AUTO_APPROVE=1"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=600)  # fmt: skip
        assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
        print(f"\nmake deploy-aws (moto + lab: RDS + ALB + 2 app + monitor) {deploy_seconds:.0f} s; "
              f"destroy-aws {time.monotonic() - started:.0f} s")  # fmt: skip
        assert moto.leftovers() == {"instances": [], "vpcs": [], "security groups": [], "key pairs": [], "buckets": []}
        assert moto.client("rds").describe_db_instances()["DBInstances"] == []


def check_the_deployment(
    moto: Moto, lab: lab_module.Lab, rds: ManagedPostgres, output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert sorted(running_instances(moto)) == ["scaleboard-app-1", "scaleboard-app-2", "scaleboard-monitor"]
    inventory = aws.read_inventory()
    assert (inventory["db"], inventory["lb"]) == ({}, {}), "no db or lb server to converge"
    apps = {name: str(v["scaleboard_private_address"]) for name, v in inventory["app"].items()}
    endpoint = moto.client("rds").describe_db_instances()["DBInstances"][0]["Endpoint"]["Address"]
    (alb,) = moto.client("elbv2").describe_load_balancers()["LoadBalancers"]
    # No TLS at the ALB without certificate_arn: the run says so, and how to add it.
    assert "served over plain HTTP" in output, output[-3000:]
    assert "certificate_arn in terraform.tfvars" in output, output[-3000:]
    assert f"aws: the site is at http://{alb['DNSName']}" in output
    assert "give the ALB an ACM certificate" in output

    # The app servers' database is RDS, over TLS: every connection the stand-in saw came with it.
    app1 = next(h for h in lab.hosts if h.name == "sb-app1")
    app_env = lab_module.ssh(app1, "sudo cat /etc/scaleboard/app.env").stdout
    assert f"@{endpoint}:5432/scaleboard?sslmode=require" in app_env
    sessions = rds.network_sessions()
    assert sessions, "the app servers never connected to RDS"
    assert all("SSL enabled" in line for line in sessions), sessions

    # The ALB's targets are the app servers' gunicorn; its health check passes whatever ALLOWED_HOSTS says.
    port = defaults.APP_PORT
    assert registered_targets(moto) == {address: port for address in apps.values()}
    subnet = next(str(s["CidrBlock"]) for s in moto.client("ec2").describe_subnets()["Subnets"]
                  if alb["AvailabilityZones"][0]["SubnetId"] == s["SubnetId"])  # fmt: skip
    with alb_node(list(apps.values()), subnet):
        assert {address: health_check(address, port) for address in apps.values()} == dict.fromkeys(apps.values(), 200)
        assert health_check(apps["scaleboard-app-1"], port, "/") == 400, "any other page checks the Host"
        lab_module.ssh(app1, "sudo scaleboard-manage seed_demo --users 5 --posts 40 --comments 80", timeout=300)
        # Users' requests name the ALB; each target serves them from the one database.
        url = f"http://{alb['DNSName']}:{port}"
        resolve = socket.getaddrinfo
        for name, address in sorted(apps.items()):
            monkeypatch.setattr(socket, "getaddrinfo", lambda host, *rest, _to=address, **kw: resolve(
                _to if host == alb["DNSName"] else host, *rest, **kw))  # fmt: skip
            status, _, body = get(f"{url}/", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http"})
            assert (status, body.decode().count('class="post"')) == (200, 30), name
        assert sign_up(url, "rehearsal")[0] == 200  # through app-2, the last one pointed at
        monkeypatch.setattr(socket, "getaddrinfo", lambda host, *rest, **kw: resolve(
            apps["scaleboard-app-1"] if host == alb["DNSName"] else host, *rest, **kw))  # fmt: skip
        assert get(f"{url}/user/rehearsal")[0] == 200, "app-1 reads what app-2 wrote"
        monkeypatch.undo()
    # Only the ALB's subnets reach the app port: this machine's own address does not get through.
    public = str(inventory["app"]["scaleboard-app-1"]["ansible_host"])
    with pytest.raises(TimeoutError):  # ufw drops it
        socket.create_connection((public, port), timeout=3).close()

    # The monitor server scrapes both app servers and every node; no PostgreSQL or nginx job is left empty.
    monitor = (
        f"http://{inventory['monitor']['scaleboard-monitor']['ansible_host']}:{defaults.MONITOR_PORTS['prometheus']}"
    )

    def all_up() -> dict[str, set[str]] | None:
        active = api(monitor, "targets", state="active")["activeTargets"]
        if not active or any(t["health"] != "up" for t in active):
            return None
        jobs: dict[str, set[str]] = {}
        for target in active:
            jobs.setdefault(target["labels"]["job"], set()).add(target["labels"]["instance"])
        return jobs

    jobs = eventually(all_up, 90, "every target up")
    assert jobs == {"scaleboard-app": set(apps), "node": {*apps, "scaleboard-monitor"}}
