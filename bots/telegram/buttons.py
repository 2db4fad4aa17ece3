"""Inline keyboards: URL buttons, and callback buttons whose data names the campaign, step and action."""

from __future__ import annotations

from functools import lru_cache

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bots.telegram.limits import DATA_MAX_BYTES
from campaigns.ports import Button, PermanentChannelError


class Action(CallbackData, prefix="a"):
    """A pressed button: ``campaign`` 0 for buttons outside campaigns (unsubscribe, language)."""

    campaign: int
    step: str
    action: str


def pack(button: Button, campaign_id: int | None, step: str | None) -> str:
    """The callback data of an action button; refuses data over Telegram's 64 bytes rather than let it fail."""
    try:
        data = Action(campaign=campaign_id or 0, step=step or "", action=button.action or "").pack()
    except ValueError as exc:  # a ':' inside a value, or over 64 bytes
        raise PermanentChannelError(f"button {button.text!r}: {exc}") from None
    if len(data.encode()) > DATA_MAX_BYTES:
        raise PermanentChannelError(
            f"button {button.text!r}: callback data {data!r} is over {DATA_MAX_BYTES} bytes"
            " (shorten the step or action)"
        )
    return data


@lru_cache(maxsize=4096)
def keyboard(buttons: tuple[Button, ...], campaign_id: int | None, step: str | None) -> InlineKeyboardMarkup | None:
    """One button per row, in order; None without buttons. Kept for reuse: a campaign's messages share theirs,
    and building aiogram's models costs more than sending them (aiogram only reads a markup)."""
    if not buttons:
        return None
    rows = [
        [InlineKeyboardButton(text=b.text, url=b.url)]
        if b.url
        else [InlineKeyboardButton(text=b.text, callback_data=pack(b, campaign_id, step))]
        for b in buttons
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)
