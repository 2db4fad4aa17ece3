"""The CLI tests run in an empty folder with no CHATCAST_ variables from the caller's environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bots.telegram.sandbox.server import TelegramSandbox
from tests.fakes.sandboxes import served_in_thread


@pytest.fixture(autouse=True)
def _in_isolation(isolated: Path) -> Path:
    """Every test here runs in ``isolated``."""
    return isolated


@pytest.fixture
def telegram(monkeypatch: pytest.MonkeyPatch, telegram_spec: Path) -> Iterator[TelegramSandbox]:
    """The Bot API sandbox, served from a thread while the test runs the CLI, configured as the bot's API; the test
    fails on any request that broke the spec."""
    sandbox = TelegramSandbox(spec=telegram_spec)
    with served_in_thread(sandbox):
        monkeypatch.setenv("CHATCAST_TELEGRAM_BOT_TOKEN", sandbox.token)
        monkeypatch.setenv("CHATCAST_TELEGRAM_API_URL", sandbox.base_url)
        yield sandbox
        assert sandbox.violations == []
