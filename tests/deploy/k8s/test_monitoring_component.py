"""deploy/k8s/components/monitoring, as the aws overlay renders it: the Prometheus operator's PodMonitor on the web
pods, the one rules file as a PrometheusRule, the app dashboard for Grafana's sidecar, and the way in for Prometheus.
(Kubernetes' own schemas do not cover the operator's kinds: their fields are checked here.)"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.monitoring.render import RULES
from tests.deploy.k8s.test_manifests import find, objects

pytestmark = pytest.mark.skipif(not shutil.which("kubectl"), reason="needs kubectl (it ships kustomize)")


def web_pod_template() -> dict[str, Any]:
    return dict(find("aws", "Deployment", "web")["spec"]["template"])


def test_the_pod_monitor_scrapes_exactly_the_web_pods_as_the_rules_job() -> None:
    monitor = find("aws", "PodMonitor", "scaleboard-web")
    selected = monitor["spec"]["selector"]["matchLabels"]
    pods = [o for o in objects("aws") if o["kind"] in ("Deployment", "Job")]
    matching = [o["metadata"]["name"] for o in pods
                if selected.items() <= o["spec"]["template"]["metadata"]["labels"].items()]  # fmt: skip
    assert matching == ["web"], "the web pods and not the migration job's"
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    ports = {p["name"] for c in web_pod_template()["spec"]["containers"] for p in c.get("ports", [])}
    assert endpoint["port"] in ports
    assert endpoint["path"] == "/metrics"
    assert {"targetLabel": "job", "replacement": "scaleboard-app"} in endpoint["relabelings"]
    assert monitor["metadata"]["namespace"] == "scaleboard"


def test_the_prometheus_rule_is_the_one_rules_file(tmp_path: Path) -> None:
    rule = find("aws", "PrometheusRule", "scaleboard")
    assert rule["spec"]["groups"] == yaml.safe_load(RULES.read_text())["groups"]
    if shutil.which("promtool"):
        (tmp_path / "rules.yml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
        result = subprocess.run(["promtool", "check", "rules", str(tmp_path / "rules.yml")], capture_output=True,
                                text=True, timeout=60)  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_app_dashboard_is_a_configmap_for_grafanas_sidecar() -> None:
    dashboards = find("aws", "ConfigMap", "scaleboard-dashboards")
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = json.loads(dashboards["data"]["scaleboard-app.json"])
    assert shipped == json.loads((RULES.parent / "dashboards/scaleboard-app.json").read_text())


def test_prometheus_may_reach_the_web_pods_and_read_their_metrics() -> None:
    policy = find("aws", "NetworkPolicy", "web-from-prometheus")
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]
    assert rule["ports"] == [{"port": "http"}]
    assert policy["spec"]["podSelector"]["matchLabels"].items() <= web_pod_template()["metadata"]["labels"].items()
    env = next(
        o for o in objects("aws") if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("scaleboard-env")
    )
    assert env["data"]["METRICS_ALLOWED_NETWORKS"] == "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16"


def test_clusters_without_the_operator_get_none_of_it() -> None:
    kinds = {o["kind"] for overlay in ("local", "loadtest") for o in objects(overlay)}
    assert not kinds & {"PodMonitor", "PrometheusRule"}
