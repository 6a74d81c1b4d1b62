"""deploy/audit.py: what stops `make package`. The reports are in pip-audit's JSON shape; the live audit of a known
vulnerable pin is in test_package.py."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from deploy import audit

TODAY = datetime.date(2026, 12, 3)
ADVISORY = {"id": "PYSEC-2023-100", "aliases": ["GHSA-jrh2-hc4r-7jwx", "CVE-2023-36053"], "fix_versions": ["4.2.3"]}


def report(*dependencies: dict[str, Any]) -> dict[str, Any]:
    return {"dependencies": [{"name": "whitenoise", "version": "6.12.0", "vulns": []}, *dependencies], "fixes": []}


def vulnerable() -> dict[str, Any]:
    return {"name": "django", "version": "4.2.0", "vulns": [ADVISORY]}


def test_a_clean_report_passes_and_counts_what_was_audited() -> None:
    assert audit.judge(report(), [], TODAY) == {"vulnerabilities": [], "allowed": [], "unaudited": [], "audited": 1}


def test_an_advisory_stops_the_build_naming_it_and_its_fix() -> None:
    expected = r"django==4\.2\.0: PYSEC-2023-100 \(GHSA-jrh2-hc4r-7jwx, .*fixed in 4\.2\.3"
    with pytest.raises(audit.AuditError, match=expected):
        audit.judge(report(vulnerable()), [], TODAY)


@pytest.mark.parametrize("listed", ["PYSEC-2023-100", "CVE-2023-36053"])
def test_an_allowlisted_advisory_passes_by_id_or_alias_until_it_expires(listed: str) -> None:
    entry = audit.Allowed(listed, "the email validator is not reachable from our forms", datetime.date(2026, 12, 31))
    result = audit.judge(report(vulnerable()), [entry], TODAY)
    assert result["vulnerabilities"] == []
    assert [(a["id"], a["reason"], a["expires"]) for a in result["allowed"]] == [
        ("PYSEC-2023-100", entry.reason, "2026-12-31")
    ]
    with pytest.raises(audit.AuditError, match=f"allowlist entry {listed} expired on 2026-12-31"):
        audit.judge(report(vulnerable()), [entry], datetime.date(2027, 1, 1))


def test_a_dependency_that_could_not_be_looked_up_fails_unless_recorded() -> None:
    skipped = {"name": "django", "skip_reason": "Dependency not found on PyPI and could not be audited: django (5.2)"}
    with pytest.raises(audit.AuditError, match=r"django: not audited \(Dependency not found"):
        audit.judge(report(skipped), [], TODAY)
    result = audit.judge(report(skipped), [], TODAY, unaudited="record")
    assert result["unaudited"] == [{"dependency": "django", "reason": skipped["skip_reason"]}]
    assert result["audited"] == 1


@pytest.mark.parametrize(
    ("entry", "message"),
    [('id = "PYSEC-1"\nexpires = 2027-01-01', "needs an id and a reason"),
     ('id = "PYSEC-1"\nreason = "why"', "PYSEC-1 needs an expiry date"),
     ('id = "PYSEC-1"\nreason = "why"\nexpires = "soon"', "PYSEC-1 needs an expiry date")],
)  # fmt: skip
def test_an_allowlist_entry_needs_a_reason_and_a_date(tmp_path: Path, entry: str, message: str) -> None:
    allowlist = tmp_path / "audit-allowlist.toml"
    allowlist.write_text(f"[[allow]]\n{entry}\n")
    with pytest.raises(audit.AuditError, match=message):
        audit.load_allowlist(allowlist)


def test_the_committed_allowlist_loads() -> None:
    assert all(entry.reason for entry in audit.load_allowlist())
