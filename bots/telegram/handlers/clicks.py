"""Button presses: campaign buttons become click events; unsubscribe and language buttons act at once."""

from __future__ import annotations

from aiogram import Bot, Router
from aiogram.types import CallbackQuery

from bots.telegram.buttons import Action
from bots.telegram.handlers.common import answer, event
from bots.telegram.handlers.language import LANGUAGE_STEP, LANGUAGES
from campaigns.ports import InboundHandler

ANSWER_MAX = 200


async def pressed(query: CallbackQuery, callback_data: Action, bot: Bot, inbound: InboundHandler) -> None:
    """Record the press, answer the callback (Telegram shows a spinner until then), confirm what changed."""
    chat = query.message.chat if query.message else None
    if chat is None:
        await query.answer()
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
    reply = await inbound.handle(event(chat, query.from_user, kind, payload=payload))  # type: ignore[arg-type]
    await query.answer((reply.text if reply else "")[:ANSWER_MAX] or None)
    if reply and reply.text and (kind == "language" or callback_data.action == "stop"):
        await answer(bot, chat.id, reply)


def build_router() -> Router:
    """A fresh router for this feature (a router belongs to one dispatcher)."""
    r = Router(name="clicks")
    r.callback_query.register(pressed, Action.filter())
    return r
