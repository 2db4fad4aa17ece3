"""Values from data written into Slack mrkdwn: Slack shows them as they are, markers and all, with nothing formatted."""

from __future__ import annotations

import pytest

from bots.slack.blocks import message_blocks
from bots.slack.mrkdwn import LOOKALIKES, plain
from bots.slack.sandbox.formatting import Span, message_spans, spans


@pytest.mark.parametrize(
    "value",
    ["*Pro*", "_x_", "~y~", "`z`", "*Pro* _x_ ~y~ `z`", "```block```", "**twice**", "_*both*_", "\uff0abold\uff0a"],
)
def test_no_value_formats_and_each_marker_keeps_its_place(value: str) -> None:
    shown = plain(value)
    assert spans(shown) == [] and spans(f"*Deal:* {shown} today") == [Span("bold", "Deal:")]
    assert len(shown) == len(value)  # one look-alike for one marker: Slack's limits count the same
    assert all(a == b or LOOKALIKES[a] == b for a, b in zip(value, shown, strict=True))


def test_markers_inside_words_and_urls_are_left_for_copying() -> None:
    value = "Code SAVE_20, size 2*3, see https://shop.example/p/_pro_?a=*b*~c or mailto:a_b_@x.example"
    assert plain(value) == value and spans(value) == []
    edge = "_SAVE_ https://shop.example/_x_ *x*"
    assert plain(edge) == "\u02cdSAVE\u02cd https://shop.example/_x_ \u2217x\u2217"


def test_text_without_markers_is_returned_as_it_is() -> None:
    text = "Hello & welcome <3"
    assert plain(text) is text


def test_the_sandbox_reads_formatting_as_slack_does() -> None:
    assert spans("*bold* _it_ ~gone~ `code`") == [
        Span("bold", "bold"), Span("italic", "it"), Span("strike", "gone"), Span("code", "code"),
    ]  # fmt: skip
    assert spans("*_both_*") == [Span("bold", "_both_"), Span("italic", "both")]
    assert spans("`*not bold*` *bold*") == [Span("code", "*not bold*"), Span("bold", "bold")]
    for plain_text in ("a * b * c", "* x*", "*x *", "*x\ny*", "snake_case_name", "2*3*4", "**"):
        assert spans(plain_text) == [], plain_text


def test_a_campaign_message_keeps_the_templates_formatting_only() -> None:
    text = f"*20% off* the {plain('*Pro* _x_ ~y~ `z`')} & more"
    blocks, fallback = message_blocks(text)
    assert message_spans(blocks) == [Span("bold", "20% off")]
    assert "&amp; more" in blocks[0]["text"]["text"] and fallback.endswith("&amp; more")
