"""deploy/restore_drill.py without hosts: what it refuses, and the times it hands pgBackRest. The drill itself
runs on the lab in tests/deploy/ansible/test_split.py."""

from __future__ import annotations

from datetime import datetime

import pytest

from deploy import restore_drill


def test_an_inventory_other_than_the_lab_needs_confirm(capsys: pytest.CaptureFixture[str]) -> None:
    # The drill empties the db host and rolls the database back in time: never by accident on production.
    assert restore_drill.main(["--inventory", "aws"]) == 2
    assert "CONFIRM=1" in capsys.readouterr().err


def test_target_times_are_utc_with_microseconds_and_read_back_exactly() -> None:
    text = restore_drill.at(1796277000.123456)
    assert text == "2026-12-03 05:50:00.123456+00"
    assert datetime.strptime(text + "00", "%Y-%m-%d %H:%M:%S.%f%z").timestamp() == pytest.approx(1796277000.123456)
