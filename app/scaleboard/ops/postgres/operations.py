"""Django's PostgreSQL operations, with batches that fit the parameter limit of server-side binding."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.backends.postgresql import operations


class DatabaseOperations(operations.DatabaseOperations):
    def bulk_batch_size(self, fields: Sequence[Any], objs: Sequence[Any]) -> int:
        """Rows per statement for bulk_update, cascading deletes and bulk_create. Django's PostgreSQL backend
        puts them all in one statement, which with server-side binding fails past 65,535 values."""
        limit = self.connection.features.max_query_params
        if limit and fields:
            return max(limit // len(fields), 1)
        return super().bulk_batch_size(fields, objs)
