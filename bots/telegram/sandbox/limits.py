"""The Bot API's limits a bot runs into (text lengths after markup, buttons, commands), in Telegram's words.

These checks run with and without the spec file; with it, the length limits written in other fields'
descriptions ("1-64 characters") are checked too, through ``length_problem``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bots.telegram.sandbox.markup import MarkupError, parse

BUTTON_ACTIONS = frozenset(
    {
        "url",
        "callback_data",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
PARSE_MODES = ("html", "markdown", "markdownv2")
_HANDLED = {
    ("sendMessage", "text"),
    ("editMessageText", "text"),
    ("answerCallbackQuery", "text"),
    ("InlineKeyboardButton", "callback_data"),
    ("BotCommand", "command"),
    ("BotCommand", "description"),
    ("setWebhook", "secret_token"),
}
_MISSING = {
    "text": "Bad Request: message text is empty",
    "chat_id": "Bad Request: chat_id is empty",
    "photo": "Bad Request: there is no photo in the request",
    "callback_query_id": "Bad Request: QUERY_ID_INVALID",
}
_URL = re.compile(r"(?:https?|tg)://\S+", re.IGNORECASE)
_HTTP = re.compile(r"https?://[^\s/]+", re.IGNORECASE)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: ``detail`` for the violations list, ``description`` for the answer."""

    detail: str
    description: str = ""

    def __post_init__(self) -> None:
        if not self.description:
            object.__setattr__(self, "description", f"Bad Request: {self.detail}")


def handles(owner: str, field: str) -> bool:
    """Whether ``check_limits`` checks this field (so the spec's generic length check leaves it alone)."""
    return (owner, field) in _HANDLED or (field == "caption" and owner[:1].islower())  # methods: camelCase


def missing(path: str, name: str) -> Problem:
    """A required field that is absent."""
    return Problem(f"missing required field '{path}{name}'", "" if path else _MISSING.get(name, ""))


def length_problem(where: str, value: str, low: int, high: int, unit: str, parse_mode: Any) -> list[Problem]:
    """The problem with a string's length (counted after markup when a parse mode applies), if any."""
    try:
        text = parse(value, parse_mode)[0] if isinstance(parse_mode, str) else value
    except MarkupError as exc:
        return [Problem(f"can't parse entities in '{where}': {exc}", f"Bad Request: can't parse entities: {exc}")]
    except ValueError:
        return []  # an unsupported parse mode is reported on its own
    size = len(text.encode()) if unit == "bytes" else len(text)
    return [] if low <= size <= high else [Problem(f"field '{where}' is {size} {unit} long, must be {low}-{high}")]


def _text(field: str, value: str, mode: str | None, limit: int, too_long: str) -> list[Problem]:
    try:
        plain = parse(value, mode)[0]
    except MarkupError as exc:
        return [Problem(f"can't parse entities in '{field}': {exc}", f"Bad Request: can't parse entities: {exc}")]
    except ValueError:
        return []
    if field == "text" and not plain.strip():
        return [Problem("message text is empty")]
    if len(plain) > limit:
        detail = f"{field} is {len(plain)} characters after entities parsing, the limit is {limit}"
        return [Problem(detail, f"Bad Request: {too_long}")]
    return []


def _keyboard(rows: Any) -> list[Problem]:
    problems, count = [], 0
    for r, row in enumerate(rows if isinstance(rows, list) else []):
        for c, button in enumerate(row if isinstance(row, list) else []):
            if not isinstance(button, dict):
                continue
            count, where = count + 1, f"reply_markup.inline_keyboard[{r}][{c}]"
            actions = sorted(BUTTON_ACTIONS & button.keys())
            if len(actions) != 1:
                why = "Text buttons are unallowed in the inline keyboard" if not actions else "too many button types"
                detail = (
                    f"button {where} sets {actions or 'no action'}; it needs exactly one of {sorted(BUTTON_ACTIONS)}"
                )
                problems.append(Problem(detail, f"Bad Request: can't parse inline keyboard button: {why}"))
            data = button.get("callback_data")
            if isinstance(data, str) and not 1 <= len(data.encode()) <= 64:
                detail = f"callback_data of button {where} is {len(data.encode())} bytes, must be 1-64"
                problems.append(Problem(detail, "Bad Request: BUTTON_DATA_INVALID"))
            url = button.get("url")
            if isinstance(url, str) and not _URL.fullmatch(url):
                problems.append(
                    Problem(f"url of button {where} is not an http(s) or tg URL", "Bad Request: BUTTON_URL_INVALID")
                )
    if count > 100:
        problems.append(
            Problem(f"inline keyboard has {count} buttons, the limit is 100", "Bad Request: reply markup is too long")
        )
    return problems


def _commands(commands: Any) -> list[Problem]:
    problems = []
    for i, item in enumerate(commands if isinstance(commands, list) else []):
        command, description = (
            (item.get("command"), item.get("description")) if isinstance(item, dict) else (None, None)
        )
        if isinstance(command, str) and not _COMMAND.fullmatch(command):
            detail = f"command {i} {command!r} must be 1-32 lowercase English letters, digits and underscores"
            problems.append(Problem(detail, "Bad Request: BOT_COMMAND_INVALID"))
        if isinstance(description, str) and not 1 <= len(description) <= 256:
            detail = f"description of command {i} is {len(description)} characters, must be 1-256"
            problems.append(Problem(detail, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID"))
    if isinstance(commands, list) and len(commands) > 100:
        problems.append(Problem(f"{len(commands)} commands, the limit is 100", "Bad Request: BOT_COMMANDS_TOO_MUCH"))
    return problems


def check_limits(method: str, params: dict[str, Any]) -> list[Problem]:
    """Every limit the (decoded) params of ``method`` break."""
    problems: list[Problem] = []
    mode = params.get("parse_mode")
    if isinstance(mode, str) and mode.lower() not in PARSE_MODES:
        problems.append(Problem(f"unsupported parse_mode {mode!r}", "Bad Request: unsupported parse_mode"))
    mode = mode if isinstance(mode, str) and mode.lower() in PARSE_MODES else None
    text, caption = params.get("text"), params.get("caption")
    if method in ("sendMessage", "editMessageText") and isinstance(text, str):
        problems += _text("text", text, None if params.get("entities") else mode, 4096, "message is too long")
    if isinstance(caption, str):
        problems += _text(
            "caption", caption, None if params.get("caption_entities") else mode, 1024, "message caption is too long"
        )
    if method == "answerCallbackQuery" and isinstance(text, str) and len(text) > 200:
        problems.append(Problem(f"text is {len(text)} characters, the limit is 200", "Bad Request: MESSAGE_TOO_LONG"))
    markup = params.get("reply_markup")
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        problems += _keyboard(markup["inline_keyboard"])
    if method == "setMyCommands":
        problems += _commands(params.get("commands"))
    photo = params.get("photo")
    if method == "sendPhoto" and isinstance(photo, str) and "://" in photo and not _HTTP.match(photo):
        detail = f"photo {photo[:80]!r} is neither an HTTP(S) URL nor a file_id"
        problems.append(Problem(detail, "Bad Request: wrong HTTP URL specified"))  # Telegram fetches HTTP(S) only
    if method == "setWebhook":
        problems += _webhook_url(params.get("url"))
    secret = params.get("secret_token")
    if method == "setWebhook" and isinstance(secret, str) and not _SECRET.fullmatch(secret):
        detail = "secret_token must be 1-256 characters A-Z, a-z, 0-9, _ and -"
        problems.append(Problem(detail, "Bad Request: secret token contains unallowed characters"))
    return problems


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})


def _webhook_url(url: Any) -> list[Problem]:
    """Telegram posts webhooks only to HTTPS on ports 443, 80, 88 or 8443. The sandbox also posts to a loopback
    address over plain HTTP on any port (tests and the demo receive there; Telegram could not reach it at all)."""
    if not isinstance(url, str) or not url:
        return []  # an empty url removes the webhook
    parsed = urlsplit(url)
    if parsed.hostname in LOOPBACK:
        return []
    if parsed.scheme != "https":
        return [
            Problem(
                f"webhook url {url!r} is not HTTPS",
                "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
            )
        ]
    try:
        port = parsed.port or 443
    except ValueError:
        port = -1
    if port not in WEBHOOK_PORTS:
        detail = "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
        return [Problem(f"webhook url {url!r} uses port {port}", detail)]
    return []
