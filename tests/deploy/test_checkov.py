"""checkov over deploy/ and docker/ as a whole, and its secrets scanner over every file of the repository: every
finding is fixed or skipped in place with its reason (a `checkov:skip=ID: reason` comment beside what it is about)."""

from __future__ import annotations

import subprocess

from tests.harness import checkov
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


def test_deploy_and_docker_have_no_finding_without_a_reason() -> None:
    reports = checkov.scan("--framework", *FRAMEWORKS, "-d", "deploy", "-d", "docker",
                           *(f"--skip-path={path}" for path in SKIPPED_PATHS))  # fmt: skip
    scanned = {report["check_type"] for report in reports}
    assert scanned == set(FRAMEWORKS), scanned
    problems = checkov.unaccepted(reports)
    assert not problems, "\n".join(problems)


def test_no_file_of_the_repository_holds_a_secret_without_a_reason() -> None:
    """What is committed, all of it: the lab's and the VM's secrets are made at lab-up / vagrant-up
    (deploy/dev_secrets.py), so only test values remain, each annotated."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    (report,) = checkov.scan(
        "--framework",
        "secrets",
        *(argument for path in tracked if (REPO / path).is_file() for argument in ("-f", path)),
    )
    assert report["check_type"] == "secrets", report
    assert report["summary"]["resource_count"] > 0, "the scanner saw the annotated test values at least"
    problems = checkov.unaccepted([report])
    assert not problems, "\n".join(problems)
