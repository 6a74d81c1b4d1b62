"""Reused connections at the start of a request, against the real test database: no round trip while the server
is silent, a connection that is not idle or that the server has closed is replaced before a query uses it."""

from __future__ import annotations

import select
import time
import uuid
from typing import Any

import pytest
from django.core.signals import request_started
from django.db import connection

# Autocommit, so connections are idle between queries; persistent connections, as in production (the test
# settings close them after each request).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("persistent_connections")]


def _last_query(observer: Any, pid: int) -> str:
    return str(observer.execute("SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()[0])


def _start_of_a_request() -> None:
    """What Django's handler does before each request."""
    request_started.send(sender=None, environ={})


def _marker() -> str:
    statement = f"SELECT 'marker {uuid.uuid4()}'"
    with connection.cursor() as cursor:
        cursor.execute(statement)
    return statement


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def test_a_quiet_connection_is_reused_without_a_query(observer: Any) -> None:
    statement = _marker()
    pid = connection.connection.info.backend_pid
    _start_of_a_request()
    assert connection.connection is not None, "a quiet connection was closed"
    assert connection.connection.info.backend_pid == pid
    assert _last_query(observer, pid) == statement, "the check sent a query to the server"


def test_a_connection_left_in_a_transaction_is_replaced() -> None:
    _marker()
    old = connection.connection
    pid = old.info.backend_pid
    old.execute("BEGIN")  # behind Django's back, as a crashed request could leave it
    _start_of_a_request()
    assert old.closed
    assert _backend_pid() != pid


def test_a_connection_the_server_closed_is_replaced_before_use(observer: Any) -> None:
    _marker()
    old = connection.connection
    pid = old.info.backend_pid
    assert observer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()[0]
    poll = select.poll()
    poll.register(old.fileno(), select.POLLIN)
    deadline = time.monotonic() + 10
    while not poll.poll(100):
        assert time.monotonic() < deadline, "the terminated backend's goodbye never reached the socket"
    _start_of_a_request()
    assert old.closed
    assert _backend_pid() != pid


def test_no_open_connection_is_left_alone() -> None:
    connection.close()
    _start_of_a_request()  # nothing to check, nothing opened
    assert connection.connection is None
