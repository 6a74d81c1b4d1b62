"""The cursor for server-side binding (DB_PREPARED_STATEMENTS): a prepared query whose plan a migration
made stale is prepared again instead of failing until the connection is replaced."""

from __future__ import annotations

from typing import Any, Self

from django.db.backends.postgresql.base import ServerBindingCursor
from psycopg import Cursor, errors
from psycopg.pq import TransactionStatus

# PostgreSQL's answer to a prepared query after an ALTER changed the type of a column it returns (a longer
# max_length is enough). It answers so on every run, in every worker connection, until the plan is dropped.
STALE_PLAN = "cached plan must not change result type"


class ReplanningCursor(ServerBindingCursor, Cursor[Any]):  # Cursor: a base already; django-stubs omit it
    def execute(
        self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: bool | None = None
    ) -> Self:
        try:
            return super().execute(query, params, prepare=prepare, binary=binary)
        except errors.FeatureNotSupported as exc:
            # Inside a transaction the failed statement has aborted it: Django's rollback follows, and
            # psycopg forgets its prepared statements on rollback, so the next attempt works.
            if STALE_PLAN not in str(exc) or self.connection.info.transaction_status != TransactionStatus.IDLE:
                raise
        # DEALLOCATE ALL drops this session's plans; psycopg sees the command and forgets its own.
        self.connection.execute("DEALLOCATE ALL")
        return super().execute(query, params, prepare=prepare, binary=binary)
