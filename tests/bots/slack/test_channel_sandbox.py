"""``SlackChannel`` through the real AsyncWebClient to the Slack sandbox: DMs, the DM cache, channels, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.blocks import BLOCKS_MAX, parse_value
from bots.slack.channel import SlackChannel, address, build_client, post_to_channel, shared_session
from bots.slack.sandbox.server import SlackSandbox
from campaigns.ports import (
    Button,
    Channel,
    ChannelUninstalled,
    OutboundMessage,
    PermanentChannelError,
    RateLimited,
    RecipientUnreachable,
    TransientChannelError,
)

TEAM = "T0SHOP"
ANN = "U0ANN0001"


@pytest.fixture
async def client(slack_sandbox: SlackSandbox) -> AsyncIterator[AsyncWebClient]:
    token = slack_sandbox.add_team(TEAM, "Sandbox Shop")
    slack_sandbox.add_user(TEAM, ANN)
    async with shared_session(timeout=5) as session:
        yield build_client(token, base_url=slack_sandbox.base_url, session=session)


@pytest.fixture
def channel(client: AsyncWebClient) -> SlackChannel:
    async def clients(team_id: str) -> AsyncWebClient:
        if team_id != TEAM:
            raise LookupError(team_id)
        return client

    return SlackChannel(clients)


def calls(sandbox: SlackSandbox, method: str) -> int:
    """How many times the app called ``method``."""
    return sum(1 for name, _ in sandbox.requests if name == method)


async def test_a_message_arrives_in_the_dm_with_its_buttons(slack_sandbox: SlackSandbox, channel: SlackChannel) -> None:
    assert isinstance(channel, Channel)
    buttons = (Button("Shop now", url="https://shop.example/spring"), Button("Stop", action="stop"))
    text = "Spring sale <!channel> & more"
    message = OutboundMessage(address(TEAM, ANN), text, buttons, "https://x.example/a.png", 7, "s1")
    receipt = await channel.send(message)
    (sent,) = slack_sandbox.dm(TEAM, ANN)
    assert receipt.message_id == f"{sent.channel}:{sent.ts}" and receipt.address == "T0SHOP:U0ANN0001"
    assert sent.text == "Spring sale &lt;!channel&gt; &amp; more"
    section, image, actions = sent.blocks
    assert section["text"]["text"] == "Spring sale &lt;!channel&gt; &amp; more"
    assert image["image_url"] == "https://x.example/a.png"
    assert [parse_value(b["value"]) for b in actions["elements"]] == [
        parse_value("7|s1|open"),
        parse_value("7|s1|stop"),
    ]


async def test_the_dm_is_opened_once_then_cached(slack_sandbox: SlackSandbox, channel: SlackChannel) -> None:
    for n in range(3):
        await channel.send(OutboundMessage(address(TEAM, ANN), f"message {n}"))
    assert calls(slack_sandbox, "conversations.open") == 1 and calls(slack_sandbox, "chat.postMessage") == 3
    assert [m.text for m in slack_sandbox.dm(TEAM, ANN)] == ["message 0", "message 1", "message 2"]


async def test_a_stale_cached_dm_is_dropped(slack_sandbox: SlackSandbox, channel: SlackChannel) -> None:
    await channel.send(OutboundMessage(address(TEAM, ANN), "hello"))
    slack_sandbox.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(TransientChannelError, match="reopened"):  # the DM we kept is gone, not the user
        await channel.send(OutboundMessage(address(TEAM, ANN), "again"))
    await channel.send(OutboundMessage(address(TEAM, ANN), "and again"))
    assert calls(slack_sandbox, "conversations.open") == 2  # opened afresh after the failure


async def test_a_long_text_fills_fifty_blocks(slack_sandbox: SlackSandbox, channel: SlackChannel) -> None:
    text = "\n\n".join("Paragraph & more. " * 150 for _ in range(60))
    await channel.send(OutboundMessage(address(TEAM, ANN), text, (Button("Go", action="buy"),), campaign_id=1))
    (sent,) = slack_sandbox.dm(TEAM, ANN)
    assert len(sent.blocks) == BLOCKS_MAX and sent.blocks[-2]["text"]["text"].endswith("…")


async def test_a_channel_address_posts_without_opening_a_dm(
    slack_sandbox: SlackSandbox, channel: SlackChannel, client: AsyncWebClient
) -> None:
    slack_sandbox.add_channel(TEAM, "C0STAFF01", "staff")
    receipt = await channel.send(OutboundMessage(address(TEAM, "C0STAFF01"), "to the channel"))
    message_id = await post_to_channel(client, "C0STAFF01", "Help <@U1>!", (Button("Open", url="https://x.example"),))
    first, second = slack_sandbox.messages("C0STAFF01")
    assert receipt.message_id == f"C0STAFF01:{first.ts}" and message_id == f"C0STAFF01:{second.ts}"
    assert second.blocks[0]["text"]["text"] == "Help &lt;@U1&gt;!"
    assert calls(slack_sandbox, "conversations.open") == 0


@pytest.mark.parametrize(
    ("failure", "error"),
    [
        ({"status": 429, "retry_after": 5}, RateLimited),
        ({"status": 503}, TransientChannelError),
        ({"error": "fatal_error"}, TransientChannelError),
        ({"error": "is_archived"}, RecipientUnreachable),
        ({"error": "invalid_blocks"}, PermanentChannelError),
    ],
)
async def test_failures_map_onto_the_error_tree(
    slack_sandbox: SlackSandbox, channel: SlackChannel, failure: dict[str, Any], error: type[Exception]
) -> None:
    slack_sandbox.fail_next("chat.postMessage", **failure)
    with pytest.raises(error) as info:
        await channel.send(OutboundMessage(address(TEAM, ANN), "hi"))
    assert type(info.value) is error
    if isinstance(info.value, RateLimited):
        assert info.value.retry_after == 5
    assert slack_sandbox.dm(TEAM, ANN) == []


async def test_unknown_deactivated_and_revoked(slack_sandbox: SlackSandbox, channel: SlackChannel) -> None:
    with pytest.raises(RecipientUnreachable, match="user_not_found"):
        await channel.send(OutboundMessage(address(TEAM, "U0NOBODY1"), "hi"))
    slack_sandbox.add_user(TEAM, "U0BOB0001")
    slack_sandbox.deactivate(TEAM, "U0BOB0001")
    with pytest.raises(RecipientUnreachable, match="user_disabled"):
        await channel.send(OutboundMessage(address(TEAM, "U0BOB0001"), "hi"))
    slack_sandbox.revoke(TEAM)
    with pytest.raises(ChannelUninstalled, match="account_inactive") as caught:  # the app's token, not Ann
        await channel.send(OutboundMessage(address(TEAM, ANN), "hi"))
    assert not isinstance(caught.value, RecipientUnreachable) and caught.value.scope == f"{TEAM}:"


async def test_an_installation_store_that_fails_is_transient() -> None:
    async def clients(team_id: str) -> AsyncWebClient:
        raise ConnectionRefusedError("the database is down")

    with pytest.raises(TransientChannelError, match="the database is down"):
        await SlackChannel(clients).send(OutboundMessage(address(TEAM, ANN), "hi"))


async def test_bad_addresses_and_unknown_workspaces_are_permanent(channel: SlackChannel) -> None:
    with pytest.raises(PermanentChannelError, match="address"):
        await channel.send(OutboundMessage("12345", "hi"))
    with pytest.raises(PermanentChannelError, match="not installed"):
        await channel.send(OutboundMessage(address("T0OTHER", ANN), "hi"))
    with pytest.raises(PermanentChannelError, match="empty"):
        await channel.send(OutboundMessage(address(TEAM, ANN), " "))


async def test_a_server_that_is_gone_is_transient() -> None:
    async with aiohttp.ClientSession() as session:
        client = build_client("xoxb-1", base_url="http://127.0.0.1:9/api/", session=session)

        async def clients(team_id: str) -> AsyncWebClient:
            return client

        with pytest.raises(TransientChannelError, match="Slack: Client"):
            await SlackChannel(clients).send(OutboundMessage(address(TEAM, ANN), "hi"))
