"""What a test needs beyond `make run` (the venv and PostgreSQL), and the tier that follows from it.

A test that needs root, a system package, containers, hosts or VMs carries `needs(...)`: the `system`
mark (left out of `make test`, run by `make test-all`), which skips it, naming the Debian packages to
install, where something is missing. The packages are the ones in scripts/system-packages.txt, which
`make test-all` installs as root and .ci/run uses: one list.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from functools import cache
from pathlib import Path

import pytest

PACKAGES_LIST = Path(__file__).resolve().parents[2] / "scripts" / "system-packages.txt"
# Debian installs some tools outside a normal user's PATH.
SBIN = os.pathsep.join(("/usr/sbin", "/sbin"))


@cache
def package_of() -> dict[str, str]:
    """command -> the Debian package that provides it, from scripts/system-packages.txt."""
    commands: dict[str, str] = {}
    for line in PACKAGES_LIST.read_text().splitlines():
        package, *provided = re.sub(r"#.*", "", line).split() or [""]
        for command in provided:
            commands[command] = package
    return commands


def missing(*commands: str) -> list[str]:
    """The commands not found on PATH, nor in sbin, where Debian puts daemons such as nginx."""
    return [command for command in commands if not (shutil.which(command) or shutil.which(command, path=SBIN))]


def needs(*commands: str, root: bool = False) -> pytest.MarkDecorator:
    """The `system` mark for a test that needs these commands (and root), saying what to install where any is
    missing; tests/conftest.py skips it then with that reason."""
    unmet = []
    if root and (sys.platform != "linux" or os.geteuid() != 0):
        unmet.append("Linux and root")
    if absent := missing(*commands):
        packages = sorted({package_of().get(command, command) for command in absent})
        unmet.append(f"{', '.join(absent)} (sudo apt-get install {' '.join(packages)})")
    reason = f"needs {' and '.join(unmet)}; `sudo make test-all` installs the packages and runs it" if unmet else ""
    return pytest.mark.system(unmet=reason)


def skip_unmet(items: list[pytest.Item]) -> None:
    for item in items:
        for mark in item.iter_markers("system"):
            if mark.kwargs.get("unmet"):
                item.add_marker(pytest.mark.skip(reason=mark.kwargs["unmet"]))
