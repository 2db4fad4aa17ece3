"""The Telegram and Slack sandboxes of a journey, served from a thread of their own while the test runs the CLI."""

from __future__ import annotations

import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.sandbox.server import TelegramSandbox
from tests.fakes.environment import reference_or_none
from tests.fakes.sandboxes import SLACK_SPEC, TELEGRAM_SPEC, SandboxLoop

T = TypeVar("T")
TEAM, SIGNING = "T0SHOP", "journey-signing-secret"
FAST = {"CHATCAST_TELEGRAM_CHAT_RATE_PER_SECOND": "100", "CHATCAST_SLACK_CHANNEL_RATE_PER_SECOND": "100"}


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


class Chats:
    """The Telegram and Slack sandboxes (every request checked against the official specs where
    ``../shared/reference`` has them, else against aiogram's models and the methods the Slack sandbox carries out,
    as ``chatcast sandbox`` does), served from a loop in a thread of their own (``served_in_thread``)."""

    def __init__(self) -> None:
        self.telegram = WatchedTelegram(spec=reference_or_none(*TELEGRAM_SPEC))
        self.slack = SlackSandbox(spec=reference_or_none(*SLACK_SPEC), signing_secret=SIGNING)
        self.loop: SandboxLoop | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` in the sandboxes' loop; its result."""
        assert self.loop is not None, "the chats are not being served"
        return self.loop.run(coro)

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
