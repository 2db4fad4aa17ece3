"""Fixtures for every folder: a fresh, migrated database per test on SQLite and on PostgreSQL, the Telegram and
Slack sandboxes, an isolated working folder for the CLI, and the OpenAI request check.

``CHATCAST_TEST_DATABASES`` (default ``sqlite,postgres``) picks the backends. PostgreSQL comes from
``CHATCAST_TEST_POSTGRES_URL`` (default ``postgres://postgres@127.0.0.1:5432/test``): the tests create
their own database beside it. Where PostgreSQL is not running its tests skip, unless
``CHATCAST_TEST_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from storage import db
from tests.fakes.databases import truncate
from tests.fakes.environment import BACKENDS, PG_URL, REFERENCE, reference_file

# pytest-xdist exports its terminal's size (COLUMNS=80) to the workers, and rich fixes a console's width from it
# when the console is built; the tests set the width they read with, as a marketer's terminal would.
os.environ.pop("COLUMNS", None)
os.environ.pop("LINES", None)


if TYPE_CHECKING:  # the SDKs take seconds to import: a test that needs none of them loads none
    from aiogram import Bot

    from bots.slack.sandbox.server import SlackSandbox
    from tests.fakes.openai_api import FakeOpenAI
    from tests.fakes.sandboxes import CountingSandbox


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
        await truncate()
    try:
        yield backend
    finally:
        await db.close()


@pytest.fixture
def telegram_spec() -> Path:
    """The Bot API 10.1 spec in ``../shared/reference``; the test skips without it."""
    from tests.fakes.sandboxes import TELEGRAM_SPEC

    return reference_file(*TELEGRAM_SPEC)


@pytest.fixture
def slack_spec() -> Path:
    """Slack's Web API OpenAPI spec in ``../shared/reference``; the test skips without it."""
    from tests.fakes.sandboxes import SLACK_SPEC

    return reference_file(*SLACK_SPEC)


@pytest.fixture
async def telegram_sandbox(telegram_spec: Path) -> AsyncIterator[CountingSandbox]:
    """The Bot API sandbox on loopback, checking every request against the spec and counting the messages it
    delivered; the test fails on any request that broke the spec (a test that breaks it on purpose clears
    ``violations`` once it has looked)."""
    from tests.fakes.sandboxes import CountingSandbox

    async with CountingSandbox(spec=telegram_spec) as sandbox:
        yield sandbox
        assert sandbox.violations == [], sandbox.violations


@pytest.fixture
async def telegram_bot(telegram_sandbox: CountingSandbox) -> AsyncIterator[Bot]:
    """The real aiogram bot as the app builds it, talking to the Bot API sandbox."""
    from bots.telegram.app import build_bot

    bot = build_bot(telegram_sandbox.token, api_url=telegram_sandbox.base_url, timeout=5)
    yield bot
    await bot.session.close()


@pytest.fixture
async def slack_sandbox(slack_spec: Path) -> AsyncIterator[SlackSandbox]:
    """The Slack sandbox on loopback, checking every Web API call against the spec and Block Kit's limits; the test
    fails on any call that broke them (a test that breaks them on purpose clears ``violations`` once it has
    looked)."""
    from bots.slack.sandbox.server import SlackSandbox

    async with SlackSandbox(spec=slack_spec) as sandbox:
        yield sandbox
        assert sandbox.violations == [], sandbox.violations


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty working folder with no CHATCAST_ variables from the caller's environment, its data directory
    ``data/`` (not made) and a wide terminal (no wrapped lines): where CLI runs happen; the folder."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("CHATCAST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHATCAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


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


@pytest.fixture
def fake_openai(validator: Any) -> Iterator[FakeOpenAI]:
    """The fake OpenAI API (tests/fakes/openai_api.py), checking each request against the schema where it can; the
    test fails on any request that was invalid or beyond its script (set ``script`` or ``default`` to answer)."""
    from tests.fakes.openai_api import FakeOpenAI

    server = FakeOpenAI(validate=validator)
    yield server
    assert server.problems == []
