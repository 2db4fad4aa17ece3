"""Free text: handed to the engine (and the assistant) as data, answered when it has something to say; in a group,
only what is said to the bot (:class:`~bots.telegram.groups.SaidToTheBot`)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import Message

from bots.telegram.groups import SaidToTheBot
from bots.telegram.handlers.common import answer, event
from campaigns.ports import InboundHandler, Replies


async def text(message: Message, bot: Bot, inbound: InboundHandler, said: str, replies: Replies | None = None) -> None:
    """Pass the customer's words on; reply with what the engine answers."""
    words = event(message.chat, message.from_user, "text", text=said)
    await answer(bot, words, await inbound.handle(words), replies)


def build_router() -> Router:
    """A fresh router for this feature (a router belongs to one dispatcher)."""
    r = Router(name="chat")
    r.message.register(text, F.text, SaidToTheBot())
    return r
