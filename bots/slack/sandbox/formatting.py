"""What Slack formats in a mrkdwn text: its bold, italic, struck and code spans, as a Slack client would show them.

The rules are Slack's, as its formatting reference and the clients show them: a span is a marker (``*`` bold,
``_`` italic, ``~`` struck, a backtick code; their full-width forms U+FF0A, U+FF3F and U+FF40 as well), some text
on one line and the same marker again. The opening marker starts the text or follows a character that is no letter
or digit and is followed by a character that is no space; the closing one follows a character that is no space and
ends the text or is followed by one that is no letter or digit. So a marker inside a word (``SAVE_20``) formats
nothing, and neither does a look-alike (the asterisk operator U+2217), which is no marker. Spans do not cross a
code span, nor a URL (a link to the client, not text to format).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

Style = Literal["bold", "italic", "strike", "code"]
MARKERS: dict[str, Style] = {"*": "bold", "\uff0a": "bold", "_": "italic", "\uff3f": "italic", "~": "strike"}
CODE = ("`", "\uff40")
_URL = re.compile(r"(?:https?|mailto):[^\s<>|]+")


@dataclass(frozen=True)
class Span:
    """One formatted stretch of a text: its style and the text it shows in that style."""

    style: Style
    text: str


def _opens(text: str, at: int) -> bool:
    after = text[at + 1] if at + 1 < len(text) else ""
    return (at == 0 or not text[at - 1].isalnum()) and bool(after) and not after.isspace() and after != text[at]


def _closes(text: str, at: int) -> bool:
    after = text[at + 1] if at + 1 < len(text) else ""
    return not text[at - 1].isspace() and not after.isalnum()


def _pair(text: str, at: int) -> int | None:
    """Where the span that the marker at ``at`` opens is closed, if it is."""
    if not _opens(text, at):
        return None
    end = at
    while (end := text.find(text[at], end + 1)) != -1:
        if "\n" in text[at:end]:
            return None
        if _closes(text, end):
            return end
    return None


def _within(ranges: list[tuple[int, int]], at: int) -> bool:
    return any(start <= at <= end for start, end in ranges)


def spans(text: str) -> list[Span]:
    """The spans Slack formats in ``text``, in the order they open (nested ones after the span around them)."""
    found: list[tuple[int, Span]] = []
    opaque: list[tuple[int, int]] = [(url.start(), url.end() - 1) for url in _URL.finditer(text)]
    at = 0
    while at < len(text):  # code first: nothing inside a code span (or a URL) is formatting
        if text[at] in CODE and not _within(opaque, at) and (end := _pair(text, at)) is not None:
            found.append((at, Span("code", text[at + 1 : end])))
            opaque.append((at, end))
            at = end
        at += 1
    for marker, style in MARKERS.items():
        at = 0
        while (at := text.find(marker, at)) != -1:
            end = None if _within(opaque, at) else _pair(text, at)
            if end is not None and not _within(opaque, end):
                found.append((at, Span(style, text[at + 1 : end])))
                at = end
            at += 1
    return [span for _, span in sorted(found, key=lambda item: item[0])]


def message_spans(blocks: list[Any]) -> list[Span]:
    """The formatted spans of a message's mrkdwn text objects (its sections' texts and fields), in order."""
    out: list[Span] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        texts = [block.get("text"), *(block.get("fields") or [])]
        for item in texts:
            if isinstance(item, dict) and item.get("type") == "mrkdwn" and isinstance(item.get("text"), str):
                out.extend(spans(item["text"]))
    return out
