"""Set-based writes: one parametrised ``INSERT ... ON CONFLICT`` statement run over a batch of rows.

The same SQL runs on SQLite (>= 3.24) and PostgreSQL; only the placeholder style and the null-safe
"is different" operator differ. A conflicting row is only rewritten when a value really changed, so
re-importing the same data writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def upsert_sql(dialect: str, table: str, columns: Sequence[str], conflict: Sequence[str], update: Sequence[str]) -> str:
    """The ``INSERT ... ON CONFLICT`` statement for one table, in ``dialect``'s placeholder style."""
    if dialect == "postgres":
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
    else:
        marks = ", ".join("?" for _ in columns)
    sql = (
        f"INSERT INTO {_quote(table)} ({', '.join(map(_quote, columns))}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(map(_quote, conflict))}) "
    )
    if not update:
        return sql + "DO NOTHING"
    sets = ", ".join(f"{_quote(c)} = excluded.{_quote(c)}" for c in update)
    if dialect == "postgres":
        changed = " OR ".join(f"{_quote(table)}.{_quote(c)} IS DISTINCT FROM excluded.{_quote(c)}" for c in update)
    else:
        changed = " OR ".join(f"NOT ({_quote(table)}.{_quote(c)} IS excluded.{_quote(c)})" for c in update)
    return sql + f"DO UPDATE SET {sets} WHERE {changed}"


async def upsert(
    conn: BaseDBAsyncClient,
    table: str,
    rows: Sequence[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert ``rows`` into ``table``, updating the rows that ``conflict`` matches where values changed."""
    if not rows:
        return
    columns = list(rows[0].keys())
    sql = upsert_sql(str(conn.capabilities.dialect), table, columns, conflict, update)
    await conn.execute_many(sql, [[row[c] for c in columns] for row in rows])


async def id_map(conn: BaseDBAsyncClient, table: str, key: str, values: Iterable[str]) -> dict[str, int]:
    """Map natural keys to primary keys for the rows of ``table`` whose ``key`` is in ``values``."""
    wanted = list(dict.fromkeys(values))
    if not wanted:
        return {}
    if str(conn.capabilities.dialect) == "postgres":
        sql = f"SELECT {_quote(key)}, id FROM {_quote(table)} WHERE {_quote(key)} = ANY($1::text[])"
        _, rows = await conn.execute_query(sql, [wanted])
    else:
        marks = ", ".join("?" for _ in wanted)
        sql = f"SELECT {_quote(key)}, id FROM {_quote(table)} WHERE {_quote(key)} IN ({marks})"
        _, rows = await conn.execute_query(sql, wanted)
    return {row[0]: row[1] for row in rows}


async def count(conn: BaseDBAsyncClient, table: str) -> int:
    """Number of rows in ``table``."""
    _, rows = await conn.execute_query(f"SELECT COUNT(*) FROM {_quote(table)}")
    return int(rows[0][0])
