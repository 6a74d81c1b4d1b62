"""checkov over deploy/ and docker/ as a whole, and its secrets scanner over every file of the repository: every
finding is fixed or skipped in place with its reason (a `checkov:skip=ID: reason` comment beside what it is about)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.harness.servers import REPO

# Left out, with why:
SKIPPED_PATHS = {
    # Vendored Ansible collections (installed by make ansible-deps), not ours.
    "deploy/ansible/collections": "vendored",
    # kustomize's inputs, not manifests: without kustomize's namespace and images they fail CKV_K8S_21 and
    # CKV_K8S_14 by construction. What is applied is checked instead: every overlay rendered, in
    # tests/deploy/k8s/test_manifests.py::test_checkov_has_no_unjustified_findings.
    "deploy/k8s": "checked rendered",
    # Written by `make lab-up` / `make deploy-aws`, with the secrets they hold; never committed (.gitignore).
    "deploy/ansible/inventories/lab/hosts.yml": "generated",
    "deploy/ansible/inventories/aws/hosts.yml": "generated",
}


def scan(directory: str) -> list[dict[str, Any]]:
    result = subprocess.run(
        [str(REPO / ".venv/bin/checkov"), "--skip-download", "--compact", "--output", "json",
         "-d", directory, *(f"--skip-path={path}" for path in SKIPPED_PATHS)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    reports = json.loads(result.stdout)
    return reports if isinstance(reports, list) else [reports]


def test_deploy_and_docker_have_no_finding_without_a_reason() -> None:
    reports = scan("deploy") + scan("docker")
    scanned = {report["check_type"] for report in reports}
    # (The secrets scanner reports only where it finds something: the next test holds it to every file.)
    assert {"ansible", "dockerfile", "terraform"} <= scanned, scanned
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
