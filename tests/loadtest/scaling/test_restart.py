"""The stack's simulated supervisor waits as long as the servers' systemd unit does."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.scaling.restart import UNIT, restart_seconds


def test_it_reads_the_units_restart_delay(tmp_path: Path) -> None:
    assert f"RestartSec={restart_seconds():g}" in UNIT.read_text()
    unit = tmp_path / "x.service"
    unit.write_text("[Service]\nRestart=on-failure\nRestartSec=5s\n")
    assert restart_seconds(unit) == 5


def test_a_unit_without_a_delay_is_an_error(tmp_path: Path) -> None:
    unit = tmp_path / "x.service"
    unit.write_text("[Service]\nRestart=on-failure\n")
    with pytest.raises(ValueError, match="no RestartSec"):
        restart_seconds(unit)
