"""The mark that tells the demo's database from a shop's own: a ``system_state`` row, and a read-only look at a file.

The demo writes the mark (where its sample shop lives, and how many shop rows it loaded) into the database it fills;
``look`` reads a SQLite file without opening it for writing, before anything connects to it, so the demo can decide
whether a file is free, its own, or holds someone's data, and the CLI can find the demo's shop files.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tortoise import connections

from storage import state

KEY = "demo"
# the tables whose rows are a shop's own data: a change in any since the demo means someone imported into it
SHOP_TABLES = ("customer", "product", "order", "order_item", "review")
# bookkeeping that any command leaves behind, even in a database that holds nothing
BOOKKEEPING = frozenset({"tortoise_migrations", "system_state"})


@dataclass(frozen=True)
class Look:
    """What a SQLite file holds: the demo's mark (or None) and its rows, per table, bookkeeping aside."""

    mark: dict[str, Any] | None
    rows: dict[str, int]

    @property
    def empty(self) -> bool:
        """No table holds a row: a database that some command created and nothing filled."""
        return not any(self.rows.values())

    def changed_since_demo(self) -> dict[str, tuple[int, int]]:
        """Shop tables whose row count differs from what the demo left: ``{table: (then, now)}``."""
        then = (self.mark or {}).get("rows") or {}
        return {t: (int(n), self.rows.get(t, 0)) for t, n in then.items() if self.rows.get(t, 0) != int(n)}


def look(path: Path, *, count: bool = True) -> Look:
    """Read ``path`` (a SQLite file that exists) read-only, its rows counted unless ``count`` is false;
    ``sqlite3.DatabaseError`` when it is not a database."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = {
            t: int(conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0])
            for t in tables
            if count and t not in BOOKKEEPING and not t.startswith("sqlite_")
        }
        mark = None
        if "system_state" in tables:
            found = conn.execute("SELECT value FROM system_state WHERE key = ?", (KEY,)).fetchone()
            mark = json.loads(found[0]) if found else None
        return Look(mark if isinstance(mark, dict) else None, rows)
    finally:
        conn.close()


async def put(value: dict[str, Any], *, finished: bool) -> None:
    """Mark the open database as the demo's; ``finished`` records its shop rows (a later import then shows)."""
    rows: dict[str, int] | None = None
    if finished:
        conn = connections.get("default")
        rows = {}
        for table in SHOP_TABLES:
            _, found = await conn.execute_query(f'SELECT COUNT(*) FROM "{table}"')
            rows[table] = int(found[0][0])
    await state.put(KEY, {**value, "rows": rows})
