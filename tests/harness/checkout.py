"""The working tree as a repository of its own, for what reads the checkout's git state (`make package`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.harness.servers import REPO

# The uv `make setup` uses, which `make package` exports its requirements with (the Makefile passes it as UV).
UV = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")


def committed_copy(tmp_path: Path) -> Path:
    """The working tree as one commit of a repository of its own (so the test sees uncommitted work too), sharing
    the checkout's virtualenv."""
    target = tmp_path / "repo"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        if (REPO / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    (target / ".venv").symlink_to(REPO / ".venv")
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    subprocess.run(["git", "add", "-A"], cwd=target, check=True)
    commit(target, "the tree under test")
    return target


def commit(root: Path, message: str) -> None:
    """A commit of whatever is staged in `root` (none: an empty one), as the tests' own author."""
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@scaleboard.test", "commit", "-q",
                    "--allow-empty", "-m", message], cwd=root, check=True)  # fmt: skip
