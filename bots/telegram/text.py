"""Text for Telegram: plain text escaped for HTML mode, and split where Telegram's limits require.

Telegram counts limits in characters after entity parsing, so the limit applies to the plain text; each
piece is escaped after splitting (escaping never changes what the customer sees).
"""

from __future__ import annotations

import html
import re

from bots.telegram.limits import CAPTION_MAX, TEXT_MAX

# where to cut, best first: between paragraphs, lines, sentences, words
BREAKS = (re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?…])\s+"), re.compile(r"\s+"))


def escape(text: str) -> str:
    """Plain text made safe for ``parse_mode=HTML`` (only ``&``, ``<`` and ``>`` need escaping)."""
    return html.escape(text, quote=False)


def _cut(text: str, limit: int) -> int:
    """The position to end the first piece of ``text``: the last good break at or before ``limit``."""
    window = text[: limit + 1]
    for pattern in BREAKS:
        ends = [m.start() for m in pattern.finditer(window) if 0 < m.start() <= limit]
        if ends and ends[-1] >= limit // 2:  # a break too early would leave a stub of a message
            return ends[-1]
    return limit


def split(text: str, limit: int = TEXT_MAX) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at paragraph, line, sentence or word ends."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        at = _cut(rest, limit)
        pieces.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def with_caption(text: str, caption_max: int = CAPTION_MAX, text_max: int = TEXT_MAX) -> tuple[str, list[str]]:
    """A photo's caption and the text messages that follow it, when ``text`` is longer than a caption."""
    text = text.strip()
    if len(text) <= caption_max:
        return text, []
    head = split(text, caption_max)[0]
    return head, split(text[len(head) :], text_max)
