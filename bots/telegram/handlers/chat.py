"""Free text: handed to the engine (and the assistant) as data, answered when it has something to say."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import Message

from bots.telegram.handlers.common import answer, event
from campaigns.ports import InboundHandler, Replies


async def text(message: Message, bot: Bot, inbound: InboundHandler, replies: Replies | None = None) -> None:
    """Pass the customer's words on; reply with what the engine answers."""
    said = event(message.chat, message.from_user, "text", text=message.text or "")
    await answer(bot, said, await inbound.handle(said), replies)


def build_router() -> Router:
    """A fresh router for this feature (a router belongs to one dispatcher)."""
    r = Router(name="chat")
    r.message.register(text, F.text)
    return r
