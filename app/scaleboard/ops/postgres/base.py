"""Django's PostgreSQL backend, subclassed as Django's docs on database backends allow.

Timestamps: Django reads timestamptz with a Python subclass of psycopg's pure-Python loader, to stamp its
time zone on them. When that zone is UTC, Django has set the session's time zone to UTC and psycopg's
compiled loader gives the same datetimes, with the same tzinfo, for less CPU (docs/performance.md).

Server-side binding (DB_PREPARED_STATEMENTS) limits a query to 65,535 values: bulk operations are batched
to fit (features.py, operations.py). A hand-written `__in` with more values still fails; pass them as one
array (`id = ANY(%s)`) instead. Prepared plans go stale when a migration changes the type of a column
they return: such a query is prepared again (cursor.py).

Reused connections are checked without a round trip by scaleboard.ops.connections, not here.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.backends.postgresql import base
from psycopg import adapters
from psycopg.postgres import types
from psycopg.pq import Format

from scaleboard.ops.postgres.cursor import ReplanningCursor
from scaleboard.ops.postgres.features import DatabaseFeatures
from scaleboard.ops.postgres.operations import DatabaseOperations

_TIMESTAMPTZ = types["timestamptz"].oid
_COMPILED_TIMESTAMPTZ_LOADER = adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        if params["cursor_factory"] is base.ServerBindingCursor:
            params["cursor_factory"] = ReplanningCursor
        return params

    def create_cursor(self, name: str | None = None) -> Any:
        cursor = super().create_cursor(name)
        # Per cursor: Django's create_cursor reads a `timezone` attribute off the connection's loader, which
        # the compiled class (final, so no subclass can carry one) does not have.
        if self.timezone is datetime.UTC:
            cursor.adapters.register_loader(_TIMESTAMPTZ, _COMPILED_TIMESTAMPTZ_LOADER)
        return cursor
