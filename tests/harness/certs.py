"""A certificate for a test server on an address of this machine, signed by itself and handed to clients as their
CA. The address is in it twice: as an IP name (Python's ssl matches only those) and as a DNS name (pgBackRest
2.45, Debian 12's, compares the host it was given with DNS names only)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed(address: str, workdir: Path, name: str) -> tuple[Path, Path]:
    """(certificate, key) for `address`, written as <name>-cert.pem and <name>-key.pem in `workdir`."""
    cert, key = workdir / f"{name}-cert.pem", workdir / f"{name}-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    f"/CN={address}", "-addext", f"subjectAltName=IP:{address},DNS:{address}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)  # fmt: skip
    return cert, key
