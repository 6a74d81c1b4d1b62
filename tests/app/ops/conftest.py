"""Connections for the database tests: the app's, kept open as in production, and an observer's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection


@pytest.fixture
def persistent_connections() -> Iterator[None]:
    connection.close()
    saved = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 60
    yield
    connection.settings_dict["CONN_MAX_AGE"] = saved
    connection.close()


@pytest.fixture
def observer() -> Iterator[Any]:
    """A second connection to the same database: it watches, terminates or alters under the app's."""
    other = connection.get_new_connection(connection.get_connection_params())
    other.autocommit = True
    yield other
    other.close()
