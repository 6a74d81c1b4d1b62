"""The pre-commit hooks run the same linters as `make lint`, from the locked .venv."""

from __future__ import annotations

import shlex
import shutil

import yaml

from tests.harness.servers import REPO


def test_hooks_cover_the_linters_and_their_programs_exist() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert set(hooks) == {"ruff", "ruff-format", "yamllint", "ansible-lint", "terraform-fmt"}
    for hook in hooks.values():
        program = shlex.split(hook["entry"])[0]
        assert (REPO / program).exists() or shutil.which(program) or program == "terraform", hook["entry"]
    assert ".venv/bin/ansible-lint --offline" in hooks["ansible-lint"]["entry"]
