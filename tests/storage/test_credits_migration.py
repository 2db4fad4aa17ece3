"""Migration 0020 on a database with credits from before it: each order's first converted event is linked to its
order (the rest of its events, and those of orders not stored, stay unlinked), so that the unique key can hold and a
webhook sent again after the upgrade credits nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from tortoise import Tortoise
from tortoise.migrations.api import migrate

from storage import db
from storage.sql import execute, fetch
from tests.fakes.environment import BACKENDS, PG_URL

BEFORE = "models.0019_erased_orders"


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'old.sqlite3'}"
        return
    name = f"chatcast_migration_{uuid.uuid4().hex[:8]}"
    server = PG_URL.replace("postgres://", "postgresql://", 1)

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(server, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        pytest.skip(f"PostgreSQL at {PG_URL} is not available: {exc}")
    yield PG_URL.rsplit("/", 1)[0] + "/" + name
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_converted_events_of_before_are_linked_to_their_orders_once(empty_url: str) -> None:
    await migrate(config=db.tortoise_config(empty_url), target=BEFORE)
    await Tortoise.close_connections()
    await db.connect(empty_url)
    try:
        pg = empty_url.startswith("postgres")
        marks = [f"${i}" if pg else "?" for i in range(1, 4)]
        now = "CURRENT_TIMESTAMP"
        await execute(f"INSERT INTO customer (external_id, name, language, tags, attributes, created_at)"
                      f" VALUES ('C1', '', 'en', '[]', '{{}}', {now})")  # fmt: skip
        for order in ("A1", "A2"):
            await execute(
                'INSERT INTO "order" (external_id, customer_id, ordered_at, status, is_return, currency, total)'
                f" VALUES ({marks[0]}, 1, {now}, 'paid', FALSE, 'EUR', 10)",
                [order],
            )
        for data in ('{"order": "A1", "total": 10}', '{"order": "A1", "total": 10}', '{"order": "GONE"}',
                     '{"order": "A2", "total": 10}'):  # fmt: skip
            await execute(f"INSERT INTO event (type, at, data) VALUES ('converted', {now}, {marks[0]})", [data])
        await execute(f"INSERT INTO event (type, at, data) VALUES ('clicked', {now}, '{{}}')")
    finally:
        await db.close()
    await db.upgrade(empty_url)
    await db.connect(empty_url)
    try:
        rows = await fetch("SELECT id, type, order_id FROM event ORDER BY id")
        assert [(r[1], r[2]) for r in rows] == [
            ("converted", 1), ("converted", None), ("converted", None), ("converted", 2), ("clicked", None),
        ]  # fmt: skip
    finally:
        await db.close()
