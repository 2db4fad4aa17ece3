"""The assistant end to end: customers write through the real aiogram and slack-bolt adapters to the Telegram and
Slack sandboxes (which check every request against the official specs); the staff answer a hand-off in a
thread of the Slack staff channel. Run with the offline assistant and with the model (the real openai client on a
scripted transport that behaves like a sensible model)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp import web

from assistant.llm import OpenAIAssistant
from assistant.service import Assistant, AssistantConfig
from bots.inbound.acts import Inbound
from bots.slack.app import SlackBot, SlackConfig, build_slack
from bots.slack.channel import address
from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.app import add_webhook, build_bot, build_dispatcher, register_webhook
from bots.telegram.channel import TelegramChannel
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.ports import Channel, OutboundMessage, SendReceipt
from storage.models import Campaign, ChannelIdentity, Customer, Delivery
from tests.fakes.assistant_shop import BOB_SECRETS, knowledge, seed
from tests.fakes.openai_api import Answer, FakeOpenAI, calls, said

HOOK = "e2e-Hook_secret"
TEAM, STAFF_CHANNEL, STAFF_USER, SLACK_USER = "T0SHOP", "C0STAFF", "U0JO", "U0MIA"
MIA = 7001
RATES = {"telegram": 1000.0, "telegram/chat": 1000.0, "slack/chat": 1000.0}


def sensible_model(body: dict[str, Any]) -> Answer:
    """A scripted model that picks the tool the question needs, then answers from the tool's result only."""
    last = body["messages"][-1]
    if last["role"] == "tool":
        results = [json.loads(m["content"]) for m in body["messages"] if m["role"] == "tool"]
        result = results[-1]
        if "orders" in result:
            found = result["orders"]
            if not found:
                return said("I can't find that order among yours.")
            return said(" ".join(f"Order {o['order']} is {o['status']}." for o in found))
        if "products" in result:
            return said(
                "You might like: " + "; ".join(f"{p['name']} ({p['price']:.2f} USD)" for p in result["products"])
            )
        if "text" in result:
            return said(result["text"])
        return said("Someone from our team will answer you here shortly.")
    text = last["content"].casefold()
    if "person" in text or "human" in text:
        return calls(("hand_off", {"reason": "asked"}))
    if "recommend" in text:
        return calls(("recommend_products", {"count": 3}))
    if "return" in text:
        return calls(("shop_policy", {"topic": "returns"}))
    if "order" in text:
        reference = next((w.strip("?.#") for w in last["content"].split() if any(c.isdigit() for c in w)), None)
        return calls(("order_status", {"order": reference} if reference else {}))
    return said("How can I help?")


class Relayed:
    """The Telegram channel as the assistant uses it, noting each message it sent (what a test awaits)."""

    def __init__(self, inner: TelegramChannel) -> None:
        self.inner, self.name, self.limits = inner, inner.name, inner.limits
        self.sent: asyncio.Queue[OutboundMessage] = asyncio.Queue()

    async def send(self, message: OutboundMessage) -> SendReceipt:
        receipt = await self.inner.send(message)
        self.sent.put_nowait(message)
        return receipt


@dataclass
class World:
    """Both sandboxes, the bots wired to one engine, and the assistant."""

    telegram: TelegramSandbox
    slack: SlackSandbox
    bot: SlackBot
    assistant: Assistant
    shop_mia: int
    relayed: Relayed


@pytest.fixture(params=["offline", "model"])
async def world(
    request: pytest.FixtureRequest, database: str, telegram_sandbox: TelegramSandbox, slack_sandbox: SlackSandbox
) -> AsyncIterator[World]:
    shop = await seed()
    telegram, slack = telegram_sandbox, slack_sandbox
    token = slack.add_team(TEAM, name="Stride & Trail")
    slack.add_channel(TEAM, STAFF_CHANNEL, name="shop-staff")
    slack.add_user(TEAM, STAFF_USER, name="jo", real_name="Jo")
    slack.add_user(TEAM, SLACK_USER, name="mia", real_name="Mia")
    inbound = Inbound(None)
    config = SlackConfig(signing_secret=slack.signing_secret, bot_token=token, api_url=slack.base_url,
                         staff_channel=STAFF_CHANNEL)  # fmt: skip
    slack_bot = build_slack(config, inbound)
    tg_bot = build_bot(telegram.token, api_url=telegram.base_url, timeout=5)
    relayed = Relayed(TelegramChannel(tg_bot))
    channels: dict[str, Channel] = {"telegram": relayed, "slack": slack_bot.channel}
    model = None
    if request.param == "model":
        model = OpenAIAssistant(FakeOpenAI(default=sensible_model).client(), "gpt-4o-mini", shop="Stride & Trail")
    assistant = Assistant(
        knowledge(), model=model, staff=slack_bot.staff, channels=channels,
        config=AssistantConfig(shop_name="Stride & Trail", public_url="https://admin.shop.example"),
    )  # fmt: skip
    inbound.responder = assistant
    app = web.Application()
    add_webhook(app, tg_bot, build_dispatcher(inbound), HOOK)
    slack_bot.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    await register_webhook(tg_bot, f"{base}/telegram/webhook", HOOK)
    slack.app_url = f"{base}/slack/events"
    # Mia's Telegram chat and her Slack DM are both linked to her shop account
    await ChannelIdentity.create(customer_id=shop.mia, channel="slack", address=address(TEAM, SLACK_USER))
    await ChannelIdentity.filter(customer_id=shop.mia, channel="telegram").update(address=str(MIA))
    try:
        yield World(telegram, slack, slack_bot, assistant, shop.mia, relayed)
    finally:
        await runner.cleanup()
        await tg_bot.session.close()


async def telegram_asks(world: World, text: str) -> str:
    """Mia writes on Telegram (the webhook answers once the engine is done); the bot's latest message."""
    before = len(world.telegram.sent(MIA))
    await world.telegram.user_sends(MIA, text, first_name="Mia")
    sent = world.telegram.sent(MIA)
    assert len(sent) > before, f"no answer to {text!r}"
    return "\n".join(m.text or "" for m in sent[before:])


async def slack_asks(world: World, text: str) -> str:
    """Mia writes in the app's Slack DM (acknowledged first, answered after); the bot's answer."""
    before = len(world.slack.dm(TEAM, SLACK_USER))
    await world.slack.user_sends(TEAM, SLACK_USER, text)
    await world.slack.wait_for(lambda: len(world.slack.dm(TEAM, SLACK_USER)) > before, timeout=10)
    return "\n".join(m.text for m in world.slack.dm(TEAM, SLACK_USER)[before:])


async def test_orders_recommendations_and_returns_on_both_channels(world: World) -> None:
    for ask in (telegram_asks, slack_asks):
        mine = await ask(world, "Where is my order A1001?")
        assert "A1001" in mine and "shipped" in mine
        theirs = await ask(world, "what about order B2002?")
        assert "can't find" in theirs  # (the offline answer repeats the number the customer typed, no more)
        assert not any(secret in theirs for secret in BOB_SECRETS[1:])
        picks = await ask(world, "What do you recommend for me?")
        assert "Road Racer 5" in picks and "Trail Runner 2" not in picks and "Classic Jogger" not in picks
        returns = await ask(world, "Can I return shoes I ran in?")
        assert "run them in" in returns and "60 days" in returns


async def test_a_person_takes_over_and_their_thread_reply_reaches_the_customer(world: World) -> None:
    handed = await telegram_asks(world, "I want to talk to a person please")
    assert "person from our team" in handed or "team will answer" in handed
    await world.slack.wait_for(lambda: len(world.slack.messages(STAFF_CHANNEL)) == 1, timeout=10)
    (alert,) = world.slack.messages(STAFF_CHANNEL)
    assert "Hand-off: Mia Berg on telegram (asked for a person)" in alert.text
    assert alert.buttons()[0]["url"].endswith(f"/dashboard/conversations/{world.shop_mia}")
    # the customer writes again: the assistant is quiet, the thread hears it
    before = len(world.telegram.sent(MIA))
    await world.telegram.user_sends(MIA, "hello? anyone?", first_name="Mia")
    assert len(world.telegram.sent(MIA)) == before
    thread = lambda: [m for m in world.slack.transcripts[STAFF_CHANNEL] if m.thread_ts == alert.ts]  # noqa: E731
    await world.slack.wait_for(lambda: any("hello? anyone?" in m.text for m in thread()), timeout=10)
    await world.slack.thread_reply(TEAM, STAFF_USER, STAFF_CHANNEL, alert.ts, "Hi Mia, Jo here. How can I help?")
    relayed = await asyncio.wait_for(world.relayed.sent.get(), 10)
    assert relayed.address == str(MIA)
    assert world.telegram.sent(MIA)[-1].text == "Hi Mia, Jo here. How can I help?"
    await world.slack.thread_reply(TEAM, STAFF_USER, STAFF_CHANNEL, alert.ts, "done")
    await world.slack.wait_for(lambda: any("Handed back" in m.text for m in thread()), timeout=10)
    again = await telegram_asks(world, "Where is my order A1001?")
    assert "A1001" in again


async def test_stop_opts_out_confirms_and_no_campaign_message_follows(world: World) -> None:
    reply = await telegram_asks(world, "STOP")
    assert "unsubscribed" in reply
    mia = await Customer.get(id=world.shop_mia)
    assert mia.opted_out_at is not None
    campaign = await Campaign.create(key="later", name="Later", yaml="", yaml_hash="h", status="running")
    await Delivery.create(
        campaign=campaign, step="main", customer=mia, channel="telegram", address=str(MIA), status="queued",
        due_at=datetime.now(UTC), text="A new offer!",
    )  # fmt: skip
    before = len(world.telegram.sent(MIA))
    dispatcher = Dispatcher({"telegram": world.assistant.channels["telegram"]}, worker="e2e", rates=RATES)
    stats = await dispatcher.drain()
    assert stats.sent == 0 and len(world.telegram.sent(MIA)) == before
    assert (await Delivery.get(campaign=campaign)).status == "skipped"
