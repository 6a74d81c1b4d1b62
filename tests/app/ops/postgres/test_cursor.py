"""Prepared queries after a migration changed the type of a column they return, against the real test
database: PostgreSQL refuses the stale plan, the cursor prepares the query again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import NotSupportedError, connection, transaction
from scaleboard.ops.postgres.cursor import STALE_PLAN

pytestmark = pytest.mark.django_db(transaction=True)
QUERY = "SELECT id, name FROM replan_probe WHERE id = %s"


@pytest.fixture
def probe(persistent_connections: None, observer: Any) -> Iterator[None]:
    """A table the app has read often enough to prepare the query, which a migration then alters."""
    observer.execute("CREATE TABLE replan_probe (id int PRIMARY KEY, name varchar(10))")
    observer.execute("INSERT INTO replan_probe VALUES (1, 'first')")
    try:
        for _ in range(7):
            assert _read() == [(1, "first")]
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%replan_probe%"])
            assert cursor.fetchone() == (1,)
        observer.execute("ALTER TABLE replan_probe ALTER name TYPE varchar(20)")  # max_length=10 -> 20
        yield
    finally:
        observer.execute("DROP TABLE replan_probe")


def _read() -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(QUERY, [1])
        return cursor.fetchall()


@pytest.mark.usefixtures("probe")
def test_a_query_whose_plan_went_stale_is_prepared_again() -> None:
    assert _read() == [(1, "first")]
    assert _read() == [(1, "first")]


@pytest.mark.usefixtures("probe")
def test_in_a_transaction_it_fails_once_and_the_rollback_clears_it() -> None:
    with pytest.raises(NotSupportedError, match=STALE_PLAN), transaction.atomic():
        _read()
    assert _read() == [(1, "first")]
