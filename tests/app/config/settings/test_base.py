"""The database settings every environment shares, read from the env contract."""

from __future__ import annotations

import pytest
from config.settings.base import database_settings


def _options() -> dict[str, object]:
    options = database_settings()["OPTIONS"]
    assert isinstance(options, dict)
    return options


def test_queries_are_prepared_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.example:5432/scaleboard")
    monkeypatch.delenv("DB_PREPARED_STATEMENTS", raising=False)
    assert (_options()["server_side_binding"], _options()["prepare_threshold"]) == (True, 5)
    # Behind a transaction-mode pooler: Django's own behaviour (values inlined, nothing prepared).
    monkeypatch.setenv("DB_PREPARED_STATEMENTS", "false")
    assert "server_side_binding" not in _options()
    assert "prepare_threshold" not in _options()


def test_options_in_database_url_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://app@db.example:5432/scaleboard?prepare_threshold=0")
    assert _options()["prepare_threshold"] == 0
