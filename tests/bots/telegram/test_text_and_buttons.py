"""Splitting, escaping and button data: the rules that keep Telegram from ever rejecting a message."""

from __future__ import annotations

import pytest

from bots.telegram.buttons import Action, keyboard, pack
from bots.telegram.text import CAPTION_MAX, TEXT_MAX, escape, split, with_caption
from campaigns.ports import Button, PermanentChannelError


def test_escape_keeps_what_the_customer_sees() -> None:
    assert escape("5 < 6 & <b>bold</b>") == "5 &lt; 6 &amp; &lt;b&gt;bold&lt;/b&gt;"


def test_short_text_is_one_piece() -> None:
    assert split("  Hello there.  ") == ["Hello there."]
    assert split("") == []


def test_long_text_splits_at_paragraphs_then_lines_then_sentences_then_words() -> None:
    para = "x" * 3000
    assert split(f"{para}\n\n{para}") == [para, para]
    line = "y" * 3000
    assert split(f"{line}\n{line}") == [line, line]
    sentence = ("word " * 500).strip() + "."
    pieces = split(" ".join([sentence] * 3))
    assert all(len(p) <= TEXT_MAX for p in pieces) and pieces[0].endswith(".")
    words = ("abc " * 3000).strip()
    pieces = split(words)
    assert all(len(p) <= TEXT_MAX for p in pieces) and " ".join(pieces) == words


def test_text_without_breaks_is_cut_hard() -> None:
    pieces = split("z" * 10_000)
    assert [len(p) for p in pieces] == [4096, 4096, 1808]


def test_a_long_caption_moves_the_rest_into_messages() -> None:
    text = "Intro sentence. " * 100
    caption, rest = with_caption(text)
    assert len(caption) <= CAPTION_MAX and rest
    assert " ".join([caption, *rest]) == text.strip()
    assert with_caption("short") == ("short", [])


def test_button_data_names_campaign_step_and_action() -> None:
    data = pack(Button("Shop now", action="buy"), 42, "launch")
    assert Action.unpack(data) == Action(campaign=42, step="launch", action="buy")
    assert len(data.encode()) <= 64


@pytest.mark.parametrize("step", ["s" * 70, "é" * 40, "a:b"])
def test_button_data_over_64_bytes_or_with_separators_is_refused_before_sending(step: str) -> None:
    with pytest.raises(PermanentChannelError, match="button 'Go'"):
        pack(Button("Go", action="buy"), 1, step)


def test_keyboard_has_url_and_callback_buttons() -> None:
    markup = keyboard((Button("Open", url="https://shop.example/x"), Button("Stop", action="stop")), 3, "s1")
    assert markup is not None
    (url,), (stop,) = markup.inline_keyboard
    assert url.url == "https://shop.example/x" and url.callback_data is None
    assert stop.callback_data == "a:3:s1:stop"
    assert keyboard((), 1, "s") is None
