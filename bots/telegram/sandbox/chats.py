"""The sandbox's chats: transcripts, message ids, the customers' states, and the broadcast rate limits."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bots.telegram.sandbox.markup import utf16_len

REFUSALS = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "kicked": (403, "Forbidden: bot was kicked from the group chat"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "not_found": (400, "Bad Request: chat not found"),
}
MEMBER = 100_001  # who writes in a group when a test names nobody: one of its members
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}\b")  # @username, as Telegram marks mentions


@dataclass
class SandboxMessage:
    """One message in a sandbox chat, from the bot or from the customer."""

    message_id: int
    chat_id: int
    from_bot: bool
    text: str | None = None
    caption: str | None = None
    photo: str | None = None
    reply_markup: dict[str, Any] | None = None
    parse_mode: str | None = None
    date: int = 0
    raw: dict[str, Any] = field(default_factory=dict)
    api: dict[str, Any] = field(default_factory=dict)  # the Message object as the Bot API answered or delivered it


class ApiError(Exception):
    """A Telegram-shaped error answer."""

    def __init__(self, error_code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.error_code, self.description, self.parameters = error_code, description, parameters

    def body(self) -> dict[str, Any]:
        """The JSON the Bot API answers with."""
        body: dict[str, Any] = {"ok": False, "error_code": self.error_code, "description": self.description}
        return body | ({"parameters": self.parameters} if self.parameters else {})


class Chats:
    """Per-chat transcripts and message ids, and the customers the sandbox plays (names, blocks, migrations)."""

    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user
        self.transcripts: dict[int, list[SandboxMessage]] = {}
        self.people: dict[int, tuple[str, str | None]] = {}  # user id (a private chat's id) -> name, language
        self.blocked: dict[int, str] = {}
        self.migrated: dict[int, int] = {}
        self.open_callbacks: dict[str, int] = {}  # callback query id -> chat id, until answered
        self._last_id: dict[int, int] = {}

    def chat(self, chat_id: int) -> dict[str, Any]:
        """The Chat object of a chat: private for positive ids, a group or supergroup for negative ones."""
        if chat_id < 0:
            kind = "supergroup" if chat_id < -1_000_000_000_000 else "group"
            return {"id": chat_id, "type": kind, "title": f"Sandbox {kind} {-chat_id}"}
        return {"id": chat_id, "type": "private", "first_name": self.people.get(chat_id, ("Customer", None))[0]}

    def user(self, user_id: int) -> dict[str, Any]:
        """The User object of a person: the customer of a private chat (its id), or a member of a group."""
        name, language = self.people.get(user_id, ("Customer", None))
        return {"id": user_id, "is_bot": False, "first_name": name} | ({"language_code": language} if language else {})

    def sender(self, chat_id: int, from_id: int | None) -> int:
        """Who writes in the chat: the person of a private chat; in a group, ``from_id`` or one of its members."""
        if chat_id > 0:
            if from_id not in (None, chat_id):
                raise ValueError(f"only {chat_id} writes in the private chat {chat_id}")
            return chat_id
        return from_id if from_id is not None else MEMBER

    def refusal(self, chat_id: int) -> ApiError | None:
        """The error a call aimed at this chat gets (blocked, deactivated, not found, migrated), if any."""
        if chat_id in self.migrated:
            description = "Bad Request: group chat was upgraded to a supergroup chat"
            return ApiError(400, description, {"migrate_to_chat_id": self.migrated[chat_id]})
        if chat_id in self.blocked:
            return ApiError(*REFUSALS[self.blocked[chat_id]])
        return None

    def add(
        self, chat_id: int, from_bot: bool, params: dict[str, Any], content: dict[str, Any], from_id: int | None = None
    ) -> SandboxMessage:
        """Append a message (``content``: the Message fields beyond id, date, chat and sender) to the chat; a
        person's is from ``from_id`` (see :meth:`sender`)."""
        self._last_id[chat_id] = message_id = self._last_id.get(chat_id, 0) + 1
        date = int(time.time())
        sender = self.bot_user if from_bot else self.user(self.sender(chat_id, from_id))
        api = {"message_id": message_id, "from": sender, "chat": self.chat(chat_id), "date": date, **content}
        message = SandboxMessage(message_id, chat_id, from_bot, date=date, raw=params, api=api)
        restyle(message, params)
        self.transcripts.setdefault(chat_id, []).append(message)
        return message

    def find(self, chat_id: int, message_id: Any) -> SandboxMessage | None:
        """A message of the chat by id."""
        return next((m for m in self.transcripts.get(chat_id, []) if m.message_id == message_id), None)

    def user_message(
        self, chat_id: int, text: str, *, from_id: int | None = None, reply_to: int | None = None
    ) -> SandboxMessage:
        """A message a person types (in a group: ``from_id``, a member), replying to the message ``reply_to`` if
        given; a leading command gets its bot_command entity and each ``@username`` its mention entity."""
        content: dict[str, Any] = {"text": text}
        entities = []
        if text.startswith("/") and len(text) > 1:
            command = text.split(maxsplit=1)[0]
            entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command)})
        for found in _MENTION.finditer(text):  # /help@bot is one command: its @ follows a letter
            offset = utf16_len(text[: found.start()])
            entities.append({"type": "mention", "offset": offset, "length": utf16_len(found[0])})
        if entities:
            content["entities"] = entities
        if reply_to is not None:
            replied = self.find(chat_id, reply_to)
            if replied is None:
                raise LookupError(f"chat {chat_id} has no message {reply_to} to reply to")
            content["reply_to_message"] = replied.api
        return self.add(chat_id, False, {"text": text}, content, from_id)


def restyle(message: SandboxMessage, params: dict[str, Any]) -> None:
    """Take the text, caption, markup and parse mode of a message from the params that sent or edited it."""
    message.text = params["text"] if isinstance(params.get("text"), str) else message.text
    message.caption = params["caption"] if isinstance(params.get("caption"), str) else message.caption
    message.reply_markup = params["reply_markup"] if isinstance(params.get("reply_markup"), dict) else None
    if "text" in params or "caption" in params:
        message.parse_mode = params["parse_mode"] if isinstance(params.get("parse_mode"), str) else None


def inline_markup(markup: Any) -> dict[str, Any] | None:
    """The markup as a Message carries it: only inline keyboards are echoed."""
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def has_button(message: SandboxMessage, data: str) -> bool:
    """Whether the message has an inline button with this callback data."""
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    return any(isinstance(b, dict) and b.get("callback_data") == data for row in rows for b in row)


class RateLimiter:
    """Token buckets for the broadcast limits, overall and per chat, on an injected clock."""

    def __init__(self, overall: float, per_chat: float, clock: Callable[[], float]) -> None:
        self.overall, self.per_chat, self.clock = overall, per_chat, clock
        self._buckets: dict[int | None, tuple[float, float]] = {}  # None: overall; else chat id -> tokens, at

    def _tokens(self, key: int | None, rate: float, now: float) -> float:
        tokens, at = self._buckets.get(key, (max(rate, 1.0), now))
        return min(max(rate, 1.0), tokens + (now - at) * rate)

    def acquire(self, chat_id: int) -> int:
        """Take a send for the chat: 0 when allowed, else the whole seconds until it would be (at least 1)."""
        now = self.clock()
        overall, chat = self._tokens(None, self.overall, now), self._tokens(chat_id, self.per_chat, now)
        wait = max((1 - overall) / self.overall, (1 - chat) / self.per_chat, 0.0)
        if wait > 1e-9:  # float dust is not a wait
            return max(1, math.ceil(wait))
        self._buckets[None], self._buckets[chat_id] = (overall - 1, now), (chat - 1, now)
        return 0
