"""How long a supervisor waits before it restarts a killed app server: the systemd unit's RestartSec,
read from the one unit template, so the stack's simulated restart matches the servers'."""

from __future__ import annotations

import re
from pathlib import Path

UNIT = Path(__file__).resolve().parents[2] / "deploy/ansible/roles/app/templates/scaleboard.service.j2"


def restart_seconds(unit: Path = UNIT) -> float:
    found = re.search(r"^RestartSec=(\d+(?:\.\d+)?)s?$", unit.read_text(), re.M)
    if not found:
        raise ValueError(f"{unit} sets no RestartSec=")
    return float(found.group(1))
