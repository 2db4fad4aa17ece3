"""Connecting to the database and bringing its schema up to date (tortoise's built-in migrations)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
from tortoise import Tortoise, connections
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import DBConnectionError, OperationalError
from tortoise.migrations.api import migrate

MODELS_MODULE = "storage.models"
MIGRATIONS_MODULE = "storage.migrations"

# What a database that went away looks like to a caller (a restart, a dropped connection, a locked SQLite file):
# worth waiting out and trying again, not a bug
DATABASE_DOWN: tuple[type[BaseException], ...] = (
    OSError,
    DBConnectionError,
    OperationalError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.InternalClientError,  # a connection left mid-operation when its server end was killed
)


def tortoise_config(url: str) -> dict[str, Any]:
    """The tortoise configuration for one database URL."""
    return {
        "connections": {"default": url},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def ensure_sqlite_dir(url: str) -> None:
    """Create the folder of a SQLite file URL, so a fresh machine needs no set-up."""
    if url.startswith("sqlite://") and ":memory:" not in url:
        path = url.removeprefix("sqlite://").split("?", 1)[0]
        Path(path).parent.mkdir(parents=True, exist_ok=True)


async def upgrade(url: str) -> None:
    """Apply every pending migration to the database at ``url`` (the same code on SQLite and PostgreSQL)."""
    ensure_sqlite_dir(url)
    await migrate(config=tortoise_config(url))
    await Tortoise.close_connections()


async def connect(url: str) -> None:
    """Open the tortoise connection for ``url``; the schema must already be upgraded."""
    ensure_sqlite_dir(url)
    # tortoise caches each model's INSERT statement per connection *name*, in the first dialect it met;
    # a process that moves from SQLite to PostgreSQL (tests, benchmarks) must start afresh.
    EXECUTOR_CACHE.clear()
    await Tortoise.init(config=tortoise_config(url))


async def close() -> None:
    """Close every open connection."""
    await connections.close_all()


@asynccontextmanager
async def database(url: str, *, upgrade_schema: bool = True) -> AsyncIterator[None]:
    """Open the database at ``url`` (upgrading its schema first) for the length of the block."""
    if upgrade_schema:
        await upgrade(url)
    await connect(url)
    try:
        yield
    finally:
        await close()


def dialect() -> str:
    """``sqlite`` or ``postgres``: the dialect of the default connection."""
    return str(connections.get("default").capabilities.dialect)
