"""What every handler needs: turning a Telegram user into an ``InboundEvent`` and answering with a ``Reply``."""

from __future__ import annotations

from datetime import UTC, datetime

from aiogram import Bot
from aiogram.types import Chat, User

from bots.inbound.replies import DirectReplies
from bots.spec import CURRENT_UPDATE
from bots.telegram import NAME
from bots.telegram.channel import TelegramChannel
from campaigns.ports import InboundEvent, InboundKind, Replies, Reply

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
        update=CURRENT_UPDATE.get(),
    )


async def answer(bot: Bot, event: InboundEvent, reply: Reply | None, replies: Replies | None) -> None:
    """Send the engine's reply (nothing when it has nothing to say) through ``replies``: paced, its errors mapped,
    queued when the chat must wait, never raising; without them (a bot run alone), directly through ``bot``."""
    await (replies or DirectReplies({NAME: TelegramChannel(bot)})).send(event, reply)
