"""`make release`: the app as one versioned archive plus its locked requirements, for Ansible to ship.

The version is pyproject.toml's plus a digest of what ships (app/ and the locked requirements), e.g.
0.1.0+3f2a9c1b7d4e, so an unchanged tree is the same release (a second deploy changes nothing) and any
change is a new one. `LABEL=x` appends a name.
Writes .var/releases/<version>/{scaleboard.tar.gz,requirements.txt} and .var/releases/release.yml,
the vars file the playbooks read (`-e @.var/releases/release.yml`).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from deploy import defaults

ROOT = defaults.ROOT
RELEASES = ROOT / ".var" / "releases"
SKIP_PARTS = {"__pycache__", "staticfiles", ".pytest_cache"}


def app_files() -> list[Path]:
    files = [p for p in (ROOT / "app").rglob("*") if p.is_file() and not SKIP_PARTS & set(p.parts)]
    return sorted(p for p in files if p.suffix != ".pyc")


def locked_requirements() -> str:
    """The runtime dependencies only (the project's own list, no groups), pinned with hashes, from uv.lock."""
    # The uv `make setup` used: the Makefile decides which and exports it as UV.
    uv = os.environ.get("UV")
    if not uv:
        raise SystemExit("error: UV is not set: run `make release`, which names the uv `make setup` uses")
    command = [uv, "export", "--frozen", "--no-default-groups", "--no-emit-project", "--no-header",
               "--format", "requirements-txt"]  # fmt: skip
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout


def archive(files: list[Path], base: Path = ROOT) -> bytes:
    """A reproducible tar.gz of `files`, named relative to `base`: fixed order, times and owners, and a gzip header
    without a time, so equal trees give equal bytes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in files:
            info = tar.gettarinfo(str(path), arcname=str(path.relative_to(base)))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            info.mode = 0o644
            with path.open("rb") as handle:
                tar.addfile(info, handle)
    return gzip.compress(buffer.getvalue(), mtime=0)


def variables(version: str, directory: Path) -> dict[str, str]:
    """The playbooks' release variables for a release in `directory`."""
    return {
        "app_release_version": version,
        "app_release_archive": str(directory / "scaleboard.tar.gz"),
        "app_release_requirements": str(directory / "requirements.txt"),
    }


def write(version: str, directory: Path, files: list[Path], requirements: str) -> dict[str, str]:
    """The archive and its requirements in `directory`; returns the playbooks' release variables."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "scaleboard.tar.gz").write_bytes(archive(files))
    (directory / "requirements.txt").write_text(requirements)
    return variables(version, directory)


def select(release: dict[str, str], releases: Path, written_by: str) -> None:
    """Make `release` the one the playbooks ship next (releases/release.yml, `-e @` in the Makefile)."""
    (releases / "release.yml").write_text(f"# Written by {written_by}.\n" + json.dumps(release, indent=2) + "\n")


def build(label: str = "", releases: Path = RELEASES) -> dict[str, str]:
    files = app_files()
    requirements = locked_requirements()
    digest = hashlib.sha256(requirements.encode())
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    version = f"{defaults.version()}+{digest.hexdigest()[:12]}" + (f"-{label}" if label else "")
    release = write(version, releases / version, files, requirements)
    select(release, releases, "`make release`")
    return release


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--label", default="", help="appended to the version, e.g. a ticket or build number")
    parser.add_argument("--releases", type=Path, default=RELEASES, help="where releases go (default: .var/releases)")
    args = parser.parse_args(argv)
    release = build(args.label, args.releases)
    print(f"release {release['app_release_version']}: {release['app_release_archive']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
