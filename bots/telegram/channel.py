"""``TelegramChannel``: the engine's ``Channel`` on aiogram, sending text, buttons and photos."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.types import Message

from bots.telegram import NAME
from bots.telegram.buttons import keyboard
from bots.telegram.errors import channel_error
from bots.telegram.limits import LIMITS, PAID_RATE
from bots.telegram.text import escape, split, with_caption
from campaigns.ports import ChannelError, OutboundMessage, PermanentChannelError, SendReceipt


class TelegramChannel:
    """Sends ``OutboundMessage``s through one aiogram ``Bot``; maps every failure to a ``ChannelError``."""

    name = NAME

    def __init__(self, bot: Bot, *, allow_paid_broadcast: bool = False) -> None:
        self.bot = bot
        self.allow_paid_broadcast = allow_paid_broadcast
        self.limits = replace(LIMITS, messages_per_second=PAID_RATE) if allow_paid_broadcast else LIMITS

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Send ``message``: a long text as several messages, the buttons under the last one."""
        try:
            chat_id = int(message.address)
        except ValueError:
            raise PermanentChannelError(f"Telegram: {message.address!r} is not a chat id") from None
        markup = keyboard(message.buttons, message.campaign_id, message.step)
        paid = True if self.allow_paid_broadcast else None  # None: left out of the request
        sent: list[Message] = []
        try:
            if message.image_url:
                caption, rest = with_caption(message.text)
                sent.append(
                    await self.bot.send_photo(
                        chat_id,
                        message.image_url,
                        caption=escape(caption) or None,
                        parse_mode="HTML",
                        reply_markup=None if rest else markup,
                        allow_paid_broadcast=paid,
                    )
                )
            else:
                rest = split(message.text)
                if not rest:
                    raise PermanentChannelError("Telegram: an empty message cannot be sent")
            for n, piece in enumerate(rest):
                last = n == len(rest) - 1
                sent.append(
                    await self.bot.send_message(
                        chat_id,
                        escape(piece),
                        parse_mode="HTML",
                        reply_markup=markup if last else None,
                        allow_paid_broadcast=paid,
                    )
                )
        except ChannelError:
            raise
        except Exception as exc:
            raise channel_error(exc) from exc
        return SendReceipt(
            message_ids=tuple(str(m.message_id) for m in sent), sent_at=datetime.now(UTC), address=message.address
        )
