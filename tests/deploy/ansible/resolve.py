"""What the playbooks' variables resolve to for one host of an inventory, without connecting to it: `ansible`'s
debug module, run with deploy/ansible as the playbook directory (so its group_vars apply)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.harness.servers import REPO


def resolved(inventory: Path, host: str, names: list[str], *, root: Path = REPO) -> dict[str, Any]:
    """{name: value} for each variable in `names`, as host `host` of `inventory` sees them, in the repo at `root`."""
    message = "{{ {" + ", ".join(f"'{name}': {name}" for name in names) + "} | to_json }}"
    result = subprocess.run(
        [REPO / ".venv/bin/ansible", "-i", inventory, "--playbook-dir", ".", host, "-m", "ansible.builtin.debug",
         "-a", f"msg={message}"],
        cwd=root / "deploy/ansible", capture_output=True, text=True, timeout=120,
        env={"PATH": f"{REPO / '.venv/bin'}:/usr/bin:/bin", "ANSIBLE_CONFIG": "ansible.cfg", "HOME": str(root)},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(json.loads(json.loads(result.stdout.split("=>", 1)[1])["msg"]))
