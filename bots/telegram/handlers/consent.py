"""``/start`` (opt in, optionally linking the chat to a shop account by a signed deep-link token) and
``/stop`` (opt out at once, confirmed)."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import Message

from bots.telegram.handlers.common import answer, event
from campaigns.ports import InboundHandler


async def start(message: Message, command: CommandObject, bot: Bot, inbound: InboundHandler) -> None:
    """Opt the chat in; ``/start TOKEN`` (a t.me deep link) also links it to the customer the token names."""
    payload = {"token": command.args.strip()} if command.args else {}
    reply = await inbound.handle(event(message.chat, message.from_user, "start", payload=payload))
    await answer(bot, message.chat.id, reply)


async def stop(message: Message, bot: Bot, inbound: InboundHandler) -> None:
    """Opt the chat out, effective at once, and say so."""
    reply = await inbound.handle(event(message.chat, message.from_user, "stop"))
    await answer(bot, message.chat.id, reply)


def build_router() -> Router:
    """A fresh router for this feature (a router belongs to one dispatcher)."""
    r = Router(name="consent")
    r.message.register(start, CommandStart())
    r.message.register(stop, Command("stop", "unsubscribe"))
    return r
