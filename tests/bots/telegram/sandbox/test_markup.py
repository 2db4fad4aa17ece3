"""The sandbox parses Telegram's markup as the Bot API does: plain text, UTF-16 entities, Telegram's errors."""

from __future__ import annotations

import pytest

from bots.telegram.sandbox.markup import MarkupError, parse


def test_html_gives_plain_text_and_utf16_entities() -> None:
    text, entities = parse('😀 <b>Sale <i>now</i></b> <a href="https://x.example/?a=1&amp;b=2">shop</a> &lt;3', "HTML")
    assert text == "😀 Sale now shop <3"
    assert entities == [
        {"type": "bold", "offset": 3, "length": 8},
        {"type": "italic", "offset": 8, "length": 3},
        {"type": "text_link", "offset": 12, "length": 4, "url": "https://x.example/?a=1&b=2"},
    ]


def test_html_pre_code_spoiler_and_bare_ampersand() -> None:
    text, entities = parse(
        '<pre><code class="language-python">x = 1</code></pre> <span class="tg-spoiler">s</span> A & B', "HTML"
    )
    assert text == "x = 1 s A & B"  # a lone '&' is text to Telegram, not an error
    assert entities == [
        {"type": "pre", "offset": 0, "length": 5, "language": "python"},
        {"type": "spoiler", "offset": 6, "length": 1},
    ]


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("price < 5", 'Unsupported start tag "" at byte offset 6'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_malformed_html_fails_in_telegrams_words(html: str, error: str) -> None:
    with pytest.raises(MarkupError) as caught:
        parse(html, "HTML")
    assert str(caught.value) == error


def test_markdown_v2_entities_escapes_and_links() -> None:
    text, entities = parse(
        r"*Sale* _now_ __u__ ~old~ ||s|| `c` [shop](https://x.example/a\)b) 20\% off\!", "MarkdownV2"
    )
    assert text == "Sale now u old s c shop 20% off!"
    assert [e["type"] for e in entities] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]
    assert entities[-1]["url"] == "https://x.example/a)b"


@pytest.mark.parametrize(
    ("markdown", "error"),
    [
        ("Only 5.99!", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of Bold entity at byte offset 0"),
    ],
)
def test_malformed_markdown_v2(markdown: str, error: str) -> None:
    with pytest.raises(
        MarkupError, match="^" + error.replace("\\", "\\\\").replace(".", "\\.").replace("*", "\\*") + "$"
    ):
        parse(markdown, "MarkdownV2")


def test_legacy_markdown_and_no_parse_mode() -> None:
    assert parse("*b* [l](https://x.example)", "Markdown") == (
        "b l",
        [
            {"type": "bold", "offset": 0, "length": 1},
            {"type": "text_link", "offset": 2, "length": 1, "url": "https://x.example"},
        ],
    )
    with pytest.raises(MarkupError, match="Can't find end of the entity starting at byte offset 5"):
        parse("snake_case", "Markdown")
    assert parse("<b>as is</b>", None) == ("<b>as is</b>", [])
    with pytest.raises(ValueError, match="unsupported parse_mode"):
        parse("x", "BBCode")
