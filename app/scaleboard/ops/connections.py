"""Reused database connections, checked at the start of each request without a round trip.

Django's own check (CONN_HEALTH_CHECKS) sends `SELECT 1` before the first query of every request that
reuses a connection. A server that goes away (restart, fast shutdown, pg_terminate_backend) says so on the
socket first: a FATAL message, then EOF. So a connection that is idle and whose socket has nothing to read
is reused as it is; any other is closed, and the request's first query opens a new one.

Stock, public parts only: the request_started signal, the connection's close(), and psycopg's Connection
(`autocommit`, `broken`, `info.transaction_status`, `fileno()`). What it saves: docs/performance.md.
"""

from __future__ import annotations

import select
from typing import Any

from django.db import connections
from psycopg.pq import TransactionStatus


def server_has_been_silent(raw: Any) -> bool:
    """True when a psycopg connection is open, idle, and its server has sent nothing since the last result."""
    if raw.closed or raw.broken or raw.info.transaction_status != TransactionStatus.IDLE:
        return False
    poll = select.poll()  # not select(): it fails on descriptors above 1023
    poll.register(raw.fileno(), select.POLLIN)
    return not poll.poll(0)


def close_connections_the_server_left(**_: Any) -> None:
    """request_started receiver: close every open connection that is not quiet and idle. A connection whose
    transaction Django manages (autocommit off, as in an atomic block around a test) is left to its owner."""
    for wrapper in connections.all(initialized_only=True):
        raw = wrapper.connection
        if raw is not None and raw.autocommit and not server_has_been_silent(raw):
            wrapper.close()
