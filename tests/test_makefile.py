"""The Makefile is the front door: `make help` lists every public target by group, and every `make X`
the README and docs/ tell a reader to type exists and is listed there."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tests.harness.servers import REPO

REQUIRED = {"help", "setup", "run", "test", "test-all", "lint", "fmt", "seed", "clean", "bench-scaling"}
GROUPS = [
    "Develop",
    "Local production stack and load tests",
    "Benchmarks",
    "Containers",
    "Servers",
    "AWS",
    "Kubernetes",
    "Delivery",
]


def help_output(repo: Path = REPO) -> str:
    result = subprocess.run(["make", "--no-print-directory"], cwd=repo, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def listed_targets(text: str) -> set[str]:
    return set(re.findall(r"^  ([a-z0-9-]+) ", text, flags=re.MULTILINE))


def declared_targets() -> set[str]:
    return set(re.findall(r"^([a-z0-9-]+):", (REPO / "Makefile").read_text(), flags=re.MULTILINE))


def test_help_is_the_default_and_lists_every_target_by_group() -> None:
    text = help_output()
    assert "\x1b[" not in text, "no escape codes when the output is not a terminal"
    headings = [line for line in text.splitlines() if line and not line.startswith((" ", "Usage"))]
    assert [next(h for h in headings if h.startswith(g)) for g in GROUPS] == headings, headings
    assert listed_targets(text) >= REQUIRED
    assert declared_targets() == listed_targets(text), "every target needs a `## description`"


def make_commands(markdown: str) -> set[str]:
    """The targets of `make X` written in code: fenced blocks and `inline` spans."""
    code = re.findall(r"```.*?```", markdown, flags=re.DOTALL) + re.findall(r"`[^`\n]+`", markdown)
    return {target for snippet in code for target in re.findall(r"(?<![\w-])make ([a-z][a-z0-9-]*)", snippet)}


def undocumented(repo: Path = REPO) -> set[str]:
    """`make X` commands in README.md and docs/ that `make help` does not list."""
    listed = listed_targets(help_output(repo))
    documents = [repo / "README.md", *sorted((repo / "docs").rglob("*.md"))]
    return {
        f"{path.relative_to(repo)}: make {target}"
        for path in documents
        for target in make_commands(path.read_text())
        if target not in listed
    }


def test_every_make_command_in_the_docs_exists_and_is_in_help() -> None:
    assert not undocumented(), "documented but not a target in `make help`"


def test_the_docs_check_catches_a_renamed_target(tmp_path: Path) -> None:
    for name in ("Makefile", "README.md", "docs", "scripts/make-help.sh"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        copy(REPO / name, tmp_path / name)
    makefile = tmp_path / "Makefile"
    makefile.write_text(makefile.read_text().replace("bench-scaling", "bench-scale"))
    assert "docs/scaling.md: make bench-scaling" in undocumented(tmp_path)
    assert make_commands("make sure of it, as `make` does") == set(), "prose and a bare `make` are not commands"


def test_ci_lints_and_runs_every_tier() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "make lint" in ci
    assert "make test-all" in ci
    assert "scripts/install-system-packages.sh" in ci
