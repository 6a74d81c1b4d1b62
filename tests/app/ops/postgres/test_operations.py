"""Bulk writes past PostgreSQL's 65,535 parameters a query, against the real test database."""

from __future__ import annotations

import pytest
from scaleboard.accounts.models import User
from scaleboard.ops.postgres.features import MAX_QUERY_PARAMS

pytestmark = pytest.mark.django_db


def test_a_bulk_update_past_the_parameter_limit_is_sent_in_batches() -> None:
    # bulk_update sends three values a row (CASE WHEN id = %s THEN %s ... WHERE id IN (%s, ...)).
    rows = MAX_QUERY_PARAMS // 3 + 100
    users = User.objects.bulk_create(User(username=f"bulk{i}") for i in range(rows))
    for user in users:
        user.first_name = f"renamed {user.username}"
    User.objects.bulk_update(users, ["first_name"])
    assert User.objects.filter(first_name__startswith="renamed bulk").count() == rows
