"""The Terraform as code: formatted, valid root and modules, checkov clean, and `terraform test` (mocked AWS)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.terraform.conftest import HERE, TERRAFORM, copy_root, needs_terraform, tf
from tests.harness.servers import REPO

pytestmark = needs_terraform
MODULES = sorted(p.name for p in (TERRAFORM / "modules").iterdir())


def test_every_module_has_the_terraform_aws_modules_shape() -> None:
    assert MODULES == ["alb", "backups", "database", "network", "security", "servers"]
    for module in MODULES:
        files = {p.name for p in (TERRAFORM / "modules" / module).glob("*.tf")}
        assert {"main.tf", "variables.tf", "outputs.tf", "versions.tf"} <= files, module


def test_every_variable_and_output_is_described_and_typed() -> None:
    for path in TERRAFORM.rglob("*.tf"):
        text = path.read_text()
        for kind, body in re.findall(r'^(variable|output) "[^"]+" \{\n(.*?)^\}', text, re.M | re.S):
            assert "description" in body, f"{path}: a {kind} without a description:\n{body}"
            if kind == "variable":
                assert re.search(r"^\s+type\s+=", body, re.M), f"{path}: a variable without a type:\n{body}"


def test_formatted() -> None:
    result = subprocess.run(["terraform", "fmt", "-check", "-recursive", "-diff", str(TERRAFORM), str(HERE)],
                            capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("module", ["root", *MODULES])
def test_validate(module: str, tmp_path: Path) -> None:
    root = copy_root(tmp_path / "terraform")
    workdir = root if module == "root" else root / "modules" / module
    tf(workdir, "init", "-backend=false", "-input=false")
    assert json.loads(tf(workdir, "validate", "-json").stdout)["valid"]


def test_checkov_has_no_findings_and_every_skip_says_why() -> None:
    result = subprocess.run(
        [str(REPO / ".venv/bin/checkov"), "-d", str(TERRAFORM), "--framework", "terraform", "--skip-download",
         "--quiet", "--compact", "-o", "json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    summary = json.loads(result.stdout)["summary"]
    assert summary["failed"] == 0, result.stdout[-4000:]
    assert summary["passed"] > 50
    skips = [line.strip() for path in TERRAFORM.rglob("*.tf") for line in path.read_text().splitlines()
             if "checkov:skip" in line]  # fmt: skip
    assert skips
    assert summary["skipped"] >= len(skips)
    for skip in skips:
        assert re.fullmatch(r"#checkov:skip=CKV2?_AWS_\d+:\S.{20,}", skip), f"a skip without a reason: {skip}"


def test_terraform_test_with_a_mocked_provider(tmp_path: Path) -> None:
    """tests/deploy/terraform/tftest/*.tftest.hcl, run from a copy (terraform test wants them beside the root)."""
    root = copy_root(tmp_path / "terraform")
    shutil.copytree(HERE / "tftest", root / "tests")
    tf(root, "init", "-backend=false", "-input=false")
    result = tf(root, "test", "-no-color", check=False, timeout=600)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    passed = re.search(r"Success! (\d+) passed, 0 failed", result.stdout)
    assert passed, result.stdout[-2000:]
    assert int(passed.group(1)) >= 10
