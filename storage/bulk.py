"""Set-based writes: one parametrised ``INSERT ... ON CONFLICT`` statement run over a batch of rows.

The same SQL runs on SQLite (>= 3.24) and PostgreSQL; only the placeholder style and the null-safe
"is different" operator differ. A conflicting row is only rewritten when a value really changed, so
re-importing the same data writes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from tortoise import connections
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
    if str(conn.capabilities.dialect) == "postgres":
        # One statement per batch: the columns travel as arrays and unnest() turns them back into rows,
        # which is several times faster than asyncpg's executemany on one round trip per row.
        types = await _pg_types(conn, table)
        arrays = ", ".join(f"${i}::{types[c]}[]" for i, c in enumerate(columns, start=1))
        sql = upsert_sql("postgres", table, columns, conflict, update).replace(
            "VALUES (" + ", ".join(f"${i}" for i in range(1, len(columns) + 1)) + ")",
            f"SELECT * FROM unnest({arrays})",
        )
        await conn.execute_query(sql, [[row[c] for row in rows] for c in columns])
        return
    sql = upsert_sql("sqlite", table, columns, conflict, update)
    await conn.execute_many(sql, [[row[c] for c in columns] for row in rows])


_PG_TYPES: dict[tuple[str, str], dict[str, str]] = {}


async def _pg_types(conn: BaseDBAsyncClient, table: str) -> dict[str, str]:
    """Column name -> PostgreSQL type name, read once per database and table."""
    key = (conn.connection_name, table)
    if key not in _PG_TYPES:
        _, rows = await conn.execute_query(
            "SELECT column_name, udt_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = $1",
            [table],
        )
        _PG_TYPES[key] = {r["column_name"]: r["udt_name"] for r in rows}
    return _PG_TYPES[key]


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


@asynccontextmanager
async def import_tuning() -> AsyncIterator[None]:
    """SQLite settings for a bulk load, restored afterwards: a larger page cache, and ``synchronous=NORMAL``.

    In WAL mode NORMAL still survives a crash of the process; only a power cut may undo the last
    commits, which re-running the (idempotent) import repairs. The engine keeps SQLite's full durability.
    """
    conn = connections.get("default")
    if str(conn.capabilities.dialect) != "sqlite":
        yield
        return
    _, rows = await conn.execute_query("PRAGMA synchronous")
    _, cache = await conn.execute_query("PRAGMA cache_size")
    await conn.execute_script("PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;")
    try:
        yield
    finally:
        await conn.execute_script(f"PRAGMA synchronous={int(rows[0][0])}; PRAGMA cache_size={int(cache[0][0])};")


async def count(conn: BaseDBAsyncClient, table: str) -> int:
    """Number of rows in ``table``."""
    _, rows = await conn.execute_query(f"SELECT COUNT(*) FROM {_quote(table)}")
    return int(rows[0][0])


async def analyze(tables: Iterable[str]) -> None:
    """Refresh the planner's statistics after a bulk load (PostgreSQL; SQLite plans well without them).

    Autovacuum analyzes a grown table only some time later (never, where it is off): until then the
    planner knows nothing of the rows just loaded and may scan whole tables for an indexed lookup.
    """
    conn = connections.get("default")
    if str(conn.capabilities.dialect) == "postgres":
        await conn.execute_script("ANALYZE " + ", ".join(_quote(t) for t in tables))
