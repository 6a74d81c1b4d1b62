"""The Makefile is the front door: `make help` must list every public target with its description."""

from __future__ import annotations

import re
import subprocess

from tests.harness.servers import REPO

REQUIRED = {"help", "setup", "run", "test", "lint", "fmt", "seed", "clean"}


def test_help_is_the_default_and_lists_every_target() -> None:
    result = subprocess.run(["make", "--no-print-directory"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    listed = set(re.findall(r"^\s+(?:\x1b\[\d+m)?([a-z0-9-]+)", result.stdout, flags=re.MULTILINE))
    makefile = (REPO / "Makefile").read_text()
    declared = set(re.findall(r"^([a-z0-9-]+):", makefile, flags=re.MULTILINE))
    assert listed >= REQUIRED
    assert declared == listed, "every target needs a `## description`"


def test_readme_test_command_is_make_test() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
