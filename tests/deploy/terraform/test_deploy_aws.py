"""`make deploy-aws`, `aws-scale`, `aws-plan`, `destroy-aws` end to end: moto for AWS, lab hosts for instances.

The make target runs unchanged: terraform apply, the inventory from the outputs, waiting for SSH,
site.yml, the URL. While it waits for SSH (as it would for booting instances), the test gives each lab
host the public and private address moto assigned to "its" instance, so Ansible and the servers reach
each other on exactly the addresses Terraform reported. One run covers apply (split, 2 app servers), scaling
to 4 app servers (exactly two added, none replaced, only they + db + LB + monitor provisioned, Prometheus scraping
them), host keys accepted on first contact and checked after it, an empty plan and a clean destroy. The site has a
domain (`DOMAIN=`): Pebble, Let's Encrypt's test CA on this machine, stands in for Let's Encrypt, its DNS giving the
domain the load balancer's public address, and the run ends on https. The database backs up to Terraform's backups
bucket (in moto, put behind TLS for pgBackRest).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from deploy.lab import lab as lab_module
from deploy.terraform import aws
from tests.deploy.ansible.conftest import changed_per_host, make, needs_lab, sign_up
from tests.deploy.terraform.conftest import Moto, needs_terraform
from tests.deploy.terraform.rehearsal import ADMIN, fresh_deployment, make_standing_in, moto_env, running_instances
from tests.harness.moto_s3 import MotoS3
from tests.harness.pebble import Pebble
from tests.harness.requires import needs
from tests.harness.servers import REPO, get

pytestmark = [needs_terraform, needs_lab, needs("pebble", "pebble-challtestsrv")]
DOMAIN = "rehearsal.scaleboard.test"


def known_host(address: str) -> bool:
    found = subprocess.run(["ssh-keygen", "-F", address, "-f", str(aws.KNOWN_HOSTS)], capture_output=True, check=False)
    return found.returncode == 0


def check_host_keys(tmp_path: Path) -> None:
    """Every server's key was taken on first contact into the deployment's known_hosts, and is checked from then
    on: a server answering with another key (an impostor on its address) is refused before Ansible sends it
    anything, vault-decrypted secrets included."""
    addresses = {name: str(v["ansible_host"]) for hosts in aws.read_inventory().values() for name, v in hosts.items()}
    assert all(known_host(address) for address in addresses.values()), aws.KNOWN_HOSTS.read_text()
    lb = addresses["scaleboard-lb"]
    genuine = aws.KNOWN_HOSTS.read_text()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "impostor")], check=True)
    subprocess.run(["ssh-keygen", "-R", lb, "-f", str(aws.KNOWN_HOSTS)], check=True, capture_output=True)
    with aws.KNOWN_HOSTS.open("a") as known:
        known.write(f"{lb} {(tmp_path / 'impostor.pub').read_text()}")
    # New SSH connections, as a run a minute later makes: the last run's (ControlPersist) would skip the key exchange.
    (tmp_path / "ssh-control").mkdir()
    env = {**os.environ, "ANSIBLE_CONFIG": "ansible.cfg", "ANSIBLE_SSH_CONTROL_PATH_DIR": str(tmp_path / "ssh-control")}
    try:
        result = subprocess.run(
            [str(REPO / ".venv/bin/ansible"), "all", "-i", str(aws.INVENTORY), "-o", "-m", "ansible.builtin.ping"],
            cwd=aws.ANSIBLE, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    finally:
        aws.KNOWN_HOSTS.write_text(genuine)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in output, output
    assert re.search(r"^scaleboard-lb \| UNREACHABLE", output, re.M), output
    assert len(re.findall(r"^scaleboard-\S+ \| SUCCESS", output, re.M)) == len(addresses) - 1, output


def trust_and_resolve(monkeypatch: pytest.MonkeyPatch, root: Path, address: str) -> None:
    """For this test's own HTTP clients: DOMAIN resolves to `address` (no DNS knows it), and Pebble's root is the
    CA (the clients make a default SSL context per connection, which reads SSL_CERT_FILE)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(root))
    resolve = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *rest, **kw: resolve(
        address if host == DOMAIN else host, *rest, **kw))  # fmt: skip


def test_make_deploy_aws_then_aws_scale_serve_through_the_lb(
    moto: Moto, moto_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.yml"
    env = moto_env(moto_root, secrets)
    with fresh_deployment(), contextlib.ExitStack() as stack:
        # Two spare app hosts for aws-scale to bring in later.
        make("lab-up", "TOPOLOGY=split", "APP_SERVERS=4")
        lab = lab_module.Lab.load()
        assert lab is not None
        pebble = stack.enter_context(Pebble(ADMIN, tmp_path))  # on the lab's network, up now
        # moto's S3 (Terraform's backups bucket lives there) behind TLS on the lab's network, for pgBackRest.
        s3 = stack.enter_context(MotoS3(ADMIN, tmp_path, moto_port=int(moto.url.rsplit(":", 1)[1])))
        # Grafana's apt repository is out of these machines' reach (package registries only); the rest is AWS's
        # default. Pebble's ACME directory is served over HTTPS with a certificate of the test's own making. No
        # instance profile reaches a lab host: pgBackRest gets moto's keys and address instead, and keeps the
        # bucket, region and prefix the inventory took from Terraform.
        secrets.write_text(json.dumps({
            # checkov:skip=CKV_SECRET_6: guards moto's emulated servers, gone when the test ends
            "scaleboard_secret_key": "rehearsal-only-secret-key-0123456789-abcdefghijklmnop",
            # checkov:skip=CKV_SECRET_6: guards moto's emulated servers, gone when the test ends
            "scaleboard_db_password": "rehearsal-only-db-password",
            # checkov:skip=CKV_SECRET_6: guards moto's emulated servers, gone when the test ends
            "scaleboard_backup_cipher_pass": "rehearsal-only-backup-passphrase",
            "monitoring_grafana_install": False,
            "tls_acme_server_ca": pebble.ca.read_text(),
            **s3.store_vars(),
        }))  # fmt: skip
        rehearse(moto, lab, pebble, monkeypatch, env, tmp_path)


def rehearse(moto: Moto, lab: lab_module.Lab, pebble: Pebble, monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
             tmp_path: Path) -> None:  # fmt: skip
    done: set[str] = set()
    started = time.monotonic()
    knobs = ["AUTO_APPROVE=1", "ADMIN_CIDR=10.77.0.1/32", f"SSH_KEY={lab.key}"]
    site = [f"DOMAIN={DOMAIN}", "ACME_EMAIL=ops@scaleboard.test", f"ACME_DIRECTORY={pebble.directory}"]
    output = make_standing_in(lab, done, env, tmp_path / "deploy.log", "deploy-aws", "TOPOLOGY=split",
                              "APP_SERVERS=2", *knobs, *site, on_inventory=lambda: pebble.point(
                                  DOMAIN, aws.read_inventory()["lb"]["scaleboard-lb"]["ansible_host"]))  # fmt: skip
    deploy_seconds = time.monotonic() - started
    # The servers moto runs: IMDSv2 only, tagged, and the inventory's addresses are theirs.
    servers = running_instances(moto)
    assert sorted(servers) == ["scaleboard-app-1", "scaleboard-app-2", "scaleboard-db", "scaleboard-lb",
                               "scaleboard-monitor"]  # fmt: skip
    assert all(s["tokens"] == "required" and s["project"] == "scaleboard" for s in servers.values())
    addresses = {name: v["ansible_host"] for hosts in aws.read_inventory().values() for name, v in hosts.items()}
    assert addresses == {name: s["public"] for name, s in servers.items()}
    assert done == {"scaleboard-db", "scaleboard-lb", "scaleboard-monitor", "scaleboard-app-1", "scaleboard-app-2"}
    # The first converge's full backup is in Terraform's bucket, under the prefix the db server's profile may write.
    bucket = str(yaml.safe_load(aws.INVENTORY.read_text())["all"]["vars"]["pgbackrest_s3_bucket"])
    listed = moto.client("s3").list_objects_v2(Bucket=bucket, Prefix="db/backup/scaleboard/")
    assert listed.get("KeyCount", 0) > 0, f"no backup in s3://{bucket}/db/"
    inventory = aws.read_inventory()
    lb = inventory["lb"]["scaleboard-lb"]["ansible_host"]
    url = f"https://{DOMAIN}"
    assert f"aws: the site is at {url}" in output
    # Plain HTTP on the public address redirects; HTTPS serves a certificate that chains to Pebble's root.
    plain = http.client.HTTPConnection(lb, 80, timeout=10)
    plain.request("GET", "/", headers={"Host": DOMAIN})
    answer = plain.getresponse()
    assert (answer.status, answer.getheader("Location")) == (301, f"https://{DOMAIN}/")
    trust_and_resolve(monkeypatch, pebble.roots(), lb)

    # Through the load balancer on the instance's public address: health, seeded data, a write.
    assert get(f"{url}/healthz")[0] == 200
    app = next(h for h in lab.hosts if h.name == "sb-app1")
    lab_module.ssh(app, "sudo scaleboard-manage seed_demo --users 5 --posts 40 --comments 80", timeout=300)
    status, _, body = get(f"{url}/")
    assert status == 200
    assert body.decode().count('class="post"') == 30
    status, page = sign_up(url, "rehearsal")
    assert status == 200
    assert 'href="/user/rehearsal"' in page
    # The app servers talk to PostgreSQL on the private address Terraform reported.
    db_private = inventory["db"]["scaleboard-db"]["scaleboard_private_address"]
    assert f"@{db_private}:5432/" in lab_module.ssh(app, "sudo cat /etc/scaleboard/app.env").stdout

    # aws-scale to 4: two more app servers; only they, the database and the load balancer are provisioned.
    started = time.monotonic()
    output = make_standing_in(lab, done, env, tmp_path / "scale.log", "aws-scale", "APP_SERVERS=4", *knobs)
    scale_seconds = time.monotonic() - started
    assert "Resources: 2 added, 0 changed, 0 destroyed." in output, "scaling adds the two servers, replaces nothing"
    assert {name: s["public"] for name, s in running_instances(moto).items() if name in servers} == {
        name: s["public"] for name, s in servers.items()}  # fmt: skip
    assert set(changed_per_host(output)) == {
        "scaleboard-db",
        "scaleboard-lb",
        "scaleboard-monitor",
        "scaleboard-app-3",
        "scaleboard-app-4",
    }
    inventory = aws.read_inventory()
    upstreams = lab_module.ssh(next(h for h in lab.hosts if h.name == "sb-lb"), "sudo nginx -T").stdout
    monitor = next(h for h in lab.hosts if h.name == "sb-monitor")
    scraped = lab_module.ssh(monitor, "cat /etc/prometheus/prometheus.yml").stdout
    for new in ("scaleboard-app-3", "scaleboard-app-4"):
        assert f"{inventory['app'][new]['scaleboard_private_address']}:8000" in upstreams
        assert f'instance: "{new}"' in scraped, "Prometheus scrapes the new app servers"
    assert get(f"{url}/healthz")[0] == 200
    print(f"\nmake deploy-aws (moto + lab: db + 2 app + lb + monitor) {deploy_seconds:.0f} s; "
          f"aws-scale to 4 app servers {scale_seconds:.0f} s")  # fmt: skip

    check_host_keys(tmp_path)
    plan = subprocess.run(["make", "--no-print-directory", "aws-plan"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert plan.returncode == 0, (plan.stdout + plan.stderr)[-4000:]
    assert "No changes." in plan.stdout, f"a plan right after the apply must be empty:\n{plan.stdout[-4000:]}"

    started = time.monotonic()
    result = subprocess.run(["make", "--no-print-directory", "destroy-aws", "AUTO_APPROVE=1"], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    print(f"destroy-aws {time.monotonic() - started:.0f} s")
    assert moto.leftovers() == {"instances": [], "vpcs": [], "security groups": [], "key pairs": [], "buckets": []}
    assert not aws.INVENTORY.exists()
