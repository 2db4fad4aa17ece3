"""What a journey test needs: an empty shop database, the ``chatcast`` CLI, the chat platforms and a wall clock.

A journey lives the product as people do: from an empty database (SQLite and PostgreSQL), only through the CLI
(typer's CliRunner on ``chatcast.cli.app``) and the HTTP endpoints of ``serve``, with days passing on a clock
that time-machine travels. It never writes a status or a timestamp into the database.

* ``shop``: an empty folder as the working directory, no ``CHATCAST_`` variable from outside, and the
  database of the backend under test as ``CHATCAST_DATABASE_URL``; yields the folder.
* ``cli``: runs ``chatcast ...`` there; ``cli.ok(...)`` also insists on exit status 0 (tests/fakes/cli.py).
* ``chats``: the Telegram and Slack sandboxes in a thread of their own, configured as the bots' APIs
  (tests/fakes/journeys/chats.py); ``chats.wait(...)`` awaits what a chat shows.
* ``clock``: the wall clock, moved with ``clock.to(moment)`` and ``clock.shift(delta)`` (it keeps ticking).
* ``serving()`` (tests/fakes/service.py): ``chatcast serve`` for the length of a ``with`` block (to receive
  presses and replies), polling Telegram, or with ``serving(webhook=True)`` taking its updates at
  ``/telegram/webhook`` (the Bot API sandbox posts them there, with the secret token of
  ``CHATCAST_TELEGRAM_WEBHOOK_SECRET``).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from storage import db
from tests.fakes.cli import Cli
from tests.fakes.clock import WallClock
from tests.fakes.databases import truncate
from tests.fakes.journeys.chats import FAST, SIGNING, TEAM, Chats
from tests.fakes.sandboxes import served_in_thread


async def _emptied(url: str) -> None:
    async with db.database(url):
        await truncate()


@pytest.fixture
def shop(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty shop on the backend under test, in an empty working folder; the folder."""
    if backend.startswith("postgres"):
        asyncio.run(_emptied(backend))  # the session's database, emptied: as new
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("CHATCAST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHATCAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


@pytest.fixture
def cli(shop: Path) -> Cli:
    """The command line, in the shop's folder."""
    return Cli()


@pytest.fixture
def chats(shop: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chats]:
    """Both sandboxes, running and configured as the bots' APIs (workspace ``T0SHOP`` on Slack)."""
    pair = Chats()
    with served_in_thread(pair.telegram, pair.slack, timeout=60) as loop:
        pair.loop = loop
        monkeypatch.setenv("CHATCAST_TELEGRAM_BOT_TOKEN", pair.telegram.token)
        monkeypatch.setenv("CHATCAST_TELEGRAM_API_URL", pair.telegram.base_url)
        monkeypatch.setenv("CHATCAST_SLACK_BOT_TOKEN", pair.slack.add_team(TEAM, name="Shop"))
        monkeypatch.setenv("CHATCAST_SLACK_SIGNING_SECRET", SIGNING)
        monkeypatch.setenv("CHATCAST_SLACK_API_URL", pair.slack.base_url)
        for name, value in FAST.items():
            monkeypatch.setenv(name, value)
        yield pair
        assert pair.violations() == []


@pytest.fixture
def clock() -> Iterator[WallClock]:
    """The wall clock, travelling from now until moved."""
    travel = time_machine.travel(datetime.now(UTC), tick=True)
    try:
        yield WallClock(travel.start())
    finally:
        travel.stop()
