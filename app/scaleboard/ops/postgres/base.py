"""Django's PostgreSQL backend, with a cheaper check of a reused connection.

With CONN_HEALTH_CHECKS Django sends `SELECT 1` before the first query of every request. Under load
that round trip cost ~8 % of the front page's CPU (app server and PostgreSQL on one core: measured with
`make bench-app`'s stack). A server that goes away (restart, fast shutdown, pg_terminate_backend) says
so on the socket: a FATAL message, then EOF. So an idle connection whose socket has nothing to read is
reused as it is; anything else gets Django's own check.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
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
