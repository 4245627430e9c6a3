"""What decision search matches, stored with each record (a generated column).

On PostgreSQL a weighted `tsvector` (the title weighs A, the other searched fields B) with a GIN
index, so a search parses neither the records nor their text at query time; elsewhere (SQLite in
development) the searched fields lowercased into one text, matched with LIKE.
"""

from __future__ import annotations

from django.contrib.postgres.search import SearchVectorField
from django.db import models

SEARCHED = ("title", "context_and_problem_statement", "chosen_option", "justification",
            "consequences", "more_information")  # fmt: skip
CONFIG = "english"


class SearchDocument(models.Func):
    """The search document of a record from its `SEARCHED` columns, title first."""

    output_field = SearchVectorField()

    def __init__(self, *names: str):
        super().__init__(*(models.F(name) for name in names))

    def _columns(self, compiler, connection) -> tuple[list[str], list]:
        sqls, params = [], []
        for expression in self.source_expressions:
            sql, sql_params = compiler.compile(expression)
            sqls.append(f"coalesce({sql}, '')")
            params.extend(sql_params)
        return sqls, params

    def as_postgresql(self, compiler, connection, **extra):
        (title, *others), params = self._columns(compiler, connection)
        rest = " || ' ' || ".join(others)
        # A constant regconfig keeps to_tsvector immutable, as a generated column needs.
        sql = (
            f"(setweight(to_tsvector('{CONFIG}'::regconfig, {title}), 'A') || "
            f"setweight(to_tsvector('{CONFIG}'::regconfig, {rest}), 'B'))"
        )
        return sql, params

    def as_sql(self, compiler, connection, **extra):
        columns, params = self._columns(compiler, connection)
        return f"lower({' || char(10) || '.join(columns)})", params
