"""The CLI tests run in an empty folder with no CHATCAST_ variables from the caller's environment."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.telegram.sandbox.server import TelegramSandbox
from tests.conftest import reference_file


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("CHATCAST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHATCAST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    return tmp_path


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch) -> Iterator[TelegramSandbox]:
    """The Bot API sandbox, served from a thread, configured as the bot's API."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    sandbox = TelegramSandbox(spec=reference_file("telegram", "telegram_bot_api_10.1.json"))
    asyncio.run_coroutine_threadsafe(sandbox.start(), loop).result(30)
    monkeypatch.setenv("CHATCAST_TELEGRAM_BOT_TOKEN", sandbox.token)
    monkeypatch.setenv("CHATCAST_TELEGRAM_API_URL", sandbox.base_url)
    try:
        yield sandbox
        assert sandbox.violations == []
    finally:
        asyncio.run_coroutine_threadsafe(sandbox.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
