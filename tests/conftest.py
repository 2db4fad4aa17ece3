"""Shared fixtures: a fresh, migrated database per test on SQLite and on PostgreSQL.

``CHATCAST_TEST_DATABASES`` (default ``sqlite,postgres``) picks the backends. PostgreSQL comes from
``CHATCAST_TEST_POSTGRES_URL`` (default ``postgres://postgres@127.0.0.1:5432/test``): the tests create
their own database beside it. Where PostgreSQL is not running its tests skip, unless
``CHATCAST_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from storage import db

# pytest-xdist exports its terminal's size (COLUMNS=80) to the workers, and rich fixes a console's width from it
# when the console is built; the tests set the width they read with, as a marketer's terminal would.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)

REFERENCE = Path(os.environ.get("CHATCAST_REFERENCE_DIR", Path(__file__).resolve().parents[2] / "shared" / "reference"))
PG_URL = os.environ.get("CHATCAST_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
BACKENDS = [b.strip() for b in os.environ.get("CHATCAST_TEST_DATABASES", "sqlite,postgres").split(",") if b]
TABLES = (
    "review",
    "product_copy",
    "order_notice",
    "complaint",
    "feedback",
    "conversation",
    "copy_cache",
    "installation",
    "system_state",
    "chat_message",
    "event",
    "delivery",
    "campaign",
    "customer_features",
    "order_item",
    "order",
    "product",
    "channel_identity",
    "customer",
)


def reference_file(*parts: str) -> Path:
    """A file under ``../shared/reference``; the test skips, saying why, where the folder is absent."""
    path = REFERENCE.joinpath(*parts)
    if not path.is_file():
        pytest.skip(f"needs {path} (third-party reference data in ../shared, present in CI, not in a clone)")
    return path


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once keeps the suite fast)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(db.upgrade(f"sqlite://{path}"))
    return path


def _server_url(url: str, database: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A migrated PostgreSQL database of our own for this test session, dropped at the end."""
    name = f"chatcast_test_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1), timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL at {PG_URL} is not available: {exc}"
        if os.environ.get("CHATCAST_TEST_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    url = _server_url(PG_URL, name)
    asyncio.run(db.upgrade(url))
    yield url
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty migrated database on each backend (set up outside the test's event loop)."""
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite://{path}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
async def database(backend: str) -> AsyncIterator[str]:
    """An empty, migrated database, connected for the test; yields its URL."""
    await db.connect(backend)
    if backend.startswith("postgres"):
        from tortoise import connections

        await connections.get("default").execute_script(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " RESTART IDENTITY CASCADE"
        )
    try:
        yield backend
    finally:
        await db.close()


REDIS_URL = os.environ.get("CHATCAST_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_up() -> bool:
    """Whether the tests' Redis (``CHATCAST_TEST_REDIS_URL``) accepts connections."""
    host, port = REDIS_URL.removeprefix("redis://").split("/")[0].split(":")
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, int(port))) == 0


@pytest.fixture(scope="session")
def validator() -> Any:
    """The OpenAI request check against the API's OpenAPI schema (tests/fakes/openai_api.py), where the
    reference and jsonschema are present; None elsewhere."""
    import importlib.util

    from tests.fakes.openai_api import schema_validator

    path = REFERENCE / "openai" / "openai_openapi.json"
    if not path.is_file() or importlib.util.find_spec("jsonschema") is None:
        return None
    return schema_validator(path)


@pytest.fixture(params=["system", "tzdata"])
def zone_files(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each way Python finds timezones: the system's files, and the ``tzdata`` package alone (where a folder such
    as ``America`` is not merely unknown: it raises IsADirectoryError)."""
    if request.param == "system":
        yield "system"
        return
    from tests.fakes.tzdata import zones_from_tzdata_package

    with zones_from_tzdata_package(tmp_path / "zones") as ready:
        if not ready:
            pytest.skip("neither the tzdata package nor system zone files are installed")
        yield "tzdata"
