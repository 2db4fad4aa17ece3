"""Building the bot: the aiogram ``Bot`` and ``Dispatcher``, long polling, and the webhook (aiohttp)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import TelegramObject, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bots.spec import CURRENT_UPDATE
from bots.telegram import NAME
from bots.telegram.groups import ChatKinds
from bots.telegram.handlers import chat, clicks, consent, help, language
from bots.telegram.handlers.help import COMMANDS
from bots.telegram.spec import WEBHOOK_PATH
from campaigns.ports import InboundHandler, Redeliveries, Replies


def build_bot(token: str, *, api_url: str | None = None, timeout: float = 30.0) -> Bot:
    """A ``Bot`` talking to Telegram, or to ``api_url`` (a Bot API server such as the sandbox)."""
    api = TelegramAPIServer.from_base(api_url) if api_url else None
    session = AiohttpSession(api=api, timeout=timeout) if api else AiohttpSession(timeout=timeout)
    return Bot(token, session=session)


def build_dispatcher(
    inbound: InboundHandler,
    *,
    redis_url: str | None = None,
    updates: Redeliveries | None = None,
    replies: Replies | None = None,
    group_chats: bool = False,
) -> Dispatcher:
    """The dispatcher with every feature's router; handlers receive ``inbound`` by name. With ``redis_url`` its
    FSM storage (conversation state) lives in Redis, so that several
    processes receiving webhooks behind one address share it; without, in this process's memory. With
    ``updates``, each update is handled once by its ``update_id``: a redelivery is acknowledged and dropped. With
    ``replies``, answers go through the engine's outbox (paced, queued when a chat must wait); without, directly.
    Private chats only, unless ``group_chats`` (:mod:`bots.telegram.groups`)."""
    storage = (
        RedisStorage.from_url(redis_url, key_builder=DefaultKeyBuilder(prefix="chatcast:fsm")) if redis_url else None
    )
    data: dict[str, Any] = {"inbound": inbound} | ({"replies": replies} if replies is not None else {})
    dispatcher = Dispatcher(storage=storage, **data) if storage else Dispatcher(**data)
    dispatcher.update.outer_middleware(ChatKinds(groups=group_chats))
    if updates is not None:
        dispatcher.update.outer_middleware(Once(updates))
    # order matters: commands before the catch-all text handler
    dispatcher.include_routers(*(m.build_router() for m in (consent, help, language, clicks, chat)))
    return dispatcher


class Once:
    """Each update handled once by its ``update_id`` (per bot): Telegram redelivers an update whenever the webhook
    answers late or not 2xx. One handled before is dropped. The key is passed to the engine
    (:data:`bots.spec.CURRENT_UPDATE`, read into each ``InboundEvent``), which records it in the transaction of the
    update's effects: a failure or a crash before the commit leaves it unrecorded, and Telegram's redelivery is then
    handled. An update that reached no engine transaction (``/help``) is recorded once its handler is done."""

    def __init__(self, updates: Redeliveries) -> None:
        self.updates = updates

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        update: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(update, Update):
            return await handler(update, data)
        bot = data.get("bot")
        key = f"{bot.id if bot is not None else 0}:{update.update_id}"
        if await self.updates.seen(NAME, key):
            return None
        token = CURRENT_UPDATE.set(key)
        try:
            result = await handler(update, data)
        finally:
            CURRENT_UPDATE.reset(token)
        await self.updates.record(NAME, key)  # a no-op where the engine recorded it
        return result


async def set_commands(bot: Bot) -> None:
    """Show the bot's commands in Telegram's menu."""
    await bot.set_my_commands(list(COMMANDS))


async def run_polling(bot: Bot, dispatcher: Dispatcher) -> None:
    """Receive updates by long polling (no public URL needed) until cancelled."""
    await bot.delete_webhook(drop_pending_updates=False)
    await dispatcher.start_polling(bot, handle_signals=False)


def add_webhook(app: web.Application, bot: Bot, dispatcher: Dispatcher, secret: str, path: str = WEBHOOK_PATH) -> None:
    """Serve Telegram's webhook at ``path`` in ``app``; a request without ``secret`` gets 401 and changes nothing."""
    if not secret:
        raise ValueError("a webhook needs a secret token (CHATCAST_TELEGRAM_WEBHOOK_SECRET)")
    SimpleRequestHandler(dispatcher, bot, handle_in_background=False, secret_token=secret).register(app, path=path)


async def register_webhook(bot: Bot, url: str, secret: str) -> None:
    """Tell Telegram where to post updates, with the secret it must send back."""
    await bot.set_webhook(url, secret_token=secret, allowed_updates=["message", "callback_query", "my_chat_member"])
