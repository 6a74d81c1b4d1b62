"""Django's PostgreSQL backend, with two costs of every request taken out.

Reused connections: with CONN_HEALTH_CHECKS Django sends `SELECT 1` before the first query of every
request. Under load that round trip cost ~8 % of the front page's CPU (app server and PostgreSQL on one
core: measured with `make bench-app`'s stack). A server that goes away (restart, fast shutdown,
pg_terminate_backend) says so on the socket: a FATAL message, then EOF. So an idle connection whose
socket has nothing to read is reused as it is; anything else gets Django's own check.

Timestamps: Django reads timestamptz with a Python subclass of psycopg's pure-Python loader, ~10 us a
value (half the client-side cost of the front page's query, ~1 ms of a post page with 100 comments), to
stamp its time zone on them. When that zone is UTC, Django has set the session's time zone to UTC and
psycopg's compiled loader gives the same datetimes, with the same tzinfo.

Server-side binding (DB_PREPARED_STATEMENTS) limits a query to 65,535 values: bulk operations are batched
to fit (features.py, operations.py). A hand-written `__in` with more values still fails; pass them as one
array (`id = ANY(%s)`) instead. Prepared plans go stale when a migration changes the type of a column
they return: such a query is prepared again (cursor.py).
"""

from __future__ import annotations

import datetime
import select
from typing import Any

from django.db.backends.postgresql import base
from psycopg import adapters
from psycopg.postgres import types
from psycopg.pq import Format, TransactionStatus

from scaleboard.ops.postgres.cursor import ReplanningCursor
from scaleboard.ops.postgres.features import DatabaseFeatures
from scaleboard.ops.postgres.operations import DatabaseOperations

_TIMESTAMPTZ = types["timestamptz"].oid
_COMPILED_TIMESTAMPTZ_LOADER = adapters.get_loader(_TIMESTAMPTZ, Format.TEXT)


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
    ops_class = DatabaseOperations

    # django-stubs do not declare the health-check attributes BaseDatabaseWrapper sets in __init__.
    def close_if_health_check_failed(self) -> None:
        checking = self.health_check_enabled and not self.health_check_done  # type: ignore[attr-defined,has-type]
        if checking and self._server_has_been_silent():
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def _server_has_been_silent(self) -> bool:
        """True when the connection is open, idle, and the server has sent nothing since the last result."""
        connection = self.connection
        if connection is None or connection.broken or connection.info.transaction_status != TransactionStatus.IDLE:
            return False
        poll = select.poll()  # not select(): it fails on descriptors above 1023
        poll.register(connection.fileno(), select.POLLIN)
        return not poll.poll(0)

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
