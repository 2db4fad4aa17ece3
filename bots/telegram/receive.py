"""The Telegram bot as ``serve`` runs it: built from its settings, sending through :class:`TelegramChannel`, and
receiving updates by webhook (with a public URL, the secret token checked) or else by long polling."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiogram import Bot, Dispatcher
from aiohttp import web

from bots.spec import Wiring, secret
from bots.telegram.app import WEBHOOK_PATH, add_webhook, build_bot, build_dispatcher, register_webhook, run_polling
from bots.telegram.channel import TelegramChannel
from bots.telegram.settings import TelegramSettings
from campaigns.ports import InboundHandler, Redeliveries, Replies, StaffAlerts


def webhook_secret(settings: TelegramSettings) -> str:
    """The webhook's secret token; ValueError when it is not set."""
    value = secret(settings.telegram_webhook_secret)
    if not value:
        raise ValueError("a Telegram webhook needs CHATCAST_TELEGRAM_WEBHOOK_SECRET")
    return value


log = logging.getLogger(__name__)


class Receiving:
    """Updates arriving by webhook or by long polling, until :meth:`stop`."""

    def __init__(self, bot: Bot, dispatcher: Dispatcher, secret: str | None) -> None:
        self.bot, self.dispatcher, self.secret = bot, dispatcher, secret
        self.mode = "webhook" if secret else "polling"
        self._polling: asyncio.Task[None] | None = None
        if not secret:
            self._polling = asyncio.create_task(run_polling(bot, dispatcher), name="telegram-polling")

    async def listening(self, public_url: str | None) -> None:
        """Tell Telegram where the webhook is (polling needs nothing)."""
        if self.secret and public_url:
            await register_webhook(self.bot, public_url.rstrip("/") + WEBHOOK_PATH, self.secret)

    async def stop(self) -> None:
        """Stop polling and close the FSM storage."""
        if self._polling is not None:
            with contextlib.suppress(RuntimeError):  # not polling yet
                await self.dispatcher.stop_polling()
            self._polling.cancel()
            try:
                await self._polling
            except asyncio.CancelledError:
                pass
            except Exception:  # it stopped receiving long before the stop: say why, with the traceback
                log.exception("telegram polling failed")
        await self.dispatcher.storage.close()


class TelegramBot:
    """The configured bot: its channel, and receiving for ``serve``."""

    staff: StaffAlerts | None = None  # the shop's people work elsewhere

    def __init__(
        self,
        bot: Bot,
        settings: TelegramSettings,
        inbound: InboundHandler,
        updates: Redeliveries | None = None,
        replies: Replies | None = None,
    ) -> None:
        self.bot, self.settings, self.inbound, self.updates, self.replies = bot, settings, inbound, updates, replies
        self.channel = TelegramChannel(bot, allow_paid_broadcast=settings.telegram_allow_paid_broadcast)

    async def receive(self, app: web.Application, *, public_url: str | None, redis_url: str | None) -> Receiving:
        """By webhook at :data:`WEBHOOK_PATH` with a public URL (ValueError without the secret), else by polling."""
        dispatcher = build_dispatcher(
            self.inbound,
            redis_url=redis_url,
            updates=self.updates,
            replies=self.replies,
            group_chats=self.settings.telegram_group_chats,
        )
        if public_url:
            hook = webhook_secret(self.settings)
            add_webhook(app, self.bot, dispatcher, hook, path=WEBHOOK_PATH)
            return Receiving(self.bot, dispatcher, hook)
        return Receiving(self.bot, dispatcher, None)


@asynccontextmanager
async def open_bot(settings: TelegramSettings, wiring: Wiring) -> AsyncIterator[TelegramBot | None]:
    """The bot the settings configure (None without a token), its HTTP session closed after the block."""
    token = secret(settings.telegram_bot_token)
    if not token:
        yield None
        return
    bot = build_bot(token, api_url=settings.telegram_api_url)
    try:
        yield TelegramBot(bot, settings, wiring.inbound, wiring.updates, wiring.replies)
    finally:
        await bot.session.close()
