"""Button presses: campaign buttons become click events; unsubscribe and language buttons act at once."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery

from bots.telegram.buttons import Action
from bots.telegram.handlers.common import answer, event
from bots.telegram.handlers.language import LANGUAGE_STEP, LANGUAGES
from campaigns.ports import InboundHandler, Replies

ANSWER_MAX = 200
log = logging.getLogger(__name__)


async def settle(query: CallbackQuery, text: str | None = None) -> None:
    """Answer the callback (Telegram shows a spinner until then). A failed answer (the query is too old, a rate
    limit) is logged and goes no further: what the press did, and its confirmation in the chat, still stand."""
    try:
        await query.answer(text)
    except TelegramAPIError as exc:
        log.warning("callback %s: could not answer it: %s", query.id, exc)


async def pressed(
    query: CallbackQuery, callback_data: Action, bot: Bot, inbound: InboundHandler, replies: Replies | None = None
) -> None:
    """Record the press, answer the callback (Telegram shows a spinner until then), confirm what changed."""
    chat = query.message.chat if query.message else None
    if chat is None:
        await settle(query)
        return
    if callback_data.step == LANGUAGE_STEP and callback_data.action in LANGUAGES:
        kind, payload = "language", {"language": callback_data.action}
    else:
        kind = "click"
        payload = {
            "campaign_id": str(callback_data.campaign),
            "step": callback_data.step,
            "action": callback_data.action,
        }
    press = event(chat, query.from_user, kind, payload=payload)  # type: ignore[arg-type]
    reply = await inbound.handle(press)
    await settle(query, (reply.text if reply else "")[:ANSWER_MAX] or None)
    if reply and reply.text and (kind == "language" or callback_data.action == "stop"):
        await answer(bot, press, reply, replies)


async def unknown(query: CallbackQuery) -> None:
    """A press whose data is not ours (a button of an older version, a forged payload): answered, so the spinner
    stops, and nothing else."""
    await settle(query)


def build_router() -> Router:
    """A fresh router for this feature (a router belongs to one dispatcher)."""
    r = Router(name="clicks")
    r.callback_query.register(pressed, Action.filter())
    r.callback_query.register(unknown)  # after the specific handler: every press is answered
    return r
