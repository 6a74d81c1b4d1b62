"""deploy/terraform/aws.py stops before touching AWS when something is missing, with one line saying what to set."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deploy.terraform import aws
from tests.harness.servers import REPO


def run_apply(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_apply_bare(tmp_path, "--topology", "split", "--app-servers", "2", **env)


def run_apply_bare(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("ADMIN_CIDR", "SSH_KEY")}
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return subprocess.run(
        [sys.executable, "-m", "deploy.terraform.aws", "apply", *args],
        cwd=REPO, env={**clean, "HOME": str(home), "TF_DIR": str(tmp_path), **env}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


@pytest.fixture
def key(tmp_path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")], check=True)
    return str(tmp_path / "key")


def test_missing_credentials(tmp_path: Path) -> None:
    result = run_apply(tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: no AWS credentials: set AWS_PROFILE (aws configure) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    )


def test_missing_key(tmp_path: Path) -> None:
    result = run_apply(tmp_path, AWS_PROFILE="x", SSH_KEY=str(tmp_path / "nope"))
    assert result.returncode == 1
    assert "set SSH_KEY=/path/to/key" in result.stderr


def test_missing_admin_cidr(tmp_path: Path, key: str) -> None:
    result = run_apply(tmp_path, AWS_PROFILE="x", SSH_KEY=key)
    assert result.returncode == 1
    assert "set ADMIN_CIDR to the network SSH may come from" in result.stderr


def test_missing_terraform(tmp_path: Path, key: str) -> None:
    result = run_apply(tmp_path, AWS_PROFILE="x", SSH_KEY=key, ADMIN_CIDR="203.0.113.7/32", PATH="/nonexistent")
    assert result.returncode == 1
    assert "terraform not found: install Terraform >= 1.6" in result.stderr


def test_destroy_asks_first(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.terraform.aws", "destroy"], cwd=REPO, input="no\n", capture_output=True,
        text=True,
        env={**os.environ, "AWS_PROFILE": "x", "TF_DIR": str(tmp_path)}, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "not destroyed" in result.stderr


def test_a_bare_rerun_keeps_the_last_topology_and_count(tmp_path: Path, key: str) -> None:
    """`make deploy-aws` without TOPOLOGY/APP_SERVERS re-applies what was deployed, never the defaults."""
    (tmp_path / "scaleboard.auto.tfvars.json").write_text('{"topology": "split", "app_servers": 3}')
    env = {k: v for k, v in os.environ.items() if k not in ("TOPOLOGY", "APP_SERVERS")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", "deploy-aws", "ADMIN_CIDR=203.0.113.7/32"], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    apply_line = next(line for line in result.stdout.splitlines() if "deploy.terraform.aws apply" in line)
    assert "--topology" not in apply_line
    assert "--app-servers" not in apply_line
    # aws.py then takes them from the last apply (it stops at the missing terraform, after saving the knobs).
    result = run_apply_bare(tmp_path, AWS_PROFILE="x", SSH_KEY=key, ADMIN_CIDR="203.0.113.7/32", PATH="/nonexistent")
    assert "terraform not found" in result.stderr
    knobs = json.loads((tmp_path / "scaleboard.auto.tfvars.json").read_text())
    assert (knobs["topology"], knobs["app_servers"]) == ("split", 3)


def test_aws_scale_needs_a_count(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "deploy.terraform.aws", "scale"], cwd=REPO, capture_output=True, text=True, timeout=60,
        env={**os.environ, "TF_DIR": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 1
    assert "make aws-scale APP_SERVERS=N" in result.stderr


def test_the_site_knobs_and_the_backup_bucket_reach_the_inventory(tmp_path: Path, key: str) -> None:
    """`make deploy-aws DOMAIN=... ACME_EMAIL=...` once; later runs keep them, and the inventory carries them."""
    knobs = {"AWS_PROFILE": "x", "SSH_KEY": key, "ADMIN_CIDR": "203.0.113.7/32", "PATH": "/nonexistent"}
    result = run_apply_bare(tmp_path, "--domain", "shop.example.org", "--acme-email", "ops@example.org", **knobs)
    assert "terraform not found" in result.stderr  # after the knobs are saved
    run_apply_bare(tmp_path, "--acme-directory", "https://acme-staging-v02.api.letsencrypt.org/directory", **knobs)
    site = json.loads((tmp_path / "scaleboard.site.json").read_text())
    assert site == {"domain": "shop.example.org", "acme_email": "ops@example.org",
                    "acme_directory": "https://acme-staging-v02.api.letsencrypt.org/directory"}  # fmt: skip
    server = {"groups": ["db", "app", "lb", "monitor"], "ansible_host": "203.0.113.10",
              "scaleboard_private_address": "10.0.1.10"}  # fmt: skip
    facts = {"ansible_user": "admin", "topology": "all-in-one", "hosts": {"scaleboard": server}}
    repository = {"bucket": "sb-backups", "region": "eu-west-1", "path": "/db"}
    state = {"url": "http://203.0.113.10", "backup_repository": repository, "inventory": facts}
    path = tmp_path / "hosts.yml"
    aws.write_inventory(state, Path(key), "203.0.113.7/32", path=path, site=site)
    variables = yaml.safe_load(path.read_text())["all"]["vars"]
    assert (variables["scaleboard_domain"], variables["scaleboard_acme_email"]) == (
        "shop.example.org",
        "ops@example.org",
    )
    assert variables["tls_acme_directory"] == site["acme_directory"]
    # Backups go to Terraform's bucket, under the prefix the db server's instance profile may write.
    assert {k: v for k, v in variables.items() if k.startswith("pgbackrest_")} == {
        "pgbackrest_repo_type": "s3", "pgbackrest_s3_bucket": "sb-backups", "pgbackrest_s3_region": "eu-west-1",
        "pgbackrest_repo_path": "/db", "pgbackrest_s3_key_type": "auto"}  # fmt: skip
    assert aws.site_url(state, site) == "https://shop.example.org"
    assert aws.site_url(state, {**site, "tls": "none"}) == "http://203.0.113.10"
    assert aws.site_url(state, {}) == "http://203.0.113.10"


@pytest.mark.parametrize(("lb_https", "tls", "url"), [(False, "none", "http://sb.elb.test"),
                                                      (True, "external", "https://shop.example.org")])  # fmt: skip
def test_rds_and_the_alb_reach_the_inventory(tmp_path: Path, key: str, lb_https: bool, tls: str, url: str) -> None:
    """use_rds: the app's database is RDS's endpoint. use_alb: the app servers admit and trust the ALB's subnets, and
    TLS is the ALB's (its ACM certificate) whatever the site's knobs asked of the nginx load balancer."""
    app = {"groups": ["app"], "ansible_host": "203.0.113.11", "scaleboard_private_address": "10.0.0.11"}
    facts = {"ansible_user": "admin", "topology": "split", "hosts": {"scaleboard-app-1": app},
             "database_address": "sb-db.x.eu-west-1.rds.amazonaws.com", "lb_dns_name": "sb.elb.test",
             "lb_networks": ["10.0.0.0/24", "10.0.1.0/24"], "lb_https": lb_https}  # fmt: skip
    state = {"url": f"{'https' if lb_https else 'http'}://sb.elb.test", "inventory": facts}
    site = {"domain": "shop.example.org", "tls": "acme"}
    path = tmp_path / "hosts.yml"
    aws.write_inventory(state, Path(key), "203.0.113.7/32", path=path, site=site)
    variables = yaml.safe_load(path.read_text())["all"]["vars"]
    assert variables["scaleboard_database_address"] == "sb-db.x.eu-west-1.rds.amazonaws.com"
    assert variables["scaleboard_lb_networks"] == ["10.0.0.0/24", "10.0.1.0/24"]
    assert variables["scaleboard_tls"] == tls
    assert variables["scaleboard_server_names"] == ["sb.elb.test"]
    assert aws.site_url(state, site) == url
