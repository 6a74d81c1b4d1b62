"""Secrets for the machines made on this machine (the lab's hosts, the Vagrant VM), generated, never committed.

Made on first use, random, in a file of this checkout's own under .var/ (mode 0600), and kept for later runs:
a second converge must find the same values or it would change every host. Real inventories keep theirs in
ansible-vault (inventories/aws/group_vars/all/vault.yml).

    python -m deploy.dev_secrets PATH   # make vagrant-up: ensures PATH, an Ansible extra-vars file (JSON)

Standard library only: it runs before anything is installed into the checkout's environment.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

# The inventory variables site.yml requires, with how many random bytes each gets.
SIZES = {"scaleboard_secret_key": 48, "scaleboard_db_password": 24, "scaleboard_backup_cipher_pass": 32}


def ensure(path: Path) -> dict[str, str]:
    """The secrets in `path`; those it lacks (all, if it is missing) are made and added. Existing values are
    kept: a lab made before a secret was added keeps its database password."""
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        found = {}
    found = found if isinstance(found, dict) else {}
    kept = {name: value for name, value in found.items() if name in SIZES and isinstance(value, str) and value}
    if kept.keys() == SIZES.keys():
        return kept
    values = {name: kept.get(name) or secrets.token_urlsafe(size) for name, size in SIZES.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # so the mode below is the file's, whoever made the old one
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump(values, file, indent=2)
        file.write("\n")
    return values


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m deploy.dev_secrets PATH", file=sys.stderr)
        return 2
    ensure(Path(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
