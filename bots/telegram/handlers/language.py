"""``/language``: the customer picks the language the shop writes to them in."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from bots.telegram.buttons import keyboard
from bots.telegram.handlers.common import answer, event
from campaigns.ports import Button, InboundHandler, Replies

LANGUAGES = {
    "en": "English",
    "de": "Deutsch",
    "fr": "Français",
    "es": "Español",
    "it": "Italiano",
    "pt-BR": "Português",
}
LANGUAGE_STEP = "lang"
log = logging.getLogger(__name__)


async def language(
    message: Message, command: CommandObject, bot: Bot, inbound: InboundHandler, replies: Replies | None = None
) -> None:
    """``/language de`` sets it; ``/language`` alone offers buttons."""
    code = (command.args or "").strip()
    if code in LANGUAGES:
        chosen = event(message.chat, message.from_user, "language", payload={"language": code})
        await answer(bot, chosen, await inbound.handle(chosen), replies)
        return
    buttons = tuple(Button(text=name, action=key) for key, name in LANGUAGES.items())
    try:  # the question only: a failure (a rate limit) loses nothing, and must not fail the update
        await message.answer(
            "Which language should we write to you in?", reply_markup=keyboard(buttons, 0, LANGUAGE_STEP)
        )
    except TelegramAPIError as exc:
        log.warning("the language question could not be sent: %s", exc)


def build_router() -> Router:
    """A fresh router for this feature (a router belongs to one dispatcher)."""
    r = Router(name="language")
    r.message.register(language, Command("language"))
    return r
