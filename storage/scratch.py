"""Scratch copies of the shop's database, for rehearsals: the shop's own database is only ever read.

* SQLite: the file is copied by SQLite's online backup, from a read-only connection: a consistent snapshot even
  while ``serve`` writes to it, at disk speed.
* PostgreSQL: a fresh SQLite file is migrated to Chatcast's schema, and the rows of every table it has are read
  into it in one read-only, repeatable-read transaction (one consistent snapshot, no lock beyond a SELECT's, no
  privilege beyond reading, and nothing created in the shop's database: no temporary schema, table or sequence).
  The rehearsal then runs on SQLite, whose SQL the engine speaks as it speaks PostgreSQL's (the suites run every
  query on both).

Slack installations hold real tokens and are left out of every copy: a rehearsal's bots use the sandbox's.
"""

from __future__ import annotations

import json
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg

from storage import db

LEFT_OUT = ("installation",)  # real tokens: never copied
NOT_DATA = ("tortoise_migrations",)  # the copy's own schema history, written by its migration
BATCH = 5_000


@dataclass
class Scratch:
    """A scratch copy: its SQLite file, what it was copied from, the rows it holds per table, the seconds taken."""

    path: Path
    source: str  # "sqlite" or "postgres"
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def url(self) -> str:
        """Its tortoise URL."""
        return f"sqlite://{self.path.as_posix()}"


def _tables(lite: sqlite3.Connection) -> list[str]:
    names = lite.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return sorted(str(n) for (n,) in names if n not in NOT_DATA)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _counted(lite: sqlite3.Connection) -> dict[str, int]:
    return {t: int(lite.execute(f"SELECT COUNT(*) FROM {_quote(t)}").fetchone()[0]) for t in _tables(lite)}


def remove(path: Path) -> None:
    """Delete a SQLite file and the write-ahead log beside it."""
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        part.unlink(missing_ok=True)


def copy_sqlite(source: Path, target: Path) -> Scratch:
    """Copy the SQLite database ``source`` to ``target`` (replaced), without its Slack installations."""
    started = time.perf_counter()
    remove(target)
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    writer = sqlite3.connect(target)
    try:
        reader.backup(writer)
        for table in LEFT_OUT:
            writer.execute(f"DELETE FROM {_quote(table)}")
        writer.commit()
        rows = _counted(writer)
    finally:
        writer.close()
        reader.close()
    return Scratch(target, "sqlite", rows, time.perf_counter() - started)


def _value(value: Any) -> Any:
    """A PostgreSQL value as tortoise keeps it in SQLite (moments as ISO text with their offset, JSON as text)."""
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    return value


async def _columns(conn: asyncpg.Connection) -> dict[str, set[str]]:
    rows = await conn.fetch(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(str(row["table_name"]), set()).add(str(row["column_name"]))
    return found


async def _copy_table(conn: asyncpg.Connection, lite: sqlite3.Connection, table: str, columns: Sequence[str]) -> int:
    names = ", ".join(map(_quote, columns))
    insert = f"INSERT INTO {_quote(table)} ({names}) VALUES ({', '.join('?' for _ in columns)})"
    lite.execute(f"DELETE FROM {_quote(table)}")  # whatever a migration seeded: the shop's rows replace it
    cursor = await conn.cursor(f"SELECT {names} FROM {_quote(table)}")
    copied = 0
    while records := await cursor.fetch(BATCH):
        lite.executemany(insert, [tuple(map(_value, record.values())) for record in records])
        copied += len(records)
    return copied


async def copy_postgres(url: str, target: Path) -> Scratch:
    """Copy the PostgreSQL database at ``url`` into a new SQLite file ``target`` (replaced): every table of
    Chatcast's schema, the columns both have, but the Slack installations."""
    started = time.perf_counter()
    remove(target)
    await db.upgrade(f"sqlite://{target.as_posix()}")
    lite = sqlite3.connect(target)
    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1).replace("asyncpg://", "postgresql://"))
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            theirs = await _columns(conn)
            for table in _tables(lite):
                ours = [str(r[1]) for r in lite.execute(f"PRAGMA table_info({_quote(table)})")]
                columns = [c for c in ours if c in theirs.get(table, set())]
                if table not in LEFT_OUT and columns:
                    await _copy_table(conn, lite, table, columns)
        lite.commit()
        rows = _counted(lite)
    finally:
        await conn.close()
        lite.close()
    return Scratch(target, "postgres", rows, time.perf_counter() - started)


async def scratch_copy(url: str, target: Path) -> Scratch:
    """A scratch copy of the database at ``url`` (a SQLite file or PostgreSQL) in the SQLite file ``target``."""
    if url.startswith("sqlite://"):
        return copy_sqlite(Path(url.removeprefix("sqlite://").split("?", 1)[0]), target)
    return await copy_postgres(url, target)
