"""What every handler needs: turning a Telegram user into an ``InboundEvent`` and answering with a ``Reply``."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot
from aiogram.types import Chat, User

from bots.telegram import NAME
from bots.telegram.buttons import keyboard
from bots.telegram.text import escape, split
from campaigns.ports import InboundEvent, InboundKind, Reply

CHANNEL = NAME


def event(
    chat: Chat, user: User | None, kind: InboundKind, *, text: str = "", payload: dict[str, str] | None = None
) -> InboundEvent:
    """The engine's view of something a customer did in ``chat`` (a group's customer is the group: its title
    names it, whoever of its members acted)."""
    name = chat.title if chat.type != "private" and chat.title else user.full_name if user else None
    return InboundEvent(
        channel=CHANNEL,
        address=str(chat.id),
        kind=kind,
        text=text,
        payload=payload or {},
        user_name=name,
        language=user.language_code if user else None,
        at=datetime.now(UTC),
    )


async def answer(bot: Bot, chat_id: int, reply: Reply | None) -> None:
    """Send the engine's reply (nothing when it has nothing to say), split to Telegram's limits."""
    if reply is None or not reply.text:
        return
    pieces = split(reply.text)
    for n, piece in enumerate(pieces):
        markup = keyboard(reply.buttons, None, None) if n == len(pieces) - 1 else None
        await bot.send_message(chat_id, escape(piece), parse_mode="HTML", reply_markup=markup)
