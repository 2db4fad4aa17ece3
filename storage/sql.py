"""Raw SQL on the default connection, for the packages that compile their own queries (segments).

Placeholders are numbered and dialect-specific (``?1`` on SQLite, ``$1`` on PostgreSQL): a query built
from fragments can then use its parameters in any order. :class:`Params` hands them out.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction


class Params:
    """The parameters of one query, and the placeholder text that names each."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self.values: list[Any] = []

    def add(self, value: Any) -> str:
        """Bind ``value``; return its placeholder."""
        self.values.append(value)
        n = len(self.values)
        return f"${n}" if self.dialect == "postgres" else f"?{n}"

    def text(self, value: str) -> str:
        """Bind a string that PostgreSQL must read as text (not as an unknown type)."""
        placeholder = self.add(value)
        return f"CAST({placeholder} AS TEXT)" if self.dialect == "postgres" else placeholder

    def number(self, value: float) -> str:
        """Bind a number compared with REAL / DOUBLE PRECISION columns."""
        placeholder = self.add(float(value))
        return f"CAST({placeholder} AS DOUBLE PRECISION)" if self.dialect == "postgres" else placeholder

    def moment(self, value: datetime) -> str:
        """Bind an aware timestamp (stored as ISO text on SQLite, timestamptz on PostgreSQL)."""
        return self.add(value)

    def texts(self, values: Sequence[str]) -> str:
        """A parenthesised list of text placeholders, for ``IN``."""
        return "(" + ", ".join(self.text(v) for v in values) + ")"


def values_source(q: Params, rows: Sequence[tuple[Any, ...]], types: Sequence[str]) -> str:
    """A ``FROM`` source ``v`` of ``rows``, with columns ``column1``..: ``unnest()`` of one array per column on
    PostgreSQL (``types`` names their element types, e.g. bigint, text, timestamptz), ``VALUES`` on SQLite."""
    if q.dialect == "postgres":
        columns = list(zip(*rows, strict=True))
        arrays = ", ".join(f"{q.add(list(c))}::{t}[]" for c, t in zip(columns, types, strict=True))
        names = ", ".join(f"column{i + 1}" for i in range(len(types)))
        return f"unnest({arrays}) AS v({names})"
    return "(VALUES " + ", ".join("(" + ", ".join(q.add(x) for x in row) + ")" for row in rows) + ") AS v"


def conn(connection: BaseDBAsyncClient | None = None) -> BaseDBAsyncClient:
    """The connection to use: the one given (inside a transaction) or the default."""
    return connection or connections.get("default")


async def fetch(sql: str, values: Sequence[Any] = (), connection: BaseDBAsyncClient | None = None) -> list[tuple]:
    """Rows of a query, as tuples."""
    _, rows = await conn(connection).execute_query(sql, list(values))
    return [tuple(row) for row in rows]


async def execute(sql: str, values: Sequence[Any] = (), connection: BaseDBAsyncClient | None = None) -> int:
    """Run a statement; return the rows it changed."""
    client = conn(connection)
    if client.capabilities.dialect == "postgres":
        # tortoise reports len(rows) for asyncpg, which is 0 without RETURNING: read the command status
        async with client.acquire_connection() as raw:
            status = await raw.execute(sql, *values)
        last = str(status).rsplit(" ", 1)[-1]
        return int(last) if last.isdigit() else 0
    changed, _ = await client.execute_query(sql, list(values))
    return int(changed)


async def script(sql: str, connection: BaseDBAsyncClient | None = None) -> None:
    """Run statements without parameters."""
    await conn(connection).execute_script(sql)


@asynccontextmanager
async def transaction() -> AsyncIterator[BaseDBAsyncClient]:
    """One transaction on one connection (temporary tables live as long as it does)."""
    async with in_transaction("default") as connection:
        yield connection
