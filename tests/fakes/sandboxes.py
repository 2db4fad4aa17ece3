"""What the tests add to the Telegram and Slack sandboxes: where their specs are, a Telegram sandbox that counts
what it delivered (for tests that await a number of messages), and a loop in a thread that serves sandboxes while
the test runs synchronous code such as the CLI."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.sandbox.server import TelegramSandbox
from tests.fakes.dispatch_worker import TOKEN

T = TypeVar("T")
TELEGRAM_SPEC = ("telegram", "telegram_bot_api_10.1.json")  # under ../shared/reference
SLACK_SPEC = ("slack", "slack_web_openapi_v2.json")
SIGNING = "sandbox-signing-secret"  # the Slack sandbox's signing secret unless given another


class CountingSandbox(TelegramSandbox):
    """The Telegram sandbox, telling whoever awaits it when the bot's messages reach a number."""

    def __init__(self, **options: Any) -> None:
        super().__init__(token=TOKEN, **options)
        self.delivered = 0
        self._marks: list[tuple[int, asyncio.Future[None]]] = []

    async def call(self, method: str, params: dict[str, Any], *, form: bool = False) -> tuple[int, dict[str, Any]]:
        status, body = await super().call(method, params, form=form)
        if status == 200 and method == "sendMessage":
            self.delivered += 1
            for mark, future in self._marks:
                if mark <= self.delivered and not future.done():
                    future.set_result(None)
        return status, body

    def reached(self, mark: int) -> asyncio.Future[None]:
        """Done once ``mark`` messages have been delivered."""
        future = asyncio.get_running_loop().create_future()
        self._marks.append((mark, future))
        if mark <= self.delivered:
            future.set_result(None)
        return future


class SandboxLoop:
    """An event loop in a thread of its own, for sandboxes that serve while the test's thread runs the CLI."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="sandboxes", daemon=True)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coro`` in the sandboxes' loop; its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)


@contextmanager
def served_in_thread(*sandboxes: TelegramSandbox | SlackSandbox, timeout: float = 30) -> Iterator[SandboxLoop]:
    """The sandboxes, started in a loop of their own for the length of the block and stopped after it."""
    loop = SandboxLoop()
    loop.thread.start()
    try:
        for sandbox in sandboxes:
            loop.run(sandbox.start(), timeout)
        yield loop
    finally:
        for sandbox in sandboxes:
            loop.run(sandbox.stop(), timeout)
        loop.loop.call_soon_threadsafe(loop.loop.stop)
        loop.thread.join(10)
        loop.loop.close()
