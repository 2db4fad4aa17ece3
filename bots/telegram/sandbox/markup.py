"""Telegram's text markup (HTML, MarkdownV2, Markdown) parsed the way the Bot API parses it.

The sandbox needs the plain text to check the length limits ("1-4096 characters after entities parsing"), the
entities to answer with spec-shaped messages, and Telegram's own wording when the markup does not parse.
"""

from __future__ import annotations

import re
from typing import Any

HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(?:#[xX]([0-9a-fA-F]{1,6})|#([0-9]{1,7})|([a-zA-Z]{1,10}));")
_BARE_VALUE = re.compile(r"[A-Za-z0-9.\-]*")
_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_V2_NAMES = {"bold": "Bold", "italic": "Italic", "underline": "Underline", "strikethrough": "Strikethrough"}
_V2_NAMES |= {"spoiler": "Spoiler", "code": "Code", "pre": "Pre", "text_link": "TextUrl", "custom_emoji": "CustomEmoji"}


class MarkupError(ValueError):
    """The text does not parse; the message is what Telegram says after "can't parse entities: "."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and the entities of ``text`` under ``parse_mode`` (none: the text as it is)."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _parse_html(text.strip())
    if mode == "markdownv2":
        return _parse_markdown(text.strip(), v2=True)
    if mode == "markdown":
        return _parse_markdown(text.strip(), v2=False)
    if not mode:
        return text, []
    raise ValueError(f"unsupported parse_mode {parse_mode!r}")


class _Builder:
    """Plain text under construction and the entities over it (offsets in characters until ``result``)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.chars: list[str] = []
        self.entities: list[dict[str, Any]] = []

    def at(self, index: int) -> int:
        return len(self.source[:index].encode())

    def add(self, kind: str, begin: int, **extra: Any) -> None:
        if len(self.chars) > begin:
            self.entities.append({"type": kind, "offset": begin, "length": len(self.chars) - begin, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        plain = "".join(self.chars)
        for entity in self.entities:
            start, end = entity["offset"], entity["offset"] + entity["length"]
            entity["offset"], entity["length"] = utf16_len(plain[:start]), utf16_len(plain[start:end])
        return plain, sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))


def _unescape(text: str, start: int, end: int) -> tuple[str, int]:
    """One character reference at ``start`` decoded; an unknown one stays literal, as in Telegram."""
    match = _CHAR_REF.match(text, start, end)
    if match:
        hexa, decimal, name = match.groups()
        code = int(hexa, 16) if hexa else int(decimal) if decimal else None
        if code is not None and 0 < code <= 0x10FFFF:
            return chr(code), match.end()
        if name and name.lower() in _NAMED:
            return _NAMED[name.lower()], match.end()
    return "&", start + 1


def _attributes(text: str, i: int, tag: str, out: _Builder, start: int) -> tuple[dict[str, str], int]:
    """The attributes of a start tag from ``i``; returns them and the index of its closing '>'."""
    attrs: dict[str, str] = {}
    n = len(text)
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise MarkupError(f"Unclosed start tag at byte offset {out.at(start)}")
        if text[i] == ">":
            return attrs, i
        j = i
        while j < n and not text[j].isspace() and text[j] not in "=>/\"'":
            j += 1
        name = text[i:j].lower()
        if not name:
            raise MarkupError(f'Empty attribute name in the tag "{tag}" at byte offset {out.at(start)}')
        while j < n and text[j].isspace():
            j += 1
        if j >= n or text[j] != "=":
            attrs[name], i = "", j
            continue
        j += 1
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise MarkupError(f'Unclosed start tag "{tag}" at byte offset {out.at(start)}')
        if text[j] in "\"'":
            end = text.find(text[j], j + 1)
            if end < 0:
                raise MarkupError(f"Unclosed start tag at byte offset {out.at(start)}")
            value, k = "", j + 1
            while k < end:
                char, k = _unescape(text, k, end) if text[k] == "&" else (text[k], k + 1)
                value += char
            attrs[name], i = value, end + 1
        else:
            bare = _BARE_VALUE.match(text, j)
            i = bare.end() if bare else j
            if i < n and not text[i].isspace() and text[i] != ">":
                raise MarkupError(f"Unexpected end of name token at byte offset {out.at(i)}")
            attrs[name] = text[j:i].lower()


def _close_html(out: _Builder, tag: str, attrs: dict[str, str], begin: int) -> None:
    kind, last = HTML_TAGS[tag], out.entities[-1] if out.entities else {}
    if tag == "a":
        out.add(kind, begin, url=attrs.get("href") or "".join(out.chars[begin:]))
    elif tag == "tg-emoji":
        if not attrs.get("emoji-id", "").isdigit():
            raise MarkupError("Invalid custom emoji identifier specified")
        out.add(kind, begin, custom_emoji_id=attrs["emoji-id"])
    elif tag == "blockquote":
        out.add("expandable_blockquote" if "expandable" in attrs else kind, begin)
    elif tag == "tg-time" and attrs.get("unix", "").isdigit():
        extra = {"date_time_format": attrs["format"]} if "format" in attrs else {}
        out.add(kind, begin, unix_time=int(attrs["unix"]), **extra)
    elif (
        tag == "pre"
        and last.get("type") == "code"
        and (last["offset"], last["length"]) == (begin, len(out.chars) - begin)
    ):
        code = out.entities.pop()  # <pre><code class="language-x"> is one pre entity with a language
        out.add("pre", begin, **({"language": code["language"]} if code.get("language") else {}))
    elif tag == "code" and attrs.get("class", "").startswith("language-"):
        out.add(kind, begin, language=attrs["class"].removeprefix("language-"))
    elif tag != "tg-time":
        out.add(kind, begin)


def _parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    out, i, n = _Builder(text), 0, len(text)
    stack: list[tuple[str, dict[str, str], int]] = []  # open tags: name, attributes, where their text begins
    while i < n:
        char = text[i]
        if char == "&":
            decoded, i = _unescape(text, i, n)
            out.chars.append(decoded)
            continue
        if char != "<":
            out.chars.append(char)
            i += 1
            continue
        start, closing = i, text.startswith("</", i)
        j = i + 2 if closing else i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        name = text[start + (2 if closing else 1) : j].lower()
        if closing:
            if not stack:
                raise MarkupError(f"Unexpected end tag at byte offset {out.at(start)}")
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise MarkupError(f"Unclosed end tag at byte offset {out.at(start)}")
            tag, attrs, begin = stack.pop()
            if name and name != tag:
                raise MarkupError(
                    f'Unmatched end tag at byte offset {out.at(start)}, expected "</{tag}>", found "</{name}>"'
                )
            _close_html(out, tag, attrs, begin)
            i = j + 1
            continue
        if j >= n:
            raise MarkupError(f"Unclosed start tag at byte offset {out.at(start)}")
        if name not in HTML_TAGS:
            raise MarkupError(f'Unsupported start tag "{name}" at byte offset {out.at(start)}')
        attrs, j = _attributes(text, j, name, out, start)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise MarkupError(f'Tag "span" must have class "tg-spoiler" at byte offset {out.at(start)}')
        stack.append((name, attrs, len(out.chars)))
        i = j + 1
    if stack:
        raise MarkupError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return out.result()


def _delimiter(text: str, i: int, v2: bool) -> tuple[str, str] | None:
    """The (entity type, delimiter) that starts at ``i``, if any."""
    if text.startswith("```", i):
        return "pre", "```"
    if v2 and text.startswith("__", i):
        return "underline", "__"
    if v2 and text.startswith("||", i):
        return "spoiler", "||"
    if v2 and text.startswith("![", i):
        return "custom_emoji", "!["
    kinds = {"*": "bold", "_": "italic", "`": "code", "[": "text_link"} | ({"~": "strikethrough"} if v2 else {})
    return (kinds[text[i]], text[i]) if text[i] in kinds else None


def _link_target(text: str, i: int, out: _Builder) -> tuple[str, int]:
    """The '(url)' after a link's ']' at ``i``: the url and the index after it ('' when there is none)."""
    if not text.startswith("(", i + 1):
        return "", i + 1
    end = text.find(")", i + 2)
    while end > 0 and text[end - 1] == "\\":
        end = text.find(")", end + 1)
    if end < 0:
        raise MarkupError(f"Can't find end of a URL at byte offset {out.at(i + 1)}")
    return text[i + 2 : end].replace("\\)", ")").replace("\\\\", "\\"), end + 1


def _parse_markdown(text: str, *, v2: bool) -> tuple[str, list[dict[str, Any]]]:
    out, i, n = _Builder(text), 0, len(text)
    stack: list[tuple[str, str, int, int]] = []  # open entities: type, delimiter, text begin, source index
    escapable = set("_*`[")  # MarkdownV2 escapes any character from 1 to 126
    while i < n:
        char, top = text[i], stack[-1] if stack else None
        if char == "\\" and i + 1 < n and (text[i + 1] in escapable or (v2 and 0 < ord(text[i + 1]) <= 126)):
            out.chars.append(text[i + 1])
            i += 2
            continue
        in_code = top is not None and top[0] in ("code", "pre")
        if top and text.startswith("]" if top[1] in ("[", "![") else top[1], i) and (not in_code or char == "`"):
            kind, _, begin, _ = stack.pop()
            if kind in ("text_link", "custom_emoji"):
                url, i = _link_target(text, i, out)
                if url and kind == "text_link":
                    out.add(kind, begin, url=url)
                elif kind == "custom_emoji":
                    out.add(kind, begin, custom_emoji_id=url.rpartition("id=")[2])
                continue
            out.add(kind, begin)
            i += len(top[1])
            continue
        found = None if in_code or (top and not v2) else _delimiter(text, i, v2)
        if found:
            kind, mark = found
            if v2 and any(entry[0] == kind for entry in stack):
                raise MarkupError(f"Can't find end of {_V2_NAMES[kind]} entity at byte offset {out.at(stack[-1][3])}")
            i += len(mark)
            language, newline, _ = text[i:].partition("\n")
            if kind == "pre" and newline and "```" not in language and " " not in language.strip():
                i += len(language) + 1  # the first line of a pre block names its language
            stack.append((kind, mark, len(out.chars), i - len(mark)))
            continue
        if v2 and not in_code and char in _V2_RESERVED and not (char == ">" and (i == 0 or text[i - 1] == "\n")):
            raise MarkupError(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        if not (v2 and char == ">" and not in_code and (i == 0 or text[i - 1] == "\n")):
            out.chars.append(char)
        i += 1
    if stack:
        kind, _, _, at = stack[-1]
        where = out.at(at)
        raise MarkupError(
            f"Can't find end of {_V2_NAMES[kind]} entity at byte offset {where}"
            if v2
            else f"Can't find end of the entity starting at byte offset {where}"
        )
    return out.result()
