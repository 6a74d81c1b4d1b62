"""Each deployment value has one home (deploy/defaults.env; the version in pyproject.toml): change it there, in a
copy of the repo, re-render, and every target follows."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy import defaults
from tests.deploy.ansible.resolve import resolved
from tests.harness.servers import REPO

CHANGED = {"APP_PORT": "8123", "WEB_CONCURRENCY": "5", "STACK_PORT": "8181", "SEED_POSTS": "777",
           "PROMETHEUS_PORT": "9191", "NODE_EXPORTER_PORT": "9200", "NGINX_STATUS_PORT": "8091"}  # fmt: skip
VERSION = "9.8.7"
SPLIT = {"db": {"db1": "10.0.0.1"}, "app": {"app1": "10.0.0.2"}, "lb": {"lb1": "10.0.0.3"},
         "monitor": {"mon1": "10.0.0.4"}}  # fmt: skip


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repo's files with CHANGED and VERSION in their one home, re-rendered (`make render-configs`)."""
    root = tmp_path_factory.mktemp("copy") / "repo"
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, check=True,
                            capture_output=True, text=True).stdout  # fmt: skip
    for name in filter(None, listed.split("\0")):
        if (REPO / name).exists() or (REPO / name).is_symlink():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name, follow_symlinks=False)
    subprocess.run([REPO / ".venv/bin/python", REPO / "deploy/ansible/install_collections.py"], check=True, timeout=600)
    for installed in (".venv", "deploy/ansible/collections"):
        (root / installed).symlink_to(REPO / installed)
    env_file = root / "deploy/defaults.env"
    text = env_file.read_text()
    for key, value in CHANGED.items():
        text, found = re.subn(rf"^{key}=.*$", f"{key}={value}", text, flags=re.M)
        assert found == 1, key
    env_file.write_text(text)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(re.sub(r'^version = ".*"$', f'version = "{VERSION}"', pyproject.read_text(), flags=re.M))
    subprocess.run([sys.executable, "-m", "deploy.render_committed"], cwd=root, check=True, timeout=60)
    return root


def clean_env() -> dict[str, str]:
    """This process's environment without the values under test (`make test` exports APP_PORT) or make's own."""
    drop = {*defaults.DEFAULTS, "MAKEFLAGS", "MAKELEVEL", "MFLAGS"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def make_variables(root: Path, *argv: str) -> dict[str, str]:
    result = subprocess.run(["make", "-pn", "help", *argv], cwd=root, env=clean_env(), capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    pairs = (re.match(r"^([A-Z_]+) :?= (.*)$", line) for line in result.stdout.splitlines())
    return {m[1]: m[2] for m in pairs if m}


def dry_run(root: Path, target: str) -> str:
    result = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=root, env=clean_env(),
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    return result.stdout


def ansible_vars(root: Path, host: str, *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """What the playbooks' group vars resolve to for `host` of a split inventory."""
    inventory = {"all": {"vars": {"scaleboard_topology": "split", "scaleboard_env_overrides": env or {}},
                         "children": {group: {"hosts": {name: {"ansible_host": address}
                                                        for name, address in hosts.items()}}
                                      for group, hosts in SPLIT.items()}}}  # fmt: skip
    path = root / ".var" / "inventory.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(inventory))
    wanted = (
        "app_port app_bind nginx_upstream_servers nginx_client_max_body_size app_env_extra common_firewall_rules "
        "nginx_status_port exporters_nginx_stub_status_url monitoring_scrape_jobs monitoring_prometheus_port"
    )
    return resolved(path, host, wanted.split(), root=root)


def test_the_makefile_takes_each_default_and_the_version(copy: Path) -> None:
    variables = make_variables(copy)
    assert {key: variables[key] for key in CHANGED} == CHANGED
    assert variables["VERSION"] == VERSION
    assert "--build-arg APP_PORT=8123" in dry_run(copy, "docker-build")
    run = dry_run(copy, "run")
    assert "APP_PORT=8123 WEB_CONCURRENCY=5" in run
    assert "SEED_POSTS=777" in run
    # A value given to make still wins over the file's.
    assert make_variables(copy, "WEB_CONCURRENCY=9")["WEB_CONCURRENCY"] == "9"


def test_the_ansible_release_is_named_by_the_version(copy: Path, tmp_path: Path) -> None:
    uv = shutil.which("uv") or str(REPO / ".tools/bin/uv")
    result = subprocess.run([sys.executable, "-m", "deploy.release", "--releases", str(tmp_path)], cwd=copy,
                            env={**os.environ, "UV": uv}, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    (release,) = (path.name for path in tmp_path.iterdir() if path.is_dir())
    assert release.startswith(f"{VERSION}+")


def test_the_local_stack_takes_its_defaults(copy: Path) -> None:
    probe = (
        "from pathlib import Path; from deploy.local import stack; s = stack.Stack(Path('x'));"
        "print(s.port, s.workers, stack.up.__kwdefaults__['seed'])"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=copy, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "8181 5 (50, 777, 1500)", result.stdout + result.stderr


def test_ansible_takes_the_app_port_and_leaves_workers_to_gunicorn(copy: Path) -> None:
    app = ansible_vars(copy, "app1")
    assert app["app_port"] == 8123
    assert app["app_bind"] == "10.0.0.2:8123"
    assert app["common_firewall_rules"] == [{"from": "10.0.0.3", "port": 8123}, {"from": "10.0.0.4", "port": 9200},
                                            {"from": "10.0.0.4", "port": 8123}]  # fmt: skip
    # On a server, gunicorn.conf.py's default (2 x CPU cores + 1) sizes the workers.
    assert "WEB_CONCURRENCY" not in app["app_env_extra"]
    assert ansible_vars(copy, "lb1")["nginx_upstream_servers"] == ["10.0.0.2:8123"]


def test_monitoring_takes_its_ports(copy: Path) -> None:
    lb, monitor = ansible_vars(copy, "lb1"), ansible_vars(copy, "mon1")
    assert lb["nginx_status_port"] == 8091
    assert lb["exporters_nginx_stub_status_url"] == "http://127.0.0.1:8091/stub_status"
    assert monitor["monitoring_prometheus_port"] == 9191
    assert monitor["monitoring_scrape_jobs"]["node"] == {
        "db1": "10.0.0.1:9200", "app1": "10.0.0.2:9200", "lb1": "10.0.0.3:9200", "mon1": "10.0.0.4:9200"}  # fmt: skip
    assert monitor["monitoring_scrape_jobs"]["scaleboard-app"] == {"app1": "10.0.0.2:8123"}
    # Terraform's security groups open the same ports.
    probe = "from deploy.terraform import aws; e = aws.terraform_env(); print(e['TF_VAR_exporter_ports'])"
    result = subprocess.run([sys.executable, "-c", probe], cwd=copy, capture_output=True, text=True, timeout=60)
    assert json.loads(result.stdout) == {"node": 9200, "nginx": 9113, "nginx_log": 3903, "postgresql": 9187}, (
        result.stderr
    )
    probe = probe.replace("exporter_ports", "monitor_ports")
    result = subprocess.run([sys.executable, "-c", probe], cwd=copy, capture_output=True, text=True, timeout=60)
    assert json.loads(result.stdout) == {"prometheus": 9191, "alertmanager": 9093, "grafana": 3000}, result.stderr


def test_nginx_body_limit_follows_the_apps(copy: Path) -> None:
    contract = dict(line.split("=", 1) for line in (REPO / ".env.example").read_text().splitlines() if "=" in line)
    assert ansible_vars(copy, "lb1")["nginx_client_max_body_size"] == int(contract["DJANGO_MAX_BODY_BYTES"])
    raised = ansible_vars(copy, "lb1", env={"DJANGO_MAX_BODY_BYTES": "5242880"})
    assert raised["nginx_client_max_body_size"] == 5242880
    assert raised["app_env_extra"]["DJANGO_MAX_BODY_BYTES"] == "5242880"


def test_terraform_opens_and_targets_the_app_port(copy: Path) -> None:
    probe = "from deploy.terraform import aws; print(aws.terraform_env()['TF_VAR_app_port'])"
    result = subprocess.run([sys.executable, "-c", probe], cwd=copy, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "8123", result.stderr
    # The root module requires it and hands it to the security groups and the ALB (tftest checks the rule).
    main = (copy / "deploy/terraform/main.tf").read_text()
    assert len(re.findall(r"^\s*app_port\s*=\s*var\.app_port$", main, flags=re.M)) == 2


def test_compose_and_the_image_take_the_port_and_workers(copy: Path) -> None:
    rendered = defaults.parse((copy / "docker/defaults.env").read_text())
    assert rendered == {"GUNICORN_BIND": "0.0.0.0:8123", "WEB_CONCURRENCY": "5"}
    assert "server web:8123 " in (copy / "docker/nginx/site.conf").read_text()
    compose = yaml.safe_load((copy / "docker/compose.yaml").read_text())
    assert compose["x-app"]["env_file"][0] == "defaults.env"
    assert "APP_PORT" in compose["x-app"]["build"]["args"]


@pytest.mark.skipif(not shutil.which("kubectl"), reason="needs kubectl (it ships kustomize): `sudo make test-all`")
@pytest.mark.parametrize("overlay", ["local", "aws", "loadtest"])
def test_kubernetes_takes_the_port_workers_and_version(copy: Path, overlay: str) -> None:
    result = subprocess.run(["kubectl", "kustomize", f"deploy/k8s/overlays/{overlay}"], cwd=copy,
                            capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    objects = [o for o in yaml.safe_load_all(result.stdout) if o]

    def find(kind: str, name: str) -> dict[str, Any]:
        return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"].startswith(name))

    assert find("Service", "web")["spec"]["ports"][0]["port"] == 8123
    web = find("Deployment", "web")["spec"]["template"]["spec"]["containers"][0]
    assert web["ports"] == [{"name": "http", "containerPort": 8123}]
    env = find("ConfigMap", "scaleboard-env")["data"]
    assert (env["GUNICORN_BIND"], env["WEB_CONCURRENCY"]) == ("0.0.0.0:8123", "5")
    assert "server web:8123 " in find("ConfigMap", "nginx-site")["data"]["default.conf"]
    assert not [o for o in objects if o["metadata"]["name"].startswith("scaleboard-defaults")], "never applied"
    # The app's objects (the local PostgreSQL and the loadtest's Locust carry their own versions).
    ours = [
        o["metadata"]["labels"]
        for o in objects
        if o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "scaleboard"
    ]
    assert len(ours) >= 4
    assert {label["app.kubernetes.io/version"] for label in ours} == {VERSION}
    assert find("Deployment", "web")["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/version"] == VERSION
    if overlay == "aws":  # local and loadtest run the image `make docker-build` tags :dev (kubernetes.md)
        assert web["image"].endswith(f"/scaleboard:{VERSION}")
