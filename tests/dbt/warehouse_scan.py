"""Searching a whole warehouse for values (the erasure's and the field encryption's tests)."""

from __future__ import annotations

import psycopg
from psycopg import sql


def traces(url: str, needles: list[str]) -> dict[str, int]:
    """Rows of every table and view (schemas other than PostgreSQL's own) whose text holds a trace."""
    found = {}
    with psycopg.connect(url) as conn:
        relations = conn.execute(
            """
            select table_schema, table_name from information_schema.tables
            where table_schema not in ('pg_catalog', 'information_schema') and table_schema not like 'pg\\_%%'
            """).fetchall()
        for schema, table in relations:
            n = conn.execute(sql.SQL("select count(*) from {} as t where t::text ilike any(%s)").format(
                sql.Identifier(schema, table)), ([f"%{t}%" for t in needles],)).fetchone()[0]
            if n:
                found[f"{schema}.{table}"] = n
    return found
