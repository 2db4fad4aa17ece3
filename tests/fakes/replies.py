"""The parts of ``serve``'s reply path the tests watch: a stand-in assistant that echoes, and the outbox replies
with a queue of the replies they finished with (sent, queued or given up: what a test awaits)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from aiogram import Bot
from aiohttp import web

from bots.inbound.acts import Inbound
from bots.inbound.replies import QueuedReplies
from bots.telegram.app import add_webhook, build_dispatcher, register_webhook
from bots.telegram.channel import TelegramChannel
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.ports import InboundEvent, Reply
from storage.redeliveries import StoredUpdates
from tests.fakes.clock import Clock
from tests.fakes.sandboxes import CountingSandbox

HOOK_SECRET = "hook-Secret_123"


class Echo:
    """A stand-in for the assistant: answers every text, counting how often it was asked."""

    def __init__(self) -> None:
        self.asked = 0

    async def respond(self, event: InboundEvent, customer_id: int, message_id: int) -> Reply | None:
        self.asked += 1
        return Reply(f"You said: {event.text}")

    async def staff_reply(self, event: InboundEvent) -> None:
        return None


class WatchedReplies(QueuedReplies):
    """:class:`QueuedReplies` telling when each reply is done with."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.done: asyncio.Queue[InboundEvent] = asyncio.Queue()

    async def send(self, event: InboundEvent, reply: Reply | None) -> None:
        try:
            await super().send(event, reply)
        finally:
            self.done.put_nowait(event)

    async def next(self) -> InboundEvent:
        return await asyncio.wait_for(self.done.get(), 10)


@dataclass
class Serving:
    """A Telegram webhook, the engine and the dispatcher wired as ``serve`` wires them, on a clock the test moves."""

    sandbox: CountingSandbox
    dispatcher: Dispatcher
    echo: Echo
    clock: Clock[datetime]


@asynccontextmanager
async def telegram_serving(
    sandbox: CountingSandbox, bot: Bot, rates: dict[str, float] | None = None
) -> AsyncIterator[Serving]:
    """The bot's webhook on loopback, registered with ``sandbox``; replies through the outbox and a dispatcher
    (``rates``: its send rates, as ``serve`` takes them; Telegram's own limits without)."""
    clock = Clock(datetime.now(UTC))
    echo = Echo()
    replies = QueuedReplies(clock=clock)
    channel = TelegramChannel(bot)
    dispatcher = Dispatcher({channel.name: channel}, worker="test", clock=clock, sleep=clock.sleep, rates=rates)
    replies.attach(dispatcher, {channel.name: channel})
    updates = build_dispatcher(Inbound(None, responder=echo), updates=StoredUpdates(), replies=replies)
    app = web.Application()
    add_webhook(app, bot, updates, HOOK_SECRET)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await register_webhook(bot, f"http://127.0.0.1:{runner.addresses[0][1]}/telegram/webhook", HOOK_SECRET)
    try:
        yield Serving(sandbox, dispatcher, echo, clock)
    finally:
        await runner.cleanup()
