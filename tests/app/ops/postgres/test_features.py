"""Reads past PostgreSQL's 65,535 parameters a query, against the real test database."""

from __future__ import annotations

import pytest
from scaleboard.accounts.models import User
from scaleboard.ops.postgres.features import MAX_QUERY_PARAMS

pytestmark = pytest.mark.django_db


def test_in_bulk_past_the_parameter_limit_is_asked_in_batches() -> None:
    users = User.objects.bulk_create([User(username="first"), User(username="last")])
    ids = [users[0].pk, *range(10**9, 10**9 + MAX_QUERY_PARAMS), users[1].pk]
    assert sorted(User.objects.in_bulk(ids)) == sorted(user.pk for user in users)
