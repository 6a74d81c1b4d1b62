"""The rendered web Deployment, run for real with `podman kube play`: its command, env and probes work."""

from __future__ import annotations

import base64
import copy
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from deploy.local.stack import http_status
from tests.deploy.conftest import NETWORK, needs_podman, one_off, podman
from tests.deploy.k8s.test_manifests import objects
from tests.harness.servers import free_port_block, get

pytestmark = [pytest.mark.live, needs_podman]


def playable(image: str, database_url: str, port: int) -> list[dict[str, Any]]:
    """The local overlay's web Deployment, ConfigMap and Secret, adjusted only where podman needs it."""
    rendered = copy.deepcopy(objects("local"))
    config = next(o for o in rendered if o["metadata"]["name"].startswith("scaleboard-env"))
    secret = next(o for o in rendered if o["metadata"]["name"].startswith("scaleboard-secrets"))
    web = next(o for o in rendered if o["kind"] == "Deployment" and o["metadata"]["name"] == "web")
    config["data"]["DJANGO_ALLOWED_HOSTS"] += ",127.0.0.1"
    values = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    values["DATABASE_URL"] = database_url  # the test's PostgreSQL instead of the in-cluster one
    # podman 4.3 cannot read a kube Secret from its store ("not valid JSON"); the same keys go in as a
    # ConfigMap, and the secretRef becomes a configMapRef. Nothing else about the pod changes.
    as_config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": secret["metadata"], "data": values}
    spec = web["spec"]["template"]["spec"]
    container = spec["containers"][0]
    container["envFrom"] = [
        {"configMapRef": ref.get("configMapRef") or ref["secretRef"]} for ref in container["envFrom"]
    ]
    container["image"] = image
    container["ports"][0].update(hostPort=port, hostIP="127.0.0.1")
    web["spec"]["replicas"] = 1
    return [config, as_config, web]


def test_web_deployment_runs_under_podman_kube_play(app_image: str, container_database: str, tmp_path: Path) -> None:
    one_off(app_image, container_database, "python3", "manage.py", "migrate", "--noinput")
    port = free_port_block(1, start=19300)
    manifest = tmp_path / "web.yaml"
    manifest.write_text(yaml.safe_dump_all(playable(app_image, container_database, port)))
    podman("kube", "play", "--network", NETWORK, str(manifest))
    try:
        deadline = time.monotonic() + 60
        while http_status(f"http://127.0.0.1:{port}/readyz", headers={"Host": "localhost"}) != 200:
            assert time.monotonic() < deadline, podman("pod", "logs", "web-pod-0", check=False).stdout[-3000:]
            time.sleep(0.3)
        assert get(f"http://127.0.0.1:{port}/healthz")[:3:2] == (200, b"ok\n")
        assert podman("exec", "web-pod-0-web", "id", "-u").stdout.strip() == "10001"
        # The read-only root filesystem holds: only the /tmp emptyDir is writable.
        denied = podman("exec", "web-pod-0-web", "touch", "/srv/scaleboard/x", check=False)
        assert denied.returncode != 0
        assert podman("exec", "web-pod-0-web", "touch", "/tmp/x").returncode == 0
    finally:
        podman("kube", "down", str(manifest), check=False)
