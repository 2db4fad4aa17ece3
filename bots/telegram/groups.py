"""Which chats the bot talks in: private chats always; groups only where the shop allows them
(``CHATCAST_TELEGRAM_GROUP_CHATS``), and there only to what is said to the bot; channels never.

A shop talks with its customers one to one by default: an update from a group (someone added the bot there, or
writes there) creates no customer and gets no answer. With group chats allowed, a group is a customer like any
chat (its id is the address): ``/start`` there subscribes the group, broadcasts reach it, ``/stop`` and its
Unsubscribe button leave; but a group is many people talking among themselves, so the assistant hears only what
is meant for the bot: a command (``/help``, or ``/help@our_bot``; one for another bot is not ours), a message
that mentions the bot, or a reply to one of its messages. Removing the bot from the group is the group leaving.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.enums import MessageEntityType
from aiogram.filters import Filter
from aiogram.types import Message, TelegramObject, Update

GROUPS = frozenset({"group", "supergroup"})


def chat_type(update: Update) -> str | None:
    """The type of the chat an update comes from (``private``, ``group``, ...); None where it has no chat."""
    message = update.message or update.edited_message or (update.callback_query and update.callback_query.message)
    chat = getattr(message or update.my_chat_member, "chat", None)
    return str(chat.type) if chat is not None else None


class ChatKinds:
    """The outer middleware that drops the updates of chats the bot does not talk in (acknowledged, no answer):
    channels always, groups and supergroups unless ``groups``."""

    def __init__(self, groups: bool = False) -> None:
        self.groups = groups

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        update: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        kind = chat_type(update) if isinstance(update, Update) else None
        if kind is None or kind == "private" or (self.groups and kind in GROUPS):
            return await handler(update, data)
        return None


class SaidToTheBot(Filter):
    """A text the assistant is to hear, passed on as ``said``: anything in a private chat; in a group, a message
    mentioning the bot (the mention taken out) or replying to one of its messages, else nothing."""

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        text = message.text or ""
        if message.chat.type not in GROUPS:
            return {"said": text}
        me = await bot.me()  # cached by aiogram after the first call
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == me.id:
            return {"said": text}
        handle = f"@{me.username}".lower() if me.username else None
        for entity in message.entities or ():
            if entity.type == MessageEntityType.TEXT_MENTION and entity.user and entity.user.id == me.id:
                return {"said": text}
            if entity.type == MessageEntityType.MENTION and handle and entity.extract_from(text).lower() == handle:
                cut = entity.extract_from(text)
                return {"said": " ".join(text.replace(cut, " ", 1).split())}
        return False
