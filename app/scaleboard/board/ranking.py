"""The hot ranking key, computed in SQL.

"Score decayed by age" as a time-independent key (the reddit form): log10(1 + score) plus the
creation time in units of 12.5 hours. A post 12.5 hours older needs about 10x the score to rank level.
Because the key does not change as time passes, it is stored, indexed, and updated in the same
UPDATE that changes the score, so `ORDER BY hot DESC` stays an index scan at any table size.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, FloatField, Func
from django.db.models.sql.compiler import SQLCompiler

SECONDS_PER_DECADE_OF_SCORE = 45000


class HotRank(Func):
    """hot(score, created) in SQL; `score` and `created` may be any expressions (e.g. F("score") + 1)."""

    output_field = FloatField()
    arity = 2

    def as_sql(  # type: ignore[override]  # Func's signature has extra optional params we do not use
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, list[Any]]:
        score: Expression
        created: Expression
        score, created = self.get_source_expressions()
        score_sql, score_params = compiler.compile(score)
        created_sql, created_params = compiler.compile(created)
        sql = (
            f"(sign({score_sql}) * log(1 + abs({score_sql}))"
            f" + extract(epoch from {created_sql}) / {SECONDS_PER_DECADE_OF_SCORE})::double precision"
        )
        return sql, [*score_params, *score_params, *created_params]
