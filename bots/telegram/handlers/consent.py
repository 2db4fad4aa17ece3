"""``/start`` (opt in, optionally linking the chat to a shop account by a signed deep-link token) and
``/stop`` (opt out at once, confirmed); blocking the bot (``my_chat_member``) is leaving."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.enums import ChatMemberStatus
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import ChatMemberUpdated, Message

from bots.telegram.handlers.common import answer, event
from campaigns.ports import InboundHandler, Replies


async def start(
    message: Message, command: CommandObject, bot: Bot, inbound: InboundHandler, replies: Replies | None = None
) -> None:
    """Opt the chat in; ``/start TOKEN`` (a t.me deep link) also links it to the customer the token names."""
    payload = {"token": command.args.strip()} if command.args else {}
    started = event(message.chat, message.from_user, "start", payload=payload)
    await answer(bot, started, await inbound.handle(started), replies)


async def stop(message: Message, bot: Bot, inbound: InboundHandler, replies: Replies | None = None) -> None:
    """Opt the chat out, effective at once, and say so."""
    stopped = event(message.chat, message.from_user, "stop")
    await answer(bot, stopped, await inbound.handle(stopped), replies)


async def membership(change: ChatMemberUpdated, inbound: InboundHandler) -> None:
    """The customer blocked the bot: Telegram says so at once (``my_chat_member``, kicked), so they leave now, as
    a send that met the block would find (opted out as blocked, the chat unreachable, their journeys ended),
    with nothing said. A group (where the shop allows groups) leaves alike when it removes the bot. Unblocking,
    or adding the bot again, is no consent: the chat's next /start is."""
    status = change.new_chat_member.status
    if change.chat.type == "private" and status == ChatMemberStatus.KICKED:
        await inbound.handle(event(change.chat, change.from_user, "stop", payload={"left": "blocked"}))
    elif change.chat.type != "private" and status in (ChatMemberStatus.KICKED, ChatMemberStatus.LEFT):
        await inbound.handle(event(change.chat, change.from_user, "stop", payload={"left": "removed"}))


def build_router() -> Router:
    """A fresh router for this feature (a router belongs to one dispatcher)."""
    r = Router(name="consent")
    r.message.register(start, CommandStart())
    r.message.register(stop, Command("stop", "unsubscribe"))
    r.my_chat_member.register(membership)
    return r
