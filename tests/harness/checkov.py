"""checkov as the tests run it: its JSON reports, and what in them is not accepted."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from tests.harness.servers import REPO


def scan(*arguments: str, cwd: Path = REPO) -> list[dict[str, Any]]:
    """One checkov run (its start-up is most of its time): a JSON report per directory or framework scanned."""
    result = subprocess.run(
        [str(REPO / ".venv/bin/checkov"), "--skip-download", "--compact", "--output", "json", *arguments],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    reports: list[dict[str, Any]] = []
    decoder, text, at = json.JSONDecoder(), result.stdout, 0
    while text[at:].strip():
        at = len(text) - len(text[at:].lstrip())  # past the whitespace between two reports
        found, at = decoder.raw_decode(text, at)
        reports += found if isinstance(found, list) else [found]
    return reports


def unaccepted(reports: list[dict[str, Any]]) -> list[str]:
    """Every failed check, and every skip without a reason (a `checkov:skip=ID: reason` comment or a
    checkov.io/skip annotation), a line each."""
    lines = []
    for report in reports:
        results = report["results"]
        for check in results["failed_checks"]:
            lines.append(f"{report['check_type']}: {check['check_id']} {check['file_path']}:"
                         f"{check['file_line_range']} {check.get('resource', '')}")  # fmt: skip
        for check in results["skipped_checks"]:
            if not (check["check_result"].get("suppress_comment") or "").strip():
                lines.append(f"skipped without a reason: {check['check_id']} {check['file_path']}")
    return lines
