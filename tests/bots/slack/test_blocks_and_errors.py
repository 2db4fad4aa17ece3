"""Escaping, splitting, block and button limits, button values and error mapping: what keeps Slack from refusing."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError, SlackClientNotConnectedError, SlackRequestError
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from slack_sdk.web.slack_response import SlackResponse

from bots.slack.blocks import (
    ACTION_ID,
    BLOCKS_MAX,
    BUTTON_TEXT_MAX,
    ELLIPSIS,
    SECTION_MAX,
    TEXT_MAX,
    ButtonValue,
    escape,
    home_view,
    message_blocks,
    pack_value,
    parse_value,
    split,
)
from bots.slack.channel import address, build_client, parse_address
from bots.slack.errors import TOKEN_REFUSED, channel_error, error_code
from campaigns.ports import (
    Button,
    ChannelUninstalled,
    DeliveryUncertain,
    PermanentChannelError,
    RateLimited,
    RecipientUnreachable,
    TransientChannelError,
)


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    """The mrkdwn text of each section block."""
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_escape_turns_links_mentions_and_commands_into_text() -> None:
    assert escape("<!channel> hi <@U1> & <https://evil.example|click>") == (
        "&lt;!channel&gt; hi &lt;@U1&gt; &amp; &lt;https://evil.example|click&gt;"
    )
    assert escape("*bold* _it_ ~s~ `c` :tada: @here") == "*bold* _it_ ~s~ `c` :tada: @here"
    assert escape("&amp;") == "&amp;amp;"


def test_sections_are_escaped_and_verbatim() -> None:
    blocks, fallback = message_blocks("Hi <@U1> & <!here>")
    assert blocks == [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Hi &lt;@U1&gt; &amp; &lt;!here&gt;", "verbatim": True}}
    ]
    assert fallback == "Hi &lt;@U1&gt; &amp; &lt;!here&gt;"  # the notification text is mrkdwn as well


def test_split_counts_the_escaped_length() -> None:
    text = "&" * 1000  # 1,000 characters, 5,000 once escaped
    pieces = split(text)
    assert [len(escape(p)) for p in pieces] == [3000, 2000]
    assert "".join(pieces) == text
    blocks, _ = message_blocks("<" * SECTION_MAX)
    assert [len(t) for t in texts(blocks)] == [3000, 3000, 3000, 3000]


def test_split_cuts_at_paragraphs_then_lines_then_sentences_then_words() -> None:
    para = "x" * 2000
    assert split(f"{para}\n\n{para}") == [para, para]
    assert split(f"{para}\n{para}") == [para, para]
    sentence = ("word " * 300).strip() + "."
    pieces = split(" ".join([sentence] * 4))
    assert all(len(p) <= SECTION_MAX and p.endswith(".") for p in pieces)
    words = ("abc " * 2000).strip()
    pieces = split(words)
    assert all(len(p) <= SECTION_MAX for p in pieces) and " ".join(pieces) == words
    assert [len(p) for p in split("z" * 7000)] == [3000, 3000, 1000]
    assert split("  short  ") == ["short"] and split(" \n ") == []


def test_text_over_fifty_blocks_is_shortened_with_an_ellipsis() -> None:
    text = "\n\n".join(f"Paragraph {n} " + "y" * 2900 for n in range(60))
    blocks, fallback = message_blocks(text, (Button("Go", action="buy"),), "https://shop.example/a.png", 1, "s")
    assert len(blocks) == BLOCKS_MAX
    assert [b["type"] for b in blocks[-2:]] == ["image", "actions"]
    sections = texts(blocks)
    assert len(sections) == BLOCKS_MAX - 2 and sections[-1].endswith(ELLIPSIS)
    assert all(len(t) <= SECTION_MAX for t in sections)
    assert len(fallback) <= TEXT_MAX and fallback.endswith(ELLIPSIS)


def test_an_image_carries_its_alt_text_within_slacks_limit() -> None:
    blocks, _ = message_blocks("Sale", (), "https://shop.example/a.png", 1, "s", "Red shoes & a bag")
    assert blocks[-1] == {"type": "image", "image_url": "https://shop.example/a.png", "alt_text": "Red shoes & a bag"}
    blocks, _ = message_blocks("Sale", image_url="https://shop.example/a.png", image_alt="word " * 500)
    assert len(blocks[-1]["alt_text"]) <= 2000 and blocks[-1]["alt_text"].endswith(ELLIPSIS)
    assert message_blocks("", image_url="https://x.example/i.png", image_alt="Red shoes")[1] == "Red shoes"


def test_fallback_is_at_most_forty_thousand_characters_escaped() -> None:
    _, fallback = message_blocks("a & b " * 10_000)
    assert len(fallback) <= TEXT_MAX and fallback.endswith(ELLIPSIS) and "&amp;" in fallback
    assert message_blocks("", (Button("Open", url="https://x.example"),))[1] == "Open"
    assert message_blocks("", image_url="https://x.example/i.png")[1] == "Image"
    with pytest.raises(PermanentChannelError, match="empty"):
        message_blocks("  ")


def test_buttons_carry_campaign_step_and_action() -> None:
    buttons = (Button("Shop now", url="https://shop.example/x"), Button("Not for me", action="stop"))
    blocks, _ = message_blocks("Sale!", buttons, None, 42, "launch")
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    url, stop = actions["elements"]
    assert url["url"] == "https://shop.example/x" and url["action_id"] == "cc:open:0"
    assert parse_value(url["value"]) == ButtonValue("42", "launch", "open")
    assert stop["action_id"] == "cc:stop:1" and "url" not in stop
    assert parse_value(stop["value"]) == ButtonValue("42", "launch", "stop")
    assert all(ACTION_ID.match(e["action_id"]) for e in actions["elements"])
    assert stop["text"] == {"type": "plain_text", "text": "Not for me", "emoji": True}


def test_button_text_is_shortened_to_seventy_five_characters() -> None:
    blocks, _ = message_blocks("x", (Button("word " * 30, action="buy"),))
    label = blocks[-1]["elements"][0]["text"]["text"]
    assert len(label) <= BUTTON_TEXT_MAX and label.endswith(ELLIPSIS)


def test_more_than_twenty_five_buttons_take_more_actions_blocks() -> None:
    blocks, _ = message_blocks("x", tuple(Button(f"b{n}", action="a") for n in range(30)))
    assert [len(b["elements"]) for b in blocks if b["type"] == "actions"] == [25, 5]
    ids = [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert len(set(ids)) == 30


def test_values_round_trip_and_foreign_values_are_not_ours() -> None:
    assert parse_value(pack_value(7, "s1", "buy")) == ButtonValue("7", "s1", "buy")
    assert parse_value(pack_value(None, None, None)) == ButtonValue("", "", "open")
    for foreign in (None, "", "click_me_123", "a|b", "x|s|buy", "1|s|", "1|s|a|b", "²|s|buy", "1|" + "s" * 2000 + "|a"):
        assert parse_value(foreign) is None


@pytest.mark.parametrize(("step", "action"), [("a|b", "buy"), ("s", "b|uy"), ("s" * 2000, "buy")])
def test_values_that_would_not_round_trip_are_refused(step: str, action: str) -> None:
    with pytest.raises(PermanentChannelError, match="button"):
        message_blocks("x", (Button("Go", action=action),), None, 1, step)


def test_over_long_urls_and_actions_are_refused() -> None:
    with pytest.raises(PermanentChannelError, match="URL"):
        message_blocks("x", (Button("Go", url="https://x.example/" + "a" * 3000),))
    with pytest.raises(PermanentChannelError, match="image URL"):
        message_blocks("x", image_url="https://x.example/" + "a" * 3000)
    with pytest.raises(PermanentChannelError, match="action"):
        message_blocks("x", (Button("Go", action="a" * 251),))


@pytest.mark.parametrize(
    ("subscribed", "label", "action"), [(True, "Unsubscribe", "stop"), (False, "Subscribe", "start")]
)
def test_home_view_shows_the_state_and_the_button_that_changes_it(subscribed: bool, label: str, action: str) -> None:
    view = home_view(subscribed, "Shop <b>", "Welcome & hello")
    assert view["type"] == "home"
    header, intro, state, actions = view["blocks"]
    assert header["text"]["text"] == "Shop <b>" and header["text"]["type"] == "plain_text"
    assert intro["text"]["text"] == "Welcome &amp; hello"
    assert ("not subscribed" in state["text"]["text"]) is not subscribed
    (element,) = actions["elements"]
    assert element["text"]["text"] == label and ACTION_ID.match(element["action_id"])
    assert parse_value(element["value"]) == ButtonValue("", "", action)
    assert len(home_view(False, "", "x" * 400_000)["blocks"]) == 100


def test_addresses() -> None:
    assert address("T1", "U2") == "T1:U2"
    assert parse_address("T1:U2") == ("T1", "U2")
    assert parse_address("E0ABC:C09XYZ") == ("E0ABC", "C09XYZ")
    for bad in ("", "U2", "T1:", ":U2", "T1:U2:X", "t1:u2", "T1: U2", "123456"):
        with pytest.raises(PermanentChannelError, match="address"):
            parse_address(bad)


def api_error(status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> SlackApiError:
    """The SlackApiError AsyncWebClient raises for this answer (its ``validate()``), from a real response."""
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url="https://slack.com/api/chat.postMessage",
        req_args={},
        data=body if body is not None else {},
        headers=headers or {},
        status_code=status,
    )
    with pytest.raises(SlackApiError) as info:
        response.validate()
    return info.value


def test_rate_limits_carry_retry_after() -> None:
    error = channel_error(api_error(429, {"ok": False, "error": "ratelimited"}, {"retry-after": "30"}))
    assert isinstance(error, RateLimited) and error.retry_after == 30
    error = channel_error(api_error(429, None, {"Retry-After": "7"}))  # no JSON body at all
    assert isinstance(error, RateLimited) and error.retry_after == 7
    error = channel_error(api_error(429, {"ok": False, "error": "ratelimited"}))
    assert isinstance(error, RateLimited) and error.retry_after == 1
    error = channel_error(api_error(200, {"ok": False, "error": "rate_limited"}, {"Retry-After": "soon"}))
    assert isinstance(error, RateLimited) and error.retry_after == 1


@pytest.mark.parametrize(
    "code",
    [
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
    ],
)
def test_unreachable_recipients(code: str) -> None:
    error = channel_error(api_error(200, {"ok": False, "error": code}))
    assert isinstance(error, RecipientUnreachable) and code in str(error)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (200, "internal_error"),
        (200, "fatal_error"),
        (200, "service_unavailable"),
        (200, "request_timeout"),
        (500, None),
        (502, None),
        (503, "service_unavailable"),
    ],
)
def test_server_trouble_is_transient(status: int, code: str | None) -> None:
    body = {"ok": False, "error": code} if code else None
    error = channel_error(api_error(status, body))
    assert type(error) is TransientChannelError and (code or f"HTTP {status}") in str(error)


@pytest.mark.parametrize("code", sorted(TOKEN_REFUSED))
def test_a_refused_token_is_the_workspaces_problem(code: str) -> None:
    error = channel_error(api_error(200, {"ok": False, "error": code}))
    assert type(error) is PermanentChannelError  # no workspace named (a staff alert): the call just failed
    assert f"workspace's bot token was refused ({code})" in str(error)
    # a send to a workspace's user: that workspace no longer has the app, parked (no customer left anything)
    parked = channel_error(api_error(200, {"ok": False, "error": code}), "T0SHOP")
    assert type(parked) is ChannelUninstalled and not isinstance(parked, RecipientUnreachable)
    assert (parked.workspace, parked.scope, parked.reason) == (":T0SHOP", "T0SHOP:", code)
    assert f"workspace's bot token was refused ({code}): reinstall the app" in str(parked)


@pytest.mark.parametrize("code", ["user_not_found", "user_disabled"])
def test_a_user_gone_is_no_uninstall(code: str) -> None:
    error = channel_error(api_error(200, {"ok": False, "error": code}), "T0SHOP")
    assert type(error) is RecipientUnreachable and error.gone is (code == "user_disabled")


@pytest.mark.parametrize("code", ["invalid_blocks", "msg_too_long", "no_text", "something_new"])
def test_other_api_errors_are_permanent_and_name_the_code(code: str) -> None:
    error = channel_error(api_error(200, {"ok": False, "error": code}))
    assert type(error) is PermanentChannelError and code in str(error)
    assert error_code(api_error(200, {"ok": False, "error": code})) == code


def test_a_non_json_answer_keeps_its_http_status() -> None:
    class Raw:  # what slack_sdk passes when the body was not JSON: aiohttp's response (status, headers)
        def __init__(self, status: int) -> None:
            self.status, self.headers = status, {"Retry-After": "2"}

    assert type(channel_error(SlackApiError("not JSON", Raw(503)))) is TransientChannelError
    error = channel_error(SlackApiError("not JSON", Raw(429)))
    assert isinstance(error, RateLimited) and error.retry_after == 2
    assert error_code(SlackApiError("not JSON", Raw(200))) is None


def test_a_sync_slack_response_maps_alike() -> None:
    response = SlackResponse(
        client=None, http_verb="POST", api_url="x", req_args={}, data={"ok": False, "error": "user_disabled"},
        headers={}, status_code=200,
    )  # fmt: skip
    assert isinstance(channel_error(SlackApiError("failed", response)), RecipientUnreachable)


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.ClientConnectionError("refused"),
        OSError("network down"),
        SlackClientNotConnectedError("closed"),
        RuntimeError("something unexpected"),
    ],
)
def test_network_failures_before_sending_are_transient(exc: Exception) -> None:
    assert type(channel_error(exc)) is TransientChannelError


@pytest.mark.parametrize(
    "exc", [aiohttp.ServerDisconnectedError(), aiohttp.ServerTimeoutError(), TimeoutError(), ConnectionResetError()]
)
def test_failures_after_sending_are_uncertain_and_never_retried(exc: Exception) -> None:
    assert type(channel_error(exc)) is DeliveryUncertain


def test_requests_the_sdk_refuses_are_permanent() -> None:
    error = channel_error(SlackRequestError("Either channel or users must be provided."))
    assert type(error) is PermanentChannelError and "SlackRequestError" in str(error)
    already = RateLimited(3)
    assert channel_error(already) is already


async def test_build_client_never_retries_by_itself() -> None:
    client = build_client("xoxb-1", base_url="http://127.0.0.1:1/api", timeout=2.5)
    assert client.retry_handlers == [] and client.base_url == "http://127.0.0.1:1/api/" and client.timeout == 3
    assert build_client(None).base_url == "https://slack.com/api/"
