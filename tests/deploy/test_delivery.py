"""deploy/delivery.py's gate: only the staged version is promoted (the lab test runs stage and promote for real:
tests/deploy/ansible/test_all_in_one.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy import delivery


def test_nothing_staged_nothing_promoted(tmp_path: Path) -> None:
    with pytest.raises(delivery.DeliveryError, match=r"0\.1\.0\+gabcdef0 has not passed staging \(last staged: none\)"):
        delivery.promote("0.1.0+gabcdef0", "aws", True, tmp_path)


def test_only_the_last_staged_version_is_promoted(tmp_path: Path) -> None:
    (tmp_path / "staged.json").write_text(json.dumps({"version": "0.1.0+g1111111", "release": "r/s@sha256:1"}))
    with pytest.raises(delivery.DeliveryError, match=r"last staged: 0\.1\.0\+g1111111\): make stage VERSION=0\.1\.0"):
        delivery.promote("0.1.0+g2222222", "aws", True, tmp_path)
    assert not (tmp_path / "promoted.json").exists()


def test_a_version_names_its_commit() -> None:
    assert delivery.commit_of("0.1.0+g1a2b3c4") == "1a2b3c4"


def test_a_rollback_needs_an_earlier_promotion(tmp_path: Path) -> None:
    history = [{"version": "0.1.0+g1111111", "place": "aws"}, {"version": "0.1.0+g2222222", "place": "lab"}]
    (tmp_path / "promoted.json").write_text(json.dumps(history))
    with pytest.raises(delivery.DeliveryError, match=r"aws has had 1 promotion\(s\): nothing promoted before"):
        delivery.rollback("aws", True, tmp_path)
