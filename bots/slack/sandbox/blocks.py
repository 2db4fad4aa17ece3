"""Block Kit's limits, checked as Slack checks them: each problem names its place with a JSON pointer.

The limits are Block Kit's documented ones (50 blocks in a message, 100 in a view, section text 3000
characters, button text 75, action_id 255, ...). Unknown block and element types are problems too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bots.slack.limits import TEXT_MAX as TEXT_LIMIT  # Slack's one value, checked against the reference

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
_STYLES = frozenset({"primary", "danger"})
_SELECTS = frozenset(
    {
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    }
)
_ELEMENTS = _SELECTS | {
    "button",
    "overflow",
    "datepicker",
    "timepicker",
    "datetimepicker",
    "checkboxes",
    "radio_buttons",
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "rich_text_input",
    "file_input",
    "workflow_button",
    "image",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request: the Slack ``error`` it is answered with, and what exactly is wrong."""

    error: str
    detail: str


def parse_blocks(value: Any) -> tuple[list[Any] | None, list[Problem]]:
    """The blocks of a request (a JSON string or a list), or None and the problem when they are not a list."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None, [Problem("invalid_blocks_format", "blocks is not valid JSON")]
    if not isinstance(value, list):
        return None, [Problem("invalid_blocks_format", "blocks must be an array")]
    return value, []


def check_blocks(blocks: list[Any], *, limit: int = MESSAGE_BLOCKS, at: str = "/blocks") -> list[Problem]:
    """Every Block Kit problem in a list of blocks."""
    out: list[str] = []
    if len(blocks) > limit:
        out.append(f"no more than {limit} items allowed [json-pointer:{at}]")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        _block(block, f"{at}/{i}", out)
        if isinstance(block, dict) and isinstance(block_id := block.get("block_id"), str):
            if block_id in block_ids:  # Slack: a block_id is unique within a message
                out.append(f"duplicate block_id {block_id!r} [json-pointer:{at}/{i}/block_id]")
            block_ids.add(block_id)
        _unique_action_ids(block, f"{at}/{i}", out)
    return [Problem("invalid_blocks", detail) for detail in out]


def _unique_action_ids(block: Any, where: str, out: list[str]) -> None:
    """Slack refuses a block whose interactive elements share an ``action_id`` (unique within their block)."""
    if not isinstance(block, dict):
        return
    elements = block.get("elements") if block.get("type") == "actions" else [block.get("accessory")]
    seen: set[str] = set()
    for i, element in enumerate(elements if isinstance(elements, list) else []):
        action_id = element.get("action_id") if isinstance(element, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                out.append(f"duplicate action_id {action_id!r} [json-pointer:{where}/elements/{i}/action_id]")
            seen.add(action_id)


def _length(value: Any, limit: int, where: str, out: list[str], *, required: bool = False) -> None:
    if value is None:
        if required:
            out.append(f"missing required field [json-pointer:{where}]")
    elif not isinstance(value, str):
        out.append(f"must be a string [json-pointer:{where}]")
    elif len(value) > limit:
        out.append(f"must be less than {limit + 1} characters [json-pointer:{where}]")


def _text(value: Any, limit: int, where: str, out: list[str], *, plain: bool = False, required: bool = True) -> None:
    """A text object: plain_text or mrkdwn (plain_text only where ``plain``), 1 to ``limit`` characters."""
    if value is None:
        if required:
            out.append(f"missing required field [json-pointer:{where}]")
        return
    if not isinstance(value, dict):
        out.append(f"must be a text object [json-pointer:{where}]")
        return
    allowed = ("plain_text",) if plain else ("plain_text", "mrkdwn")
    if value.get("type") not in allowed:
        out.append(f"must be one of {', '.join(allowed)} [json-pointer:{where}/type]")
    text = value.get("text")
    if isinstance(text, str) and not text:
        out.append(f"must be more than 0 characters [json-pointer:{where}/text]")
    _length(text, limit, f"{where}/text", out, required=True)


def _items(value: Any, limit: int, where: str, out: list[str], *, least: int = 1) -> list[Any]:
    if not isinstance(value, list):
        out.append(f"must be an array [json-pointer:{where}]")
        return []
    if len(value) > limit:
        out.append(f"no more than {limit} items allowed [json-pointer:{where}]")
    if len(value) < least:
        out.append(f"must provide at least {least} items [json-pointer:{where}]")
    return value


def _block(block: Any, where: str, out: list[str]) -> None:
    if not isinstance(block, dict):
        out.append(f"must be an object [json-pointer:{where}]")
        return
    _length(block.get("block_id"), 255, f"{where}/block_id", out)
    kind = block.get("type")
    if kind == "section":
        if block.get("text") is None and block.get("fields") is None:
            out.append(f"must provide either text or fields [json-pointer:{where}]")
        _text(block.get("text"), 3000, f"{where}/text", out, required=False)
        if block.get("fields") is not None:
            for i, field in enumerate(_items(block["fields"], 10, f"{where}/fields", out)):
                _text(field, 2000, f"{where}/fields/{i}", out)
        if block.get("accessory") is not None:
            _element(block["accessory"], f"{where}/accessory", out)
    elif kind == "actions":
        for i, element in enumerate(_items(block.get("elements"), 25, f"{where}/elements", out)):
            _element(element, f"{where}/elements/{i}", out)
    elif kind == "context":
        for i, element in enumerate(_items(block.get("elements"), 10, f"{where}/elements", out)):
            if isinstance(element, dict) and element.get("type") == "image":
                _image(element, f"{where}/elements/{i}", out)
            else:
                _text(element, 3000, f"{where}/elements/{i}", out)
    elif kind == "header":
        _text(block.get("text"), 150, f"{where}/text", out, plain=True)
    elif kind == "image":
        _image(block, where, out)
        _text(block.get("title"), 2000, f"{where}/title", out, plain=True, required=False)
    elif kind == "input":
        _text(block.get("label"), 2000, f"{where}/label", out, plain=True)
        _text(block.get("hint"), 2000, f"{where}/hint", out, plain=True, required=False)
        if block.get("element") is None:
            out.append(f"missing required field [json-pointer:{where}/element]")
        else:
            _element(block["element"], f"{where}/element", out)
    elif kind == "markdown":
        _length(block.get("text"), 12_000, f"{where}/text", out, required=True)
    elif kind == "rich_text":
        _items(block.get("elements"), 1000, f"{where}/elements", out, least=0)
    elif kind not in ("divider", "video", "file"):
        out.append(f"unknown block type {kind!r} [json-pointer:{where}/type]")


def _image(value: dict[str, Any], where: str, out: list[str]) -> None:
    """An image block or element: an image_url or a slack_file (one of the two), and alt_text."""
    if value.get("slack_file") is None:
        _length(value.get("image_url"), 3000, f"{where}/image_url", out, required=True)
    elif value.get("image_url") is not None:
        out.append(f"must provide either image_url or slack_file, not both [json-pointer:{where}/image_url]")
    for name in ("image_url", "alt_text"):
        if value.get(name) == "":
            out.append(f"must be more than 0 characters [json-pointer:{where}/{name}]")
    _length(value.get("alt_text"), 2000, f"{where}/alt_text", out, required=True)


def _element(element: Any, where: str, out: list[str]) -> None:
    if not isinstance(element, dict):
        out.append(f"must be an object [json-pointer:{where}]")
        return
    kind = element.get("type")
    if kind not in _ELEMENTS:
        out.append(f"unknown element type {kind!r} [json-pointer:{where}/type]")
        return
    if kind == "image":
        _image(element, where, out)
        return
    _length(element.get("action_id"), 255, f"{where}/action_id", out)
    if kind == "button":
        _text(element.get("text"), 75, f"{where}/text", out, plain=True)
        _length(element.get("value"), 2000, f"{where}/value", out)
        _length(element.get("url"), 3000, f"{where}/url", out)
        _length(element.get("accessibility_label"), 75, f"{where}/accessibility_label", out)
        if element.get("style") is not None and element["style"] not in _STYLES:
            out.append(f"must be one of primary, danger [json-pointer:{where}/style]")
    if kind in _SELECTS:
        _text(element.get("placeholder"), 150, f"{where}/placeholder", out, plain=True, required=False)
    if kind in ("static_select", "multi_static_select", "checkboxes", "radio_buttons", "overflow"):
        least, most = (2, 5) if kind == "overflow" else (1, 100 if "select" in kind else 10)
        if element.get("options") is not None or "option_groups" not in element:
            for i, option in enumerate(_items(element.get("options"), most, f"{where}/options", out, least=least)):
                _option(option, f"{where}/options/{i}", out, plain=kind != "checkboxes" and kind != "radio_buttons")


def _option(option: Any, where: str, out: list[str], *, plain: bool) -> None:
    if not isinstance(option, dict):
        out.append(f"must be an object [json-pointer:{where}]")
        return
    _text(option.get("text"), 75, f"{where}/text", out, plain=plain)
    _length(option.get("value"), 150, f"{where}/value", out, required=True)
    _length(option.get("url"), 3000, f"{where}/url", out)


def check_text(params: dict[str, Any], *, needs_content: bool) -> list[Problem]:
    """A message's text: at most 40,000 characters; with ``needs_content``, text, blocks or attachments present."""
    text = params.get("text")
    problems = []
    if isinstance(text, str) and len(text) > TEXT_LIMIT:
        problems.append(Problem("msg_too_long", f"text is {len(text)} characters, the limit is {TEXT_LIMIT}"))
    if needs_content and not any(params.get(key) for key in ("text", "blocks", "attachments")):
        problems.append(Problem("no_text", "text, blocks or attachments is required"))
    return problems


def buttons(blocks: list[Any]) -> list[dict[str, Any]]:
    """The button elements of a list of blocks: in actions blocks and as section accessories, in order."""
    found: list[dict[str, Any]] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        elements = block.get("elements") if block.get("type") == "actions" else [block.get("accessory")]
        found.extend(e for e in elements or [] if isinstance(e, dict) and e.get("type") == "button")
    return found
