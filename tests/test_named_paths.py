"""Every repository path a file names (in a comment, a docstring, a doc page, an output description) exists,
or is one the tools write and git ignores. A renamed or deleted file leaves no pointer to nothing."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.harness.servers import REPO

# A path inside the repo: a top-level directory of ours, then path characters, ending on a name or a slash.
NAMED = re.compile(r"(?<![\w./-])((?:app|deploy|docs|loadtest|tests|scripts|docker|\.ci|\.github)/[\w./-]*[\w/])")
# Followed by a placeholder (`<timestamp>`, `*`, `{name}`, `$VAR`): a pattern, not a path.
PATTERN_NEXT = "<*{$"
# Text that looks like a path and is not one, with why.
NOT_PATHS = {
    "app/nginx/pg/gen/machine",  # the scaling report's "CPU app/nginx/pg/gen/machine" column
    "deploy/locust-master",  # kubectl's name for the Deployment locust-master
}
# Vendored Ansible collections are not ours to keep pointing right.
SKIPPED = ("deploy/ansible/collections/",)


def tracked_texts() -> list[tuple[Path, str]]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    texts = []
    for name in names:
        path = REPO / name
        if name.startswith(SKIPPED) or not path.is_file():
            continue
        try:
            texts.append((path, path.read_text()))
        except UnicodeDecodeError:  # images and other binary files
            continue
    return texts


def ignored(paths: set[str]) -> set[str]:
    """Those of `paths` git ignores: files the tools write (inventories, secrets, collected static files).
    Each is asked as a file and as a directory, since a pattern ending in / matches only the latter."""
    asked = sorted(paths | {f"{path}/" for path in paths})
    result = subprocess.run(
        ["git", "check-ignore", "--no-index", "--stdin"], cwd=REPO, input="\n".join(asked),
        capture_output=True, text=True,
    )  # fmt: skip
    return {line.rstrip("/") for line in result.stdout.splitlines()}


def test_every_named_path_exists_or_is_written_by_a_tool() -> None:
    missing: dict[str, set[str]] = {}
    for path, text in tracked_texts():
        for match in NAMED.finditer(text):
            named, after = match.group(1), text[match.end() : match.end() + 1]
            if named in NOT_PATHS or (after and after in PATTERN_NEXT):
                continue
            if not ((REPO / named).exists() or (path.parent / named).exists()):
                missing.setdefault(named, set()).add(str(path.relative_to(REPO)))
    written = ignored({named.rstrip("/") for named in missing})
    unexplained = {named: files for named, files in missing.items() if named.rstrip("/") not in written}
    assert not unexplained, "\n".join(f"{named} <- {', '.join(sorted(files))}" for named, files in unexplained.items())
