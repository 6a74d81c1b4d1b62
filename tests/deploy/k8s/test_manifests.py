"""The kustomize base and overlays, rendered by kubectl and checked: schema, policy, env contract."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from config.env import CONTRACT

from tests.harness import checkov
from tests.harness.servers import REPO

pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="needs kubectl (it ships kustomize)")

OVERLAYS = ("local", "aws", "loadtest")
RECOMMENDED = {"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
               "app.kubernetes.io/part-of", "app.kubernetes.io/version"}  # fmt: skip
WORKLOADS = {"Deployment", "StatefulSet", "Job"}


@cache
def rendered(overlay: str) -> str:
    result = subprocess.run(
        ["kubectl", "kustomize", f"deploy/k8s/overlays/{overlay}"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return result.stdout


def objects(overlay: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(rendered(overlay)) if doc]


def find(overlay: str, kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects(overlay) if o["kind"] == kind and o["metadata"]["name"] == name)


def pod_specs(overlay: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(o, o["spec"]["template"]["spec"]) for o in objects(overlay) if o["kind"] in WORKLOADS]


@pytest.mark.parametrize("overlay", OVERLAYS)
@pytest.mark.parametrize("version", ["1.30.0", "1.31.0", "1.32.0"])
def test_overlays_are_valid_kubernetes(overlay: str, version: str, tmp_path: Path) -> None:
    manifest = tmp_path / f"{overlay}.yaml"
    manifest.write_text(rendered(overlay))
    result = subprocess.run(
        [str(REPO / ".venv/bin/kubernetes-validate"), "--strict", "-k", version, "--quiet", str(manifest)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_probed_bounded_and_locked_down(overlay: str) -> None:
    for workload, spec in pod_specs(overlay):
        assert spec["securityContext"]["runAsNonRoot"] is True, workload["metadata"]["name"]
        assert spec["automountServiceAccountToken"] is False
        for container in spec["containers"]:
            where = f"{workload['metadata']['name']}/{container['name']}"
            if workload["kind"] != "Job":
                assert {"livenessProbe", "readinessProbe"} <= set(container), where
            assert {"cpu", "memory"} <= set(container["resources"]["requests"]), where
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1], where  # an explicit tag
            assert not image.endswith(":latest"), where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_labels_and_selectors(overlay: str) -> None:
    for workload in objects(overlay):
        if workload["kind"] in WORKLOADS | {"Service", "HorizontalPodAutoscaler", "PodDisruptionBudget"}:
            assert set(workload["metadata"]["labels"]) >= RECOMMENDED, workload["metadata"]["name"]
        selector = workload.get("spec", {}).get("selector")
        if workload["kind"] in {"Deployment", "StatefulSet", "PodDisruptionBudget", "PodMonitor"}:
            selector = selector["matchLabels"]
        if selector and workload["kind"] != "NetworkPolicy":
            assert set(selector) == {"app.kubernetes.io/name", "app.kubernetes.io/instance"}, workload["metadata"]


def test_web_serves_with_gunicorn_and_never_migrates() -> None:
    web = find("local", "Deployment", "web")
    container = web["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["gunicorn", "-c", "/srv/scaleboard/app/gunicorn.conf.py"]
    assert "migrate" not in str(web)
    assert "initContainers" not in web["spec"]["template"]["spec"]
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["lifecycle"]["preStop"]["exec"]["command"] == ["sleep", "5"]
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    migrate = find("local", "Job", "migrate")
    assert migrate["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "python3", "manage.py", "migrate", "--noinput"
    ]  # fmt: skip


def test_hpa_and_pdb_cover_the_web_deployment() -> None:
    web = find("aws", "Deployment", "web")
    hpa = find("aws", "HorizontalPodAutoscaler", "web")
    pdb = find("aws", "PodDisruptionBudget", "web")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 20)
    assert pdb["spec"]["selector"]["matchLabels"] == web["spec"]["selector"]["matchLabels"]


def test_network_policies_allow_only_the_chain() -> None:
    policies = {o["metadata"]["name"]: o["spec"] for o in objects("local") if o["kind"] == "NetworkPolicy"}
    assert policies["default-deny-ingress"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    web_from = policies["web-from-nginx"]["ingress"][0]["from"]
    assert [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in web_from] == ["nginx"]
    db_from = policies["database-from-app"]["ingress"][0]["from"]
    assert sorted(p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in db_from) == [
        "scaleboard", "scaleboard-migrate"
    ]  # fmt: skip


def test_env_matches_the_contract() -> None:
    declared = {var.name for var in CONTRACT}
    required = {var.name for var in CONTRACT if var.required_in_production}
    config = find("local", "ConfigMap", next(
        o["metadata"]["name"] for o in objects("local") if o["metadata"]["name"].startswith("scaleboard-env")
    ))["data"]  # fmt: skip
    secret = next(o for o in objects("local") if o["metadata"]["name"].startswith("scaleboard-secrets"))["data"]
    assert set(config) | set(secret) <= declared
    assert set(config) | set(secret) >= required
    assert not set(config) & {"DJANGO_SECRET_KEY", "DATABASE_URL"}  # secrets stay in the Secret
    web = find("local", "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]
    assert {item["name"] for item in web.get("env", [])} <= declared


def test_nginx_serves_the_rendered_template() -> None:
    site = next(o for o in objects("local") if o["metadata"]["name"].startswith("nginx-site"))["data"]["default.conf"]
    assert site == (REPO / "deploy/k8s/base/nginx/site.conf").read_text()
    assert "server web:8000" in site


def test_checkov_has_no_unjustified_findings(tmp_path: Path) -> None:
    """Every overlay as rendered, in one checkov run (its start-up is most of its time). Accepted findings carry
    their reason in a checkov.io/skip annotation on the resource."""
    for overlay in OVERLAYS:
        (tmp_path / f"{overlay}.yaml").write_text(rendered(overlay))
    (report,) = checkov.scan("--framework", "kubernetes", "-d", str(tmp_path))
    problems = checkov.unaccepted([report])
    assert not problems, "\n".join(problems)
    assert {Path(c["file_path"]).stem for c in report["results"]["passed_checks"]} == set(OVERLAYS)


def test_the_aws_ingress_serves_its_host_over_https_only() -> None:
    """The ALB terminates TLS with the ACM certificate it finds for the rule's host, and redirects HTTP."""
    ingress = find("aws", "Ingress", "scaleboard")
    hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
    assert [host for tls in ingress["spec"]["tls"] for host in tls["hosts"]] == hosts
    annotations = ingress["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert '{"HTTPS": 443}' in annotations["alb.ingress.kubernetes.io/listen-ports"]
