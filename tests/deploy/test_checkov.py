"""checkov over deploy/ and docker/ as a whole, and its secrets scanner over every file of the repository: every
finding is fixed or skipped in place with its reason (a `checkov:skip=ID: reason` comment beside what it is about)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.harness.servers import REPO

# What this scan reads: Ansible (deploy/ansible) and Dockerfiles (docker/). Secrets: the whole repository, below.
FRAMEWORKS = ("ansible", "dockerfile")
# Left out, with why:
SKIPPED_PATHS = {
    # Vendored Ansible collections (installed by make ansible-deps), not ours.
    "deploy/ansible/collections": "vendored",
    # kustomize's inputs, not manifests: without kustomize's namespace and images they fail CKV_K8S_21 and
    # CKV_K8S_14 by construction. What is applied is checked instead: every overlay rendered, in
    # tests/deploy/k8s/test_manifests.py::test_checkov_has_no_unjustified_findings.
    "deploy/k8s": "checked rendered",
    # tests/deploy/terraform/test_static.py scans it, and holds every skip there to a reason.
    "deploy/terraform": "checked there",
}


def scan(*directories: str) -> list[dict[str, Any]]:
    """One checkov run (its start-up is most of its time) over `directories`: a JSON report per directory."""
    result = subprocess.run(
        [str(REPO / ".venv/bin/checkov"), "--skip-download", "--compact", "--output", "json",
         "--framework", *FRAMEWORKS, *(a for d in directories for a in ("-d", d)),
         *(f"--skip-path={path}" for path in SKIPPED_PATHS)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    reports: list[dict[str, Any]] = []
    decoder, text, at = json.JSONDecoder(), result.stdout, 0
    while text[at:].strip():
        at = len(text) - len(text[at:].lstrip())  # past the whitespace between two reports
        found, at = decoder.raw_decode(text, at)
        reports += found if isinstance(found, list) else [found]
    return reports


def test_deploy_and_docker_have_no_finding_without_a_reason() -> None:
    reports = scan("deploy", "docker")
    scanned = {report["check_type"] for report in reports}
    assert scanned == set(FRAMEWORKS), scanned
    failed = [
        f"{report['check_type']}: {check['check_id']} {check['file_path']}:{check['file_line_range']}"
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)
    unexplained = [
        f"{check['check_id']} {check['file_path']}"
        for report in reports
        for check in report["results"]["skipped_checks"]
        if not (check["check_result"].get("suppress_comment") or "").strip()
    ]
    assert not unexplained, "skipped without a reason:\n" + "\n".join(unexplained)


def test_no_file_of_the_repository_holds_a_secret_without_a_reason() -> None:
    """What is committed, all of it: the lab's and the VM's secrets are made at lab-up / vagrant-up
    (deploy/dev_secrets.py), so only test values remain, each annotated."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    result = subprocess.run(
        [str(REPO / ".venv/bin/checkov"), "--skip-download", "--compact", "--output", "json", "--framework", "secrets",
         *(argument for path in tracked if (REPO / path).is_file() for argument in ("-f", path))],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    report = json.loads(result.stdout)
    assert report["check_type"] == "secrets", report
    assert report["summary"]["resource_count"] > 0, "the scanner saw the annotated test values at least"
    failed = [f"{check['check_id']} {check['file_path']}:{check['file_line_range']}"
              for check in report["results"]["failed_checks"]]  # fmt: skip
    assert not failed, "\n".join(failed)
    unexplained = [f"{check['check_id']} {check['file_path']}" for check in report["results"]["skipped_checks"]
                   if not (check["check_result"].get("suppress_comment") or "").strip()]  # fmt: skip
    assert not unexplained, "skipped without a reason:\n" + "\n".join(unexplained)
