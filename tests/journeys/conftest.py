"""What a journey test needs: an empty shop database, the ``chatcast`` CLI, the chat platforms and a wall clock.

A journey lives the product as people do: from an empty database (SQLite and PostgreSQL), only through the CLI
(typer's CliRunner on ``chatcast.cli.app``) and the HTTP endpoints of ``serve``, with days passing on a clock
that time-machine travels. It never writes a status or a timestamp into the database.

* ``shop``: an empty folder as the working directory, no ``CHATCAST_`` variable from outside, and the
  database of the backend under test as ``CHATCAST_DATABASE_URL``; yields the folder.
* ``cli``: runs ``chatcast ...`` there; ``cli.ok(...)`` also insists on exit status 0.
* ``chats``: the Telegram and Slack sandboxes in a thread of their own, configured as the bots' APIs (every request
  checked against the official specs where ``../shared/reference`` has them, else against aiogram's models and the
  methods the Slack sandbox carries out, as ``chatcast sandbox`` does); ``chats.wait(...)`` awaits what a chat shows.
* ``clock``: the wall clock, moved with ``clock.to(moment)`` and ``clock.shift(delta)`` (it keeps ticking).
* ``serving()``: ``chatcast serve`` for the length of a ``with`` block (to receive presses and replies), polling
  Telegram, or with ``serving(webhook=True)`` taking its updates at ``/telegram/webhook`` (the Bot API sandbox
  posts them there, with the secret token of ``CHATCAST_TELEGRAM_WEBHOOK_SECRET``).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
import time_machine
from typer.testing import CliRunner

from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.sandbox.server import TelegramSandbox
from chatcast.cli import app
from chatcast.serve import ServiceState, run_service
from chatcast.settings import Settings
from storage import db
from tests.campaigns.timing.test_best_time import db_truncate
from tests.chatcast.test_serve import free_port
from tests.conftest import REFERENCE

T = TypeVar("T")
TEAM, SIGNING = "T0SHOP", "journey-signing-secret"
FAST = {"CHATCAST_TELEGRAM_CHAT_RATE_PER_SECOND": "100", "CHATCAST_SLACK_CHANNEL_RATE_PER_SECOND": "100"}


async def _emptied(url: str) -> None:
    async with db.database(url):
        await db_truncate()


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


class Cli:
    """``chatcast`` as a person types it."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str) -> tuple[int, str]:
        """Run ``chatcast ARGS``; its exit status and everything it printed (never a traceback)."""
        result = self.runner.invoke(app, list(args))
        assert "Traceback" not in result.output, result.output
        return result.exit_code, result.output

    def ok(self, *args: str) -> str:
        """Run ``chatcast ARGS``, which must succeed; what it printed."""
        code, output = self(*args)
        assert code == 0, f"chatcast {' '.join(args)} exited {code}:\n{output}"
        return output


@pytest.fixture
def cli(shop: Path) -> Cli:
    """The command line, in the shop's folder."""
    return Cli()


class WatchedTelegram(TelegramSandbox):
    """The Bot API sandbox, waking whoever waits on it after every call it answers."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.changed = threading.Condition()

    async def call(self, method: str, params: dict[str, Any], *, form: bool = False) -> tuple[int, dict[str, Any]]:
        answer = await super().call(method, params, form=form)
        with self.changed:
            self.changed.notify_all()
        return answer


def _spec(*parts: str) -> Path | None:
    """A platform's spec under ``../shared/reference``; None in a clone without it (the sandbox checks less)."""
    path = REFERENCE.joinpath(*parts)
    return path if path.is_file() else None


class Chats:
    """The Telegram and Slack sandboxes, served from a thread of their own while the test runs the CLI."""

    def __init__(self) -> None:
        self.telegram = WatchedTelegram(spec=_spec("telegram", "telegram_bot_api_10.1.json"))
        self.slack = SlackSandbox(spec=_spec("slack", "slack_web_openapi_v2.json"), signing_secret=SIGNING)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sandboxes", daemon=True)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` in the sandboxes' loop; its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def wait(self, ready: Callable[[], bool], timeout: float = 30) -> None:
        """Wait until ``ready()`` holds, checked after every Bot API call the sandbox answers."""
        with self.telegram.changed:
            assert self.telegram.changed.wait_for(ready, timeout), "the chats never showed what was awaited"

    def add_slack_user(self, user_id: str, name: str) -> None:
        """A person in the shop's Slack workspace."""
        self.slack.add_user(TEAM, user_id, name=name.lower(), real_name=name)

    def violations(self) -> list[str]:
        """Requests either sandbox found against its platform's spec."""
        return [*self.telegram.violations, *self.slack.violations]


@pytest.fixture
def chats(shop: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chats]:
    """Both sandboxes, running and configured as the bots' APIs (workspace ``T0SHOP`` on Slack)."""
    pair = Chats()
    pair.thread.start()
    try:
        pair.run(pair.telegram.start())
        pair.run(pair.slack.start())
        monkeypatch.setenv("CHATCAST_TELEGRAM_BOT_TOKEN", pair.telegram.token)
        monkeypatch.setenv("CHATCAST_TELEGRAM_API_URL", pair.telegram.base_url)
        monkeypatch.setenv("CHATCAST_SLACK_BOT_TOKEN", pair.slack.add_team(TEAM, name="Shop"))
        monkeypatch.setenv("CHATCAST_SLACK_SIGNING_SECRET", SIGNING)
        monkeypatch.setenv("CHATCAST_SLACK_API_URL", pair.slack.base_url)
        for name, value in FAST.items():
            monkeypatch.setenv(name, value)
        yield pair
        assert pair.violations() == []
    finally:
        pair.run(pair.telegram.stop())
        pair.run(pair.slack.stop())
        pair.loop.call_soon_threadsafe(pair.loop.stop)
        pair.thread.join(10)
        pair.loop.close()


class Clock:
    """The wall clock every part of the process reads (``datetime.now``, ``time.time``), moved by time-machine;
    the event loops' clocks (``time.monotonic``) are left alone, so timeouts and pacing still work."""

    def __init__(self, traveller: time_machine.Traveller) -> None:
        self._traveller = traveller

    def to(self, moment: datetime) -> None:
        """Jump to ``moment`` (aware, in UTC: a zone would change the process's TZ); it ticks on from there."""
        self._traveller.move_to(moment)

    def shift(self, delta: timedelta) -> None:
        """Jump ``delta`` ahead."""
        self._traveller.shift(delta)


@pytest.fixture
def clock() -> Iterator[Clock]:
    """The wall clock, travelling from now until moved."""
    travel = time_machine.travel(datetime.now(UTC), tick=True)
    try:
        yield Clock(travel.start())
    finally:
        travel.stop()


@contextmanager
def serving(*, webhook: bool = False) -> Iterator[ServiceState]:
    """``chatcast serve`` with the environment's settings, on a free loopback port, until the block ends; with
    ``webhook``, as ``chatcast serve --public-url`` at that port (Telegram's updates come to its webhook)."""
    ready, box = threading.Event(), {}
    port = free_port() if webhook else 0
    public_url = f"http://127.0.0.1:{port}" if webhook else None

    async def main() -> None:
        stop = asyncio.Event()
        box["stop"], box["loop"] = stop, asyncio.get_running_loop()

        def up(state: ServiceState) -> None:
            box["state"] = state
            ready.set()

        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        await run_service(
            settings, host="127.0.0.1", port=port, stop=stop, worker="journey", ready=up, public_url=public_url
        )

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:
            box["error"] = exc
            ready.set()

    thread = threading.Thread(target=target, name="serve", daemon=True)
    thread.start()
    ready.wait(60)
    if "error" in box:
        raise box["error"]
    try:
        yield box["state"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(60)
        if "error" in box:
            raise box["error"]
