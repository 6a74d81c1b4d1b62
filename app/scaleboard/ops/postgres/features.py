"""What this backend can do: Django's PostgreSQL features, plus the limit server-side binding brings."""

from __future__ import annotations

from django.db.backends.postgresql import features

# PostgreSQL's protocol counts a query's parameters in 16 bits.
MAX_QUERY_PARAMS = 2**16 - 1


class DatabaseFeatures(features.DatabaseFeatures):
    @property
    def max_query_params(self) -> int | None:  # type: ignore[override]  # a class attribute in Django
        """With server-side binding (DB_PREPARED_STATEMENTS) every value travels as a parameter, so a query
        can carry at most 65,535 of them; inlined into the text (Django's default) there is no limit."""
        return MAX_QUERY_PARAMS if self.uses_server_side_binding else None
