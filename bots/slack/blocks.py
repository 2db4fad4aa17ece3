"""Block Kit for Slack: text escaped and split into sections, an image, and buttons that name campaign and step.

Slack counts a mrkdwn field's limit on the text as sent, entities included, so pieces are measured escaped and
escaped after splitting. Every ``text`` field here is sent with ``verbatim``: Slack then parses nothing by
itself (no ``@here``, no channel names), and since ``&``, ``<`` and ``>`` are escaped no link or mention forms.
Formatting (``*bold*``) stays: it is a campaign template's; the values from data in a text, and plain-text replies
whole, come with their markers quoted (:mod:`bots.slack.mrkdwn`).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from itertools import accumulate
from typing import Any

from bots.slack.limits import (
    ACTION_ID_MAX,
    ACTIONS_MAX,
    ALT_MAX,
    BLOCKS_MAX,
    BUTTON_TEXT_MAX,
    HEADER_MAX,
    HOME_BLOCKS_MAX,
    SECTION_MAX,
    TEXT_MAX,
    URL_MAX,
    VALUE_MAX,
)
from campaigns.ports import Button, PermanentChannelError

ELLIPSIS = "…"
ACTION_ID = re.compile(r"^cc:")

Block = dict[str, Any]

_SPECIAL = re.compile(r"[&<>]")
_ENTITY_SIZE = {"&": 5, "<": 4, ">": 4}  # &amp; &lt; &gt;
# where a piece may end, best first: a blank line, a line end, after a sentence, a space
_BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?…])\s"), re.compile(r"\s"))


@dataclass(frozen=True, slots=True)
class ButtonValue:
    """What one of our buttons carries: the campaign and step (empty outside campaigns) and the action."""

    campaign_id: str
    step: str
    action: str


def escape(text: str) -> str:
    """Plain text made safe for a Slack mrkdwn field: ``&``, ``<`` and ``>`` become entities, nothing else changes."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, limit: int, escaped: bool) -> int:
    """How many leading characters of ``text`` stay within ``limit`` (counted after escaping where ``escaped``)."""
    head = text[:limit]
    if not escaped or not _SPECIAL.search(head):
        return len(head)
    return bisect_right(list(accumulate(_ENTITY_SIZE.get(c, 1) for c in head)), limit)


def _cut(text: str, limit: int, escaped: bool) -> int:
    """The end of the first piece of ``text``: its best break within ``limit``, not before half of it."""
    room = _fit(text, limit, escaped)
    if room >= len(text):
        return len(text)
    for pattern in _BREAKS:
        # the piece ends where the break starts; a break too early would leave a stub of a piece
        found = [m.start() for m in pattern.finditer(text, max(room // 2, 1), room + 1)]
        if found:
            return found[-1]
    return max(room, 1)


def split(text: str, limit: int = SECTION_MAX, *, escaped: bool = True) -> list[str]:
    """``text`` in pieces within ``limit`` characters, cut at paragraph, line, sentence or word ends."""
    pieces: list[str] = []
    rest = text.strip()
    while rest:
        at = _cut(rest, limit, escaped)
        pieces.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    return pieces


def shorten(text: str, limit: int, *, escaped: bool = True, more: bool = False) -> str:
    """``text`` within ``limit`` characters, cut at a word end; an ellipsis ends it if anything is left out."""
    text = text.strip()
    if not more and _fit(text, limit, escaped) >= len(text):
        return text
    room = limit - len(ELLIPSIS)
    if _fit(text, room, escaped) < len(text):
        text = text[: _cut(text, room, escaped)].rstrip()
    return text + ELLIPSIS


def sections(text: str, budget: int) -> list[Block]:
    """``text`` as at most ``budget`` mrkdwn section blocks; what does not fit is left out, marked by an ellipsis."""
    pieces = split(text)
    if len(pieces) > budget:
        pieces = pieces[:budget]
        if pieces:
            pieces[-1] = shorten(pieces[-1], SECTION_MAX, more=True)
    return [{"type": "section", "text": {"type": "mrkdwn", "text": escape(p), "verbatim": True}} for p in pieces]


def pack_action_id(action: str | None, index: int) -> str:
    """The ``action_id`` of the ``index``-th button of a message (unique within it); URL buttons are ``open``."""
    return f"cc:{action or 'open'}:{index}"


def pack_value(campaign_id: int | None, step: str | None, action: str | None) -> str:
    """A button's ``value``: campaign, step and action joined by ``|``; refused rather than cut when too long."""
    for name, part in (("step", step), ("action", action)):
        if part and "|" in part:
            raise PermanentChannelError(f"Slack: a button's {name} {part!r} may not contain '|'")
    value = f"{campaign_id or ''}|{step or ''}|{action or 'open'}"
    if len(value) > VALUE_MAX:
        raise PermanentChannelError(f"Slack: a button value is over {VALUE_MAX} characters (shorten the step)")
    return value


def parse_value(value: str | None) -> ButtonValue | None:
    """The campaign, step and action in a button's ``value``; None for a value that is not ours."""
    if not value or len(value) > VALUE_MAX:
        return None
    parts = value.split("|")
    if len(parts) != 3:
        return None
    campaign_id, step, action = parts
    if not action or (campaign_id and not (campaign_id.isascii() and campaign_id.isdigit())):
        return None
    return ButtonValue(campaign_id, step, action)


def button(item: Button, index: int, campaign_id: int | None = None, step: str | None = None) -> Block:
    """One button element: a link (clicks still reported as ``open``) or an action naming campaign and step."""
    label = shorten(item.text, BUTTON_TEXT_MAX, escaped=False)
    if not label:
        raise PermanentChannelError("Slack: a button needs a text")
    action_id = pack_action_id(None if item.url else item.action, index)
    if len(action_id) > ACTION_ID_MAX:
        raise PermanentChannelError(f"Slack: button {label!r}: its action_id is over {ACTION_ID_MAX} characters")
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": label, "emoji": True},
        "action_id": action_id,
        "value": pack_value(campaign_id, step, None if item.url else item.action),
    }
    if item.url:
        if len(item.url) > URL_MAX:
            raise PermanentChannelError(f"Slack: button {label!r}: the URL is over {URL_MAX} characters")
        element["url"] = item.url
    return element


def message_blocks(
    text: str,
    buttons: tuple[Button, ...] = (),
    image_url: str | None = None,
    campaign_id: int | None = None,
    step: str | None = None,
    image_alt: str | None = None,
) -> tuple[list[Block], str]:
    """A message's blocks (sections, an image, the buttons 25 to an actions block) and its notification text;
    ``image_alt``: the image's alt text (Slack requires one: "Image" when none is given)."""
    elements = [button(b, n, campaign_id, step) for n, b in enumerate(buttons)]
    tail: list[Block] = []
    alt = shorten(image_alt or "", ALT_MAX, escaped=False) or "Image"
    if image_url:
        if len(image_url) > URL_MAX:
            raise PermanentChannelError(f"Slack: the image URL is over {URL_MAX} characters")
        tail.append({"type": "image", "image_url": image_url, "alt_text": alt})
    tail += [
        {"type": "actions", "elements": elements[n : n + ACTIONS_MAX]} for n in range(0, len(elements), ACTIONS_MAX)
    ]
    if len(tail) >= BLOCKS_MAX:
        raise PermanentChannelError(f"Slack: {len(buttons)} buttons leave no room for the text in {BLOCKS_MAX} blocks")
    blocks = sections(text, BLOCKS_MAX - len(tail)) + tail
    # the notification text is mrkdwn too: escaped, so it cannot mention or link either
    fallback = shorten(text, TEXT_MAX) or " ".join(b.text.strip() for b in buttons).strip()
    fallback = fallback or (alt if image_url else "")
    if not fallback:
        raise PermanentChannelError("Slack: an empty message cannot be sent")
    return blocks, escape(fallback)


def home_view(subscribed: bool, shop_name: str, text: str) -> Block:
    """The App Home tab: the shop's name and text, whether the user is subscribed, and the button to change it."""
    title = shorten(shop_name, HEADER_MAX, escaped=False) or "Welcome"
    state = "You are subscribed to our messages." if subscribed else "You are not subscribed to our messages."
    toggle = Button("Unsubscribe", action="stop") if subscribed else Button("Subscribe", action="start")
    control = button(toggle, 0) | ({} if subscribed else {"style": "primary"})
    blocks: list[Block] = [{"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}}]
    blocks += sections(text, HOME_BLOCKS_MAX - 3)
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*{escape(state)}*", "verbatim": True}})
    blocks.append({"type": "actions", "elements": [control]})
    return {"type": "home", "blocks": blocks}
