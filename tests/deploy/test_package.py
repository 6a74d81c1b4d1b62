"""`make package` on a clean checkout: one labelled build with its manifest, SBOM and audit; and the audit stopping a
build that pins a known-vulnerable release. The image half runs in tests/deploy/docker/test_package_image.py."""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import subprocess
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from deploy import audit, defaults
from tests.harness.checkout import UV, committed_copy
from tests.harness.servers import REPO


def test_make_package_labels_one_build_and_writes_its_manifest_sbom_and_audit(tmp_path: Path) -> None:
    root = committed_copy(tmp_path)
    out = tmp_path / "packages"
    result = subprocess.run(
        [str(REPO / ".venv/bin/python"), "-m", "deploy.package", "--no-image", "--audit", "record", "--out", str(out)],
        cwd=root, env={**os.environ, "UV": UV}, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    version = f"{defaults.version()}+g{commit[:7]}"
    (directory,) = out.iterdir()
    assert directory.name == version, "a clean checkout's build is the version and the commit, nothing else"
    manifest = json.loads((directory / "manifest.json").read_text())
    assert (manifest["version"], manifest["tag"], manifest["commit"], manifest["dirty"]) == (
        version, version.replace("+", "-"), commit, False)  # fmt: skip
    assert manifest["image"] is None
    for name, digest in manifest["files"].items():
        assert digest == "sha256:" + hashlib.sha256((directory / name).read_bytes()).hexdigest(), name
    # The archive holds the app as the clone has it; the SBOM names every locked runtime requirement.
    with tarfile.open(directory / "scaleboard.tar.gz") as archive:
        members = set(archive.getnames())
    assert "app/manage.py" in members
    assert all(name.startswith("app/") for name in members)
    pinned = {line.split("==")[0].split("[")[0].lower() for line in (directory / "requirements.txt").read_text()
              .splitlines() if "==" in line}  # fmt: skip
    sbom = json.loads((directory / "sbom.cdx.json").read_text())
    assert sbom["bomFormat"] == "CycloneDX"
    assert sbom["metadata"]["component"]["name"] == "scaleboard"
    assert {c["name"].lower() for c in sbom["components"]} == pinned
    assert manifest["sbom"]["components"] == len(sbom["components"])
    # Every requirement this platform installs was audited, or is listed as not audited with pip-audit's reason.
    audited = manifest["audit"]
    lines = (directory / "requirements.txt").read_text().splitlines()
    installed = [r for r in (Requirement(line.rstrip(" \\")) for line in lines if "==" in line)
                 if r.marker is None or r.marker.evaluate()]  # fmt: skip
    assert audited["audited"] + len(audited["unaudited"]) == len(installed)
    assert all(entry["reason"] for entry in audited["unaudited"])


def advisories_reachable() -> bool:
    """pip-audit's data: PyPI's JSON API for one release (a machine whose proxy serves only the project's page gets
    404 here)."""
    try:
        with urllib.request.urlopen("https://pypi.org/pypi/django/4.2/json", timeout=15):
            return True
    except (urllib.error.URLError, TimeoutError):
        return False


def test_a_known_vulnerable_pin_stops_the_build(tmp_path: Path) -> None:
    if not advisories_reachable():
        pytest.skip("PyPI's per-release JSON API, where pip-audit reads advisories, does not answer from this machine "
                    "(https://pypi.org/pypi/django/4.2/json): run where pypi.org answers it to see the audit fail on "
                    "Django 4.2's advisories")  # fmt: skip
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django==4.2\n")
    report = audit.run_pip_audit(requirements, tmp_path / "audit.json", str(REPO / ".venv/bin/pip-audit"))
    with pytest.raises(audit.AuditError, match=r"django==4\.2: (PYSEC|GHSA)-"):
        audit.judge(report, audit.load_allowlist(), datetime.date.today())
