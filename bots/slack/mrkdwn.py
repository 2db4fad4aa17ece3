"""Text that is data (a product's or a customer's name, an offer, a whole plain-text reply) written into Slack
mrkdwn so that Slack shows it as it is, not formatted.

Slack's mrkdwn has no escape: a backslash shows and still formats (slack-api-docs issues 34 and 93), so a product
called ``*Pro*`` would turn bold, ``_x_`` italic, ``~y~`` struck and a backtick into code wherever the value lands
in a message. Each such marker in a value becomes a look-alike that Slack's parser does not know: ``*`` the
asterisk operator U+2217, ``_`` the modifier letter low macron U+02CD, ``~`` the tilde operator U+223C, a backtick
the modifier letter grave accent U+02CB, and the full-width asterisk, low line and grave accent (U+FF0A, U+FF3F,
U+FF40), which Slack reads as markers too, the small asterisk U+FE61, U+02CD and U+02CB: the characters of
jsx-slack's ``<Escape>`` where it cannot use a date token. A look-alike can never pair into formatting, keeps the
text's length (Slack's limits and our splitting count the same characters) and shows as what it is in a preview.

A zero-width character beside the marker is no escape in Slack: it reads U+200B as a word boundary, which is why
converters insert one to *force* formatting inside words (jsx-slack's exact mode, slackify-markdown), so a
``*`` next to one may open rather than not. An invisible character inside a name or a code would also break
copying and searching it without a trace. Slack's date-token fallback (``<!date^0^{_}|*>``) is exact, but it is
``<…>`` syntax our ``&``/``<``/``>`` escaping must not touch and twenty characters a marker.

Left as they are: a marker between two letters or digits (``SAVE_20``, ``2*3``), where Slack never opens or closes
formatting, so codes and SKUs copy exactly; and URLs, whose every character is the address.
"""

from __future__ import annotations

import re

LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
LOOKALIKES |= {"\uff0a": "\ufe61", "\uff3f": "\u02cd", "\uff40": "\u02cb"}  # the full-width markers
_INERT_IN_WORDS = frozenset("*_~")  # Slack formats with these only at a word's edge
_URL = re.compile(r"(?:https?|mailto):[^\s<>]+")


def _neutral(text: str) -> str:
    out = list(text)
    for i, char in enumerate(text):
        if char not in LOOKALIKES:
            continue
        inside = 0 < i < len(text) - 1 and text[i - 1].isalnum() and text[i + 1].isalnum()
        if not (inside and char in _INERT_IN_WORDS):
            out[i] = LOOKALIKES[char]
    return "".join(out)


def plain(text: str) -> str:
    """``text`` that Slack shows as it is: its formatting markers as look-alikes, but inside words and in URLs."""
    if not any(char in LOOKALIKES for char in text):
        return text
    parts, at = [], 0
    for url in _URL.finditer(text):
        parts += [_neutral(text[at : url.start()]), url[0]]
        at = url.end()
    parts.append(_neutral(text[at:]))
    return "".join(parts)
