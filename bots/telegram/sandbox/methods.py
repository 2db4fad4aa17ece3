"""What each Bot API method the sandbox implements does to its chats and updates, and what it answers."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from bots.telegram.sandbox.api_spec import Upload
from bots.telegram.sandbox.chats import ApiError, Chats, SandboxMessage, inline_markup, restyle
from bots.telegram.sandbox.markup import parse
from bots.telegram.sandbox.updates import UpdateFeed

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
_KEPT_ON_EDIT = ("message_id", "from", "chat", "date", "photo")
_CONTENT = ("text", "entities", "caption", "caption_entities")


def _formatted(field: str, params: dict[str, Any]) -> dict[str, Any]:
    """The text (or caption) and its entities as a Message carries them, after the parse mode."""
    value, entities_field = params.get(field), "entities" if field == "text" else f"{field}_entities"
    if not isinstance(value, str):
        return {}
    try:
        plain, entities = parse(value, params.get("parse_mode") if isinstance(params.get("parse_mode"), str) else None)
    except ValueError:  # only when strict=False lets a bad markup through: keep it raw
        plain, entities = value, []
    if isinstance(params.get(entities_field), list):
        plain, entities = value, params[entities_field]
    return {field: plain} | ({entities_field: entities} if entities else {})


def _chat_id(params: dict[str, Any]) -> int:
    chat_id = params.get("chat_id")
    if isinstance(chat_id, bool) or not isinstance(chat_id, int):
        raise ApiError(400, "Bad Request: chat not found")  # usernames of channels are not modelled
    return chat_id


def _photo_sizes(photo: Any) -> list[dict[str, Any]]:
    seed = hashlib.sha1(photo.data if isinstance(photo, Upload) else str(photo).encode()).hexdigest()
    sizes = ((90, 60, 1_200), (320, 213, 14_500), (1280, 853, 98_000))
    return [
        {"file_id": f"AgACAgIAAx{seed[:24]}{i}", "file_unique_id": f"AQAD{seed[:12]}{i}", "width": w, "height": h}
        | {"file_size": size}
        for i, (w, h, size) in enumerate(sizes)
    ]


class BotMethods:
    """The implemented methods; any other method of the spec answers True (or a bare Message if it sends one)."""

    def __init__(self, chats: Chats, feed: UpdateFeed, returns: Callable[[str], str]) -> None:
        self.chats, self.feed, self.returns = chats, feed, returns
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.commands: dict[tuple[str, str], list[Any]] = {}
        self._handlers: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = {
            "getMe": self.get_me,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "answerCallbackQuery": self.answer_callback_query,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "deleteMessage": self.delete_message,
            "editMessageText": self.edit_message,
            "editMessageCaption": self.edit_message,
            "editMessageReplyMarkup": self.edit_message,
        }

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """The result of a valid call."""
        if method in self._handlers:
            return await self._handlers[method](params)
        if "chat_id" in params:
            chat_id = _chat_id(params)
            if self.returns(method) == "Message":
                content = _formatted("caption", params) | self._markup(params)
                return self.chats.add(chat_id, True, params, content).api
        return True

    @staticmethod
    def _markup(params: dict[str, Any]) -> dict[str, Any]:
        markup = inline_markup(params.get("reply_markup"))
        return {"reply_markup": markup} if markup else {}

    async def get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        """getMe."""
        return self.chats.bot_user | {"can_join_groups": True, "can_read_all_group_messages": False}

    async def send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        """sendMessage."""
        chat_id = _chat_id(params)
        if not isinstance(params.get("text"), str):
            raise ApiError(400, "Bad Request: message text is empty")
        return self.chats.add(chat_id, True, params, _formatted("text", params) | self._markup(params)).api

    async def send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        """sendPhoto: a URL, a file_id or an uploaded file."""
        chat_id, photo = _chat_id(params), params.get("photo")
        if not isinstance(photo, str | Upload) or not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        content = {"photo": _photo_sizes(photo)} | _formatted("caption", params) | self._markup(params)
        message = self.chats.add(chat_id, True, params, content)
        message.photo = f"upload:{photo.filename}" if isinstance(photo, Upload) else photo
        return message.api

    async def answer_callback_query(self, params: dict[str, Any]) -> bool:
        """answerCallbackQuery: once per query the sandbox sent."""
        query_id = params.get("callback_query_id")
        if self.chats.open_callbacks.pop(str(query_id), None) is None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self.answered_callbacks[str(query_id)] = params
        return True

    async def get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """getUpdates, long-polling up to ``timeout`` seconds."""
        if self.feed.webhook:
            description = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook first"
            raise ApiError(409, description)
        if isinstance(params.get("allowed_updates"), list):
            self.feed.allowed = params["allowed_updates"]
        offset, limit, timeout = (params.get(key) for key in ("offset", "limit", "timeout"))
        numbers = [
            value if isinstance(value, int) else default for value, default in ((offset, 0), (limit, 100), (timeout, 0))
        ]
        return await self.feed.get(numbers[0], numbers[1], max(0, numbers[2]))

    async def set_webhook(self, params: dict[str, Any]) -> bool:
        """setWebhook."""
        self.feed.set_webhook(params)
        return True

    async def delete_webhook(self, params: dict[str, Any]) -> bool:
        """deleteWebhook."""
        self.feed.delete_webhook(bool(params.get("drop_pending_updates")))
        return True

    async def get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """getWebhookInfo."""
        return self.feed.info()

    @staticmethod
    def _scope(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def set_my_commands(self, params: dict[str, Any]) -> bool:
        """setMyCommands, per scope and language."""
        self.commands[self._scope(params)] = list(params.get("commands") or [])
        return True

    async def get_my_commands(self, params: dict[str, Any]) -> list[Any]:
        """getMyCommands."""
        return self.commands.get(self._scope(params), [])

    async def delete_my_commands(self, params: dict[str, Any]) -> bool:
        """deleteMyCommands."""
        self.commands.pop(self._scope(params), None)
        return True

    def _message(self, params: dict[str, Any], missing: str) -> SandboxMessage:
        message = self.chats.find(_chat_id(params), params.get("message_id"))
        if message is None or not message.from_bot:
            raise ApiError(400, f"Bad Request: message to {missing} not found")
        return message

    async def delete_message(self, params: dict[str, Any]) -> bool:
        """deleteMessage: the message leaves the transcript."""
        message = self._message(params, "delete")
        self.chats.transcripts[message.chat_id].remove(message)
        return True

    async def edit_message(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        """editMessageText, editMessageCaption, editMessageReplyMarkup (a missing reply_markup removes it)."""
        if "inline_message_id" in params:
            return True
        message = self._message(params, "edit")
        field = "text" if "text" in params else "caption" if "caption" in params else None
        same_markup = message.reply_markup == (params.get("reply_markup") or None)
        if same_markup and (field is None or getattr(message, field) == params[field]):
            raise ApiError(400, NOT_MODIFIED)
        kept = {key: message.api[key] for key in _KEPT_ON_EDIT if key in message.api}
        content = _formatted(field, params) if field else {k: v for k, v in message.api.items() if k in _CONTENT}
        restyle(message, params)
        message.api = kept | content | self._markup(params) | {"edit_date": int(time.time())}
        return message.api
