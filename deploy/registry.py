"""skopeo, the registry client of `make publish` and `make deploy VERSION=...` (Debian's package)."""

from __future__ import annotations

import shutil
import subprocess


class RegistryError(RuntimeError):
    """skopeo failed; the message has its reason."""


def skopeo(*args: str) -> str:
    """skopeo's output, or RegistryError with what it said."""
    if not shutil.which("skopeo"):
        raise RegistryError("skopeo not found: sudo apt-get install skopeo")
    result = subprocess.run(["skopeo", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RegistryError(f"skopeo {args[0]} failed: {result.stderr.strip()[-1500:]}")
    return result.stdout


def tls(verify: bool, direction: str = "") -> str:
    """skopeo's TLS switch: --tls-verify, or --src-/--dest-tls-verify for copy."""
    return f"--{direction + '-' if direction else ''}tls-verify={str(verify).lower()}"
