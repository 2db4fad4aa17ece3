"""``TelegramChannel``: the engine's ``Channel`` on aiogram, sending text, buttons and photos.

A long text goes as several messages (pieces, split the same way every time): an attempt that fails after some
went out says which (``ChannelError.sent``), and the next attempt sends only the rest. A 429 pauses the chat when
we had just sent to it (Telegram's limit per chat: the piece before, or a message within the chat's pace), else
the whole bot (its broadcast limit).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from aiogram import Bot
from aiogram.client.default import Default
from aiogram.exceptions import TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup, LinkPreviewOptions, Message

from bots.telegram import NAME
from bots.telegram.buttons import keyboard
from bots.telegram.errors import channel_error
from bots.telegram.limits import CHAT_RATE, GROUP_PER_MINUTE, LIMITS, PAID_RATE
from bots.telegram.text import escape, split, with_caption
from campaigns.ports import ChannelError, OutboundMessage, PermanentChannelError, RateLimited, SendReceipt

NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
BOT_DEFAULT = Default("link_preview")  # the option left to the bot's default (none set: Telegram's, a preview)


@dataclass(frozen=True)
class Piece:
    """One request of a message: a photo with its caption, or a text; the buttons go under the last."""

    text: str
    photo: str | None = None


def pieces(message: OutboundMessage) -> list[Piece]:
    """The requests ``message`` takes, in order: the same for the same message, so piece k is piece k on retry."""
    if message.image_url:
        caption, rest = with_caption(message.text)
        return [Piece(caption, message.image_url), *(Piece(text) for text in rest)]
    return [Piece(text) for text in split(message.text)]


class TelegramChannel:
    """Sends ``OutboundMessage``s through one aiogram ``Bot``; maps every failure to a ``ChannelError``."""

    name = NAME

    def __init__(
        self, bot: Bot, *, allow_paid_broadcast: bool = False, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.bot = bot
        self.allow_paid_broadcast = allow_paid_broadcast
        self.limits = replace(LIMITS, messages_per_second=PAID_RATE) if allow_paid_broadcast else LIMITS
        self.clock = clock
        self._recent: OrderedDict[int, float] = OrderedDict()  # chat -> when we last sent to it, oldest first

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Send ``message`` (the pieces after ``message.sent_pieces``): a long text as several messages, the
        buttons under the last one."""
        try:
            chat_id = int(message.address)
        except ValueError:
            raise PermanentChannelError(f"Telegram: {message.address!r} is not a chat id") from None
        todo = pieces(message)
        if not todo:
            raise PermanentChannelError("Telegram: an empty message cannot be sent")
        markup = keyboard(message.buttons, message.campaign_id, message.step)
        sent = list(message.sent_pieces)
        for n in range(len(sent), len(todo)):
            try:
                last = n == len(todo) - 1
                reply = await self._send(chat_id, todo[n], markup if last else None, previews=message.link_previews)
            except Exception as exc:
                raise self._error(exc, chat_id, just_sent=len(sent) > len(message.sent_pieces)).after(
                    tuple(sent)
                ) from exc
            sent.append(str(reply.message_id))
            self._sent_to(chat_id)
        return SendReceipt(message_ids=tuple(sent), sent_at=datetime.now(UTC), address=message.address)

    async def _send(
        self, chat_id: int, piece: Piece, markup: InlineKeyboardMarkup | None, *, previews: bool = True
    ) -> Message:
        paid = True if self.allow_paid_broadcast else None  # None: left out of the request
        if piece.photo:
            return await self.bot.send_photo(
                chat_id,
                piece.photo,
                caption=escape(piece.text) or None,
                parse_mode="HTML",
                reply_markup=markup,
                allow_paid_broadcast=paid,
            )
        return await self.bot.send_message(
            chat_id,
            escape(piece.text),
            parse_mode="HTML",
            reply_markup=markup,
            allow_paid_broadcast=paid,
            link_preview_options=BOT_DEFAULT if previews else NO_PREVIEW,
        )

    def _error(self, exc: Exception, chat_id: int, *, just_sent: bool) -> ChannelError:
        """The engine's error for a failed request to ``chat_id``; a 429 scoped to the chat when we had just sent
        to it (faster than its own limit allows), to the bot otherwise."""
        if isinstance(exc, ChannelError):
            return exc
        error = channel_error(exc)
        if isinstance(exc, TelegramRetryAfter) and isinstance(error, RateLimited):
            pace = 60 / GROUP_PER_MINUTE if chat_id < 0 else 1 / CHAT_RATE
            last = self._recent.get(chat_id)
            if just_sent or (last is not None and self.clock() - last < pace):
                error.scope = "target"
        return error

    def _sent_to(self, chat_id: int) -> None:
        """Remember when we last sent to the chat, for as long as a chat's pace (older entries are forgotten)."""
        now = self.clock()
        self._recent[chat_id] = now
        self._recent.move_to_end(chat_id)
        horizon = 60 / GROUP_PER_MINUTE
        while self._recent and now - next(iter(self._recent.values())) > horizon:
            self._recent.popitem(last=False)
