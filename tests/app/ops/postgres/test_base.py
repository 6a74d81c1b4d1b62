"""The backend's timestamps, against the real test database: read as Django's own loader reads them."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.base import TIMESTAMPTZ_OID
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg import adapters
from psycopg.pq import Format

pytestmark = pytest.mark.django_db


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
