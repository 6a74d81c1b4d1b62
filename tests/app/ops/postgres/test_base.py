"""The backend, against the real test database. The health check of reused connections: no round trip while the
server is silent, Django's check otherwise, and a connection the server has closed is replaced before a query
uses it. Timestamps: read as Django's own loader reads them."""

from __future__ import annotations

import select
import time
import uuid
from typing import Any

import psycopg
import pytest
from django.db import connection, transaction
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg import adapters
from psycopg.pq import Format

# Autocommit, so connections are idle between queries; persistent connections, as in production (the test
# settings close them after each request).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("persistent_connections")]


def _last_query(observer: Any, pid: int) -> str:
    return str(observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0])


def _start_of_a_request() -> None:
    """What Django does at the start of each request (request_started -> close_old_connections)."""
    connection.close_if_unusable_or_obsolete()


def _marker() -> str:
    statement = f"SELECT 'marker {uuid.uuid4()}'"
    with connection.cursor() as cursor:
        cursor.execute(statement)
    return statement


def test_a_quiet_connection_is_reused_without_a_query(observer: Any) -> None:
    assert connection.health_check_enabled
    statement = _marker()
    pid = connection.connection.info.backend_pid
    _start_of_a_request()
    connection.close_if_health_check_failed()
    assert connection.health_check_done
    assert connection.connection.info.backend_pid == pid
    assert _last_query(observer, pid) == statement, "the check sent a query to the server"


def test_a_connection_in_a_transaction_gets_djangos_check(observer: Any) -> None:
    with transaction.atomic():
        _marker()
        pid = connection.connection.info.backend_pid
        connection.health_check_done = False
        connection.close_if_health_check_failed()
        assert _last_query(observer, pid) == "SELECT 1"
        assert connection.connection.info.backend_pid == pid


def test_a_connection_the_server_closed_is_replaced_before_use(observer: Any) -> None:
    _marker()
    old = connection.connection
    pid = old.info.backend_pid
    _start_of_a_request()
    assert observer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    poll = select.poll()
    poll.register(old.fileno(), select.POLLIN)
    deadline = time.monotonic() + 10
    while not poll.poll(100):
        assert time.monotonic() < deadline, "the terminated backend's goodbye never reached the socket"
    with connection.cursor() as cursor:  # the request's first query: checked, reconnected, answered
        cursor.execute("SELECT pg_backend_pid()")
        new_pid = cursor.fetchone()[0]
    assert new_pid != pid
    assert old.closed


def test_timestamps_read_as_djangos_own_loader_reads_them() -> None:
    """The backend's cursors read timestamptz with psycopg's compiled loader; values, zone and text must be what
    Django's loader gives (datetimes in different zones compare equal, so the zone is compared too)."""
    sql = "SELECT now(), '2026-03-29 01:30:00.123456+02'::timestamptz, '1999-12-31 23:59:59+00'::timestamptz"
    with connection.cursor() as cursor:
        loader = cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        cursor.execute(sql)
        ours = cursor.fetchone()
    assert loader is adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT), "not psycopg's compiled loader"
    with psycopg.Cursor(connection.connection) as plain:
        register_tzloader(connection.timezone, plain)  # what Django's own create_cursor would give
        plain.execute(sql)
        djangos = plain.fetchone()
    assert ours[1:] == djangos[1:]
    assert [(v.tzinfo, v.isoformat()) for v in ours[1:]] == [(v.tzinfo, v.isoformat()) for v in djangos[1:]]
    assert ours[0].tzinfo is djangos[0].tzinfo is connection.timezone
