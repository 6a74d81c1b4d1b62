"""deploy/k8s/k8s.sh, driven with a recording stand-in for kubectl (there is no API server here)."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.conftest import Published, needs_podman
from tests.harness.requires import needs
from tests.harness.servers import REPO

# Records every call, answers the few questions the script asks, as a cluster with an HPA max of 10 would.
# Rendering (kubectl kustomize) needs no cluster, so it goes to the real kubectl.
FAKE_KUBECTL = """#!/usr/bin/env bash
[[ "$1" == kustomize ]] && exec kubectl "$@"
echo "$*" >> "$KUBECTL_LOG"
[[ "$1" == apply ]] && cat "$3" >> "$KUBECTL_LOG.applied"
case "$*" in
  "config current-context") [[ -n "$FAKE_NO_CONTEXT" ]] && exit 1; echo test-cluster ;;
  *"get hpa web -o jsonpath={.spec.maxReplicas}") printf 10 ;;
  # The HPA's bounds, kept between calls in a file: what `patch hpa` set, what `get hpa` then answers.
  *"patch hpa web "*) tr -c '0-9' ' ' <<< "${@: -1}" > "$KUBECTL_LOG.hpa" ;;  # "min max"
  *"{.spec.minReplicas} {.spec.maxReplicas} --ignore-not-found") cat "$KUBECTL_LOG.hpa" 2>/dev/null || true ;;
esac
"""


@pytest.fixture
def kubectl(tmp_path: Path) -> tuple[dict[str, str], Path]:
    fake = tmp_path / "kubectl"
    fake.write_text(FAKE_KUBECTL)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "calls.log"
    env = {**os.environ, "KUBECTL": str(fake), "KUBECTL_LOG": str(log), "FAKE_NO_CONTEXT": ""}
    return env, log


def run(target: str, env: dict[str, str], **variables: str) -> subprocess.CompletedProcess[str]:
    args = ["make", "--no-print-directory", target, *(f"{k}={v}" for k, v in variables.items())]
    return subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("n", "hpa_max"), [("5", "10"), ("15", "15")])
def test_scale_raises_the_hpa_floor_then_scales(kubectl: tuple[dict[str, str], Path], n: str, hpa_max: str) -> None:
    env, log = kubectl
    result = run("k8s-scale", env, N=n)
    assert result.returncode == 0, result.stderr
    assert log.read_text().splitlines() == [
        "config current-context",
        "version --request-timeout=5s",
        "-n scaleboard get hpa web -o jsonpath={.spec.maxReplicas}",
        f'-n scaleboard patch hpa web --type merge -p {{"spec":{{"minReplicas":{n},"maxReplicas":{hpa_max}}}}}',
        f"-n scaleboard scale deployment/web --replicas={n}",
        "-n scaleboard rollout status deployment/web --timeout=600s",
    ]


def test_scale_needs_a_number(kubectl: tuple[dict[str, str], Path]) -> None:
    env, log = kubectl
    result = run("k8s-scale", env, N="lots")
    assert result.returncode != 0
    assert "N must be a positive number" in result.stderr
    assert not log.exists()


def test_no_context_is_one_clear_line(kubectl: tuple[dict[str, str], Path]) -> None:
    env, _ = kubectl
    result = run("k8s-status", {**env, "FAKE_NO_CONTEXT": "1"})
    assert result.returncode != 0
    assert "error: no kubectl context: start one" in result.stderr


def test_deploy_migrates_before_the_web_rollout(kubectl: tuple[dict[str, str], Path]) -> None:
    env, log = kubectl
    # The script itself (make k8s-deploy with REGISTRY would also build and push the image).
    deploy = {**env, "OVERLAY": "aws", "REGISTRY": "registry.example", "IMAGE_TAG": "1.2.3"}
    result = subprocess.run(["deploy/k8s/k8s.sh", "deploy"], cwd=REPO, env=deploy, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    applied = Path(f"{log}.applied").read_text()
    assert "image: registry.example/scaleboard:1.2.3" in applied
    assert "kind: Job" in applied
    calls = log.read_text().splitlines()
    order = [c.split(" -f ")[0] + (" (web)" if "component=web" in c else "") for c in calls if "apply" in c or
             "wait" in c or "rollout" in c or "delete job" in c]  # fmt: skip
    assert order == [
        "-n scaleboard delete job migrate --ignore-not-found",
        "apply",
        "-n scaleboard wait --for=condition=complete job/migrate --timeout=600s",
        "apply (web)",
        "-n scaleboard rollout status deployment/web --timeout=600s",
    ]


def _applied(log: Path, kind: str, name: str) -> dict[str, Any]:
    documents = yaml.safe_load_all(Path(f"{log}.applied").read_text())
    return next(d for d in documents if d and d["kind"] == kind and d["metadata"]["name"] == name)


def test_deploy_after_k8s_scale_keeps_its_count(kubectl: tuple[dict[str, str], Path]) -> None:
    env, log = kubectl
    assert run("k8s-scale", env, N="5").returncode == 0
    result = run("k8s-deploy", env, OVERLAY="local")
    assert result.returncode == 0, result.stderr
    hpa = _applied(log, "HorizontalPodAutoscaler", "web")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (5, 10)
    # The HPA owns the count: the Deployment states none, so an apply cannot reset it.
    assert "replicas" not in _applied(log, "Deployment", "web")["spec"]


@pytest.mark.parametrize(
    ("live", "bounds"),
    [
        (None, (2, 10)),  # first deploy: no HPA yet, the overlay's bounds
        ("6 15", (6, 15)),  # after `make k8s-scale N=15`, then a floor of 6
        ("1 4", (2, 10)),  # bounds lowered by hand: the overlay's return
    ],
)
def test_deploy_raises_the_overlays_hpa_bounds_to_the_live_ones(
    kubectl: tuple[dict[str, str], Path], live: str | None, bounds: tuple[int, int]
) -> None:
    env, log = kubectl
    if live is not None:
        Path(f"{log}.hpa").write_text(live)
    result = run("k8s-deploy", env, OVERLAY="local")
    assert result.returncode == 0, result.stderr
    hpa = _applied(log, "HorizontalPodAutoscaler", "web")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == bounds


def test_deploy_pins_the_image_by_digest(kubectl: tuple[dict[str, str], Path]) -> None:
    env, log = kubectl
    digest = "sha256:" + "ab" * 32
    deploy = {**env, "OVERLAY": "aws", "IMAGE_REF": f"registry.example/scaleboard@{digest}"}
    result = subprocess.run(["deploy/k8s/k8s.sh", "deploy"], cwd=REPO, env=deploy, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    images = set(re.findall(r"image: (\S+)", Path(f"{log}.applied").read_text()))
    assert f"registry.example/scaleboard@{digest}" in images
    assert not {image for image in images if "/scaleboard:" in image}, "no tag left on the app's image"


@pytest.mark.live
@needs_podman
@needs("docker-registry", "skopeo")
def test_make_k8s_deploy_version_runs_the_published_image_by_digest(
    kubectl: tuple[dict[str, str], Path], published: Published
) -> None:
    env, log = kubectl
    result = run("k8s-deploy", env, OVERLAY="aws", VERSION=published.manifest["version"],
                 REGISTRY=published.registry.address, REGISTRY_TLS_VERIFY="false")  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    web = _applied(log, "Deployment", "web")
    (container,) = [c for c in web["spec"]["template"]["spec"]["containers"] if c["name"] == "web"]
    assert container["image"] == published.references["image"]


@pytest.mark.live
@needs_podman
@needs("docker-registry", "skopeo")
def test_make_promote_to_an_overlay_applies_the_staged_image_and_rollback_the_one_before(
    kubectl: tuple[dict[str, str], Path], published: Published, published_next: Published, tmp_path: Path
) -> None:
    """`make promote PROMOTE_TO=k8s/aws` applies the image staging recorded, by digest; `make rollback-promotion`
    applies the one promoted before. (The lab test stages for real; here staged.json is written as `make stage`
    writes it, since a smoke check needs a running cluster.)"""
    env, log = kubectl
    records = tmp_path / "delivery"
    records.mkdir()
    knobs = {"PROMOTE_TO": "k8s/aws", "DELIVERY_DIR": str(records), "REGISTRY_TLS_VERIFY": "false"}

    def web_image() -> str:
        (container,) = [c for c in _applied(log, "Deployment", "web")["spec"]["template"]["spec"]["containers"]
                        if c["name"] == "web"]  # fmt: skip
        Path(f"{log}.applied").unlink()
        return str(container["image"])

    for build in (published, published_next):
        version = build.manifest["version"]
        staged = {"version": version, **build.references, "place": "lab", "url": "http://10.77.0.10"}
        (records / "staged.json").write_text(json.dumps(staged))
        result = run("promote", env, VERSION=version, **knobs)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert web_image() == build.references["image"]
    result = run("rollback-promotion", env, **knobs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert web_image() == published.references["image"], "back to the first promotion's digest"
    promoted = json.loads((records / "promoted.json").read_text())
    assert [(p["version"], p["place"]) for p in promoted] == [
        (published.manifest["version"], "k8s/aws"), (published_next.manifest["version"], "k8s/aws"),
        (published.manifest["version"], "k8s/aws"),
    ]  # fmt: skip
