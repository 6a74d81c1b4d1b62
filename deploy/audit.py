"""The vulnerability audit of the locked runtime dependencies, as `make package` runs it.

pip-audit reads each pinned release's advisories from PyPI. The audit fails on any advisory that
deploy/audit-allowlist.toml does not list with a reason and an expiry date, on an entry whose date has passed, and
on any dependency pip-audit could not look up: an audit that saw nothing must not read as a clean one.
`unaudited="record"` (make package AUDIT=record) lets a build go on where PyPI's advisories are out of reach,
and the manifest says so.
"""

from __future__ import annotations

import datetime
import json
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ALLOWLIST = Path(__file__).resolve().parent / "audit-allowlist.toml"


class AuditError(RuntimeError):
    """The build must stop; the message lists what was found and what to do."""


@dataclass(frozen=True)
class Allowed:
    id: str
    reason: str
    expires: datetime.date


def load_allowlist(path: Path = ALLOWLIST) -> list[Allowed]:
    entries = tomllib.loads(path.read_text()).get("allow", [])
    allowed = []
    for entry in entries:
        if not entry.get("id") or not str(entry.get("reason", "")).strip():
            raise AuditError(f"{path.name}: every entry needs an id and a reason: {entry}")
        if not isinstance(entry.get("expires"), datetime.date):
            raise AuditError(f"{path.name}: {entry['id']} needs an expiry date (expires = 2027-01-31)")
        allowed.append(Allowed(entry["id"], entry["reason"], entry["expires"]))
    return allowed


def run_pip_audit(requirements: Path, report: Path, pip_audit: str) -> dict[str, Any]:
    """pip-audit's JSON report of `requirements` (every pin given, as uv exports them: no resolver, no install)."""
    command = [pip_audit, "--requirement", str(requirements), "--disable-pip", "--no-deps", "--format", "json",
               "--output", str(report), "--progress-spinner", "off"]  # fmt: skip
    # Exit 1 means advisories were found: the report says which, and judge() decides.
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if not report.exists():
        raise AuditError(f"pip-audit did not run: {result.stderr.strip()[-2000:]}")
    return dict(json.loads(report.read_text()))


def judge(
    report: dict[str, Any], allowlist: list[Allowed], today: datetime.date, unaudited: str = "fail"
) -> dict[str, Any]:
    """The audit's result for the manifest; raises AuditError when the build must stop."""
    valid = {entry.id: entry for entry in allowlist if entry.expires >= today}
    problems = [f"allowlist entry {entry.id} expired on {entry.expires}: fix it, or extend it with a new reason"
                for entry in allowlist if entry.expires < today]  # fmt: skip
    found, allowed, skipped = [], [], []
    for dependency in report.get("dependencies", []):
        name = f"{dependency['name']}=={dependency.get('version', '?')}"
        if "skip_reason" in dependency:
            skipped.append({"dependency": dependency["name"], "reason": dependency["skip_reason"]})
        for advisory in dependency.get("vulns", []):
            names = [advisory["id"], *advisory.get("aliases", [])]
            entry = next((valid[n] for n in names if n in valid), None)
            record = {"dependency": name, "id": advisory["id"], "aliases": advisory.get("aliases", []),
                      "fix_versions": advisory.get("fix_versions", [])}  # fmt: skip
            if entry:
                allowed.append({**record, "reason": entry.reason, "expires": entry.expires.isoformat()})
            else:
                found.append(record)
                fixes = ", ".join(record["fix_versions"]) or "none yet"
                problems.append(f"{name}: {advisory['id']} ({', '.join(record['aliases']) or 'no aliases'}); "
                                f"fixed in {fixes}")  # fmt: skip
    if skipped and unaudited != "record":
        problems += [f"{s['dependency']}: not audited ({s['reason']})" for s in skipped]
    if problems:
        raise AuditError(
            "the dependency audit failed:\n  " + "\n  ".join(problems) + "\nUpgrade in pyproject.toml (uv lock), or "
            "list an advisory in deploy/audit-allowlist.toml with a reason and an expiry date. Dependencies that "
            "could not be looked up: check that https://pypi.org/pypi/<name>/<version>/json answers; AUDIT=record "
            "builds anyway and says so in the manifest."
        )
    return {"vulnerabilities": found, "allowed": allowed, "unaudited": skipped,
            "audited": len(report.get("dependencies", [])) - len(skipped)}  # fmt: skip
