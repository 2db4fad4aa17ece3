"""Blocked means gone, through the real engine on SQLite and PostgreSQL: customers subscribe through the real
aiogram webhook and slack-bolt app, block the bot (Telegram's 403) or lose their account (Slack's user_disabled)
in the sandboxes, and a send finds out: they are opted out with an event, their other rows are skipped and their
journeys end; /start or App Home's Subscribe brings them back with new consent. A workspace uninstalling the app
(account_inactive) is none of that: its rows are parked (skipped, workspace_uninstalled) and nobody's consent
changes (tests/campaigns/delivery/test_uninstall.py has the whole story)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient

from bots.inbound.acts import Inbound
from bots.slack.app import SlackBot, SlackConfig, build_slack
from bots.slack.channel import SlackChannel, address, build_client, shared_session
from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.app import add_webhook, build_bot, build_dispatcher, register_webhook
from bots.telegram.channel import TelegramChannel
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns import launch
from campaigns.content.writer import CopyWriter
from campaigns.delivery.dispatcher import Dispatcher, DispatchStats
from campaigns.ports import Channel, OutboundMessage, PermanentChannelError, RecipientUnreachable
from campaigns.timing.followups import sweep
from segments.definitions import parse
from storage.installations import PARKED
from storage.models import ChannelIdentity, Customer, Delivery, Event
from tests.fakes.slack_app import serve, subscribed

DEFS = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
RATES = {"telegram": 1000.0, "telegram/chat": 1000.0, "slack/chat": 1000.0}
HOOK, TEAM = "hook-Secret_1", "T0SHOP"
CAMPAIGN = """\
id: KEY
name: KEY
channels: [CHANNEL]
message:
  brief: The new spring colours are in.
  template: 'Hi {{ customer.first_name }}: the new spring colours are in. {{ unsubscribe }}'
follow_ups:
  - id: reminder
    after: 2d
    when: [not_clicked]
    message: {brief: A reminder., template: 'Still looking? The spring colours are in. {{ unsubscribe }}'}
"""


def campaign_file(tmp_path: Path, key: str, channel: str = "telegram") -> Path:
    path = tmp_path / f"{key}.yaml"
    path.write_text(CAMPAIGN.replace("KEY", key).replace("CHANNEL", channel), encoding="utf-8")
    return path


async def prepared(path: Path) -> launch.Prepared:
    return await launch.prepare(path, DEFS, CopyWriter(None), as_of=datetime.now(UTC))


async def send(channels: dict[str, Channel], campaign_id: int) -> DispatchStats:
    await launch.set_status(campaign_id, "running")
    return await Dispatcher(channels, worker="t", rates=RATES).drain()


async def rows(campaign_id: int) -> dict[int, tuple[str, str | None]]:
    return {d.customer_id: (d.status, d.note) for d in await Delivery.filter(campaign_id=campaign_id)}


@dataclass
class Telegram:
    sandbox: TelegramSandbox
    bot: Bot


@pytest.fixture
async def telegram(database: str, telegram_sandbox: TelegramSandbox) -> AsyncIterator[Telegram]:
    """The Bot API sandbox, and the bot's webhook (the real engine behind it) on 127.0.0.1."""
    bot = build_bot(telegram_sandbox.token, api_url=telegram_sandbox.base_url, timeout=5)
    app = web.Application()
    add_webhook(app, bot, build_dispatcher(Inbound(None)), HOOK)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await register_webhook(bot, f"http://127.0.0.1:{runner.addresses[0][1]}/telegram/webhook", HOOK)
    try:
        yield Telegram(telegram_sandbox, bot)
    finally:
        await runner.cleanup()
        await bot.session.close()


async def telegram_customer(chat: int) -> Customer:
    return (await ChannelIdentity.get(channel="telegram", address=str(chat)).prefetch_related("customer")).customer


async def test_a_customer_who_blocks_the_bot_is_opted_out_and_comes_back_with_start(
    telegram: Telegram, tmp_path: Path
) -> None:
    sandbox, channels = telegram.sandbox, {"telegram": TelegramChannel(telegram.bot)}
    for chat, name in ((3001, "Ann"), (3002, "Ben")):
        await sandbox.user_sends(chat, "/start", first_name=name)
    ann, ben = await telegram_customer(3001), await telegram_customer(3002)
    spring = await prepared(campaign_file(tmp_path, "spring"))
    assert (await send(channels, spring.campaign_id)).sent == 2

    sandbox.block(3001)  # Ann blocks the bot; nobody knows until the next send
    flash = await prepared(campaign_file(tmp_path, "flash"))
    later = await prepared(campaign_file(tmp_path, "later"))  # planned and written, not started yet
    stats = await send(channels, flash.campaign_id)
    assert stats.sent == 1 and stats.skipped == 2  # her row here, and her row of the campaign not started
    assert await rows(flash.campaign_id) == {ann.id: ("skipped", "blocked"), ben.id: ("sent", None)}
    assert await rows(later.campaign_id) == {ann.id: ("skipped", "blocked"), ben.id: ("queued", None)}
    gone = await telegram_customer(3001)
    assert not subscribed(gone) and gone.consent_source == "telegram:blocked"
    identity = await ChannelIdentity.get(address="3001")
    assert not identity.reachable and "blocked by the user" in (identity.last_error or "")
    (event,) = await Event.filter(type="opted_out", customer_id=ann.id)
    assert event.data["reason"] == "blocked" and event.data["channel"] == "telegram" and event.campaign_id is None
    assert event.delivery_id == (await Delivery.get(campaign_id=flash.campaign_id, customer_id=ann.id)).id

    # her journey ends: the spring reminder (not clicked, two days on) goes to Ben only
    in_three_days = datetime.now(UTC) + timedelta(days=3)
    assert (await sweep(spring.campaign, spring.campaign_id, now=in_three_days)).planned == {"reminder": 1}
    assert {d.customer_id for d in await Delivery.filter(campaign_id=spring.campaign_id, step="reminder")} == {ben.id}

    # she comes back with /start: new consent, an event that says after what, the chat reachable again
    await sandbox.user_sends(3001, "/start", first_name="Ann")
    back = await telegram_customer(3001)
    assert subscribed(back) and back.consent_source == "telegram:start" and back.opted_out_at is None
    assert back.opted_in_at is not None and gone.opted_out_at is not None and back.opted_in_at > gone.opted_out_at
    assert (await ChannelIdentity.get(address="3001")).reachable
    opted_in = await Event.filter(type="opted_in", customer_id=ann.id).order_by("id")
    assert len(opted_in) == 2 and opted_in[-1].data["after"] == "telegram:blocked" and "after" not in opted_in[0].data
    assert "news and offers" in (sandbox.sent(3001)[-1].text or "")
    # the old journey stays ended; a new campaign reaches her
    await sweep(spring.campaign, spring.campaign_id, now=in_three_days + timedelta(hours=1))
    assert not await Delivery.filter(campaign_id=spring.campaign_id, step="reminder", customer_id=ann.id).exists()
    summer = await prepared(campaign_file(tmp_path, "summer"))
    assert (await send(channels, summer.campaign_id)).sent == 2
    assert "spring colours" in (sandbox.sent(3001)[-1].text or "")


@pytest.fixture
async def slack(database: str, slack_sandbox: SlackSandbox) -> AsyncIterator[tuple[SlackSandbox, SlackBot]]:
    """The Slack sandbox and the real bolt app (the engine behind it), serving HTTP on 127.0.0.1."""
    token = slack_sandbox.add_team(TEAM, name="Shop Customers")
    config = SlackConfig(
        signing_secret=slack_sandbox.signing_secret, bot_token=token, api_url=slack_sandbox.base_url, shop_name="Shop"
    )
    bot = build_slack(config, Inbound(None))
    runner = await serve(bot, slack_sandbox)
    try:
        yield slack_sandbox, bot
    finally:
        await runner.cleanup()


async def slack_customer(user: str) -> Customer:
    identity = await ChannelIdentity.get(channel="slack", address=address(TEAM, user)).prefetch_related("customer")
    return identity.customer


def _buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"] if e["type"] == "button"]


async def test_a_deactivated_slack_account_is_opted_out_and_app_home_subscribes_again(
    slack: tuple[SlackSandbox, SlackBot], tmp_path: Path
) -> None:
    sandbox, bot = slack
    channels: dict[str, Channel] = {"slack": bot.channel}
    for user in ("U0ANN", "U0BEN"):
        sandbox.add_user(TEAM, user, name=user.lower())
        await sandbox.slash_command(TEAM, user, "/shop", "subscribe")
    await sandbox.wait_for(lambda: len(sandbox.responses) == 2, timeout=10)
    ann, ben = await slack_customer("U0ANN"), await slack_customer("U0BEN")

    sandbox.deactivate(TEAM, "U0ANN")  # conversations.open answers user_disabled
    first = await prepared(campaign_file(tmp_path, "first", "slack"))
    assert (await send(channels, first.campaign_id)).sent == 1
    assert await rows(first.campaign_id) == {ann.id: ("skipped", "deactivated"), ben.id: ("sent", None)}
    gone = await slack_customer("U0ANN")
    assert not subscribed(gone) and gone.consent_source == "slack:deactivated"
    (event,) = await Event.filter(type="opted_out", customer_id=ann.id)
    assert event.data["reason"] == "deactivated" and "user_disabled" in str(event.data["error"])

    # her account is back; she opens App Home, which only shows the state, then presses Subscribe
    sandbox.workspace.user(TEAM, "U0ANN").deleted = False
    await sandbox.open_app_home(TEAM, "U0ANN")
    await sandbox.wait_for(lambda: (TEAM, "U0ANN") in sandbox.views, timeout=10)
    view = sandbox.views[(TEAM, "U0ANN")]
    assert "not subscribed" in json.dumps(view) and not subscribed(await slack_customer("U0ANN"))
    button = next(b for b in _buttons(view) if b["text"]["text"] == "Subscribe")
    await sandbox.press(TEAM, "U0ANN", None, button["action_id"], button.get("value"), view=view)
    await sandbox.wait_for(lambda: "Unsubscribe" in json.dumps(sandbox.views[(TEAM, "U0ANN")]), timeout=10)
    back = await slack_customer("U0ANN")
    assert subscribed(back) and back.consent_source == "slack:start"
    assert (await ChannelIdentity.get(address=address(TEAM, "U0ANN"))).reachable
    latest = await Event.filter(type="opted_in", customer_id=ann.id).order_by("-id").first()
    assert latest is not None and latest.data["after"] == "slack:deactivated"

    # the workspace removes the app: Slack answers account_inactive about the app's token, not the people: the
    # rows are parked, none failed, and nobody's consent changes (an uninstall is no opt-out)
    sandbox.revoke(TEAM)
    second = await prepared(campaign_file(tmp_path, "second", "slack"))
    stats = await send(channels, second.campaign_id)
    assert (stats.sent, stats.failed, stats.skipped, stats.paused) == (0, 0, 2, [])
    parked = ("skipped", PARKED)
    assert await rows(second.campaign_id) == {ann.id: parked, ben.id: parked}
    assert subscribed(await slack_customer("U0ANN")) and subscribed(await slack_customer("U0BEN"))
    assert not await Event.filter(type="opted_out", customer_id=ben.id).exists()
    assert (await ChannelIdentity.get(address=address(TEAM, "U0BEN"))).reachable


@pytest.mark.parametrize(("how", "left"), [("blocked", "blocked"), ("deactivated", "deactivated"), ("not_found", None)])
async def test_which_telegram_refusals_mean_the_person_left(how: str, left: str | None) -> None:
    async with TelegramSandbox() as sandbox:
        bot = build_bot(sandbox.token, api_url=sandbox.base_url, timeout=5)
        sandbox.block(4001, how)  # type: ignore[arg-type]
        try:
            with pytest.raises(RecipientUnreachable) as caught:
                await TelegramChannel(bot).send(OutboundMessage("4001", "hi"))
        finally:
            await bot.session.close()
    assert caught.value.left == left and caught.value.gone is (left is not None)


async def test_which_slack_refusals_mean_the_person_left() -> None:
    async with SlackSandbox() as sandbox, shared_session(timeout=5) as session:
        token = sandbox.add_team(TEAM, "Shop")
        for user in ("U0GONE", "U0STAYS"):
            sandbox.add_user(TEAM, user)
        sandbox.deactivate(TEAM, "U0GONE")
        client = build_client(token, base_url=sandbox.base_url, session=session)

        async def clients(team_id: str) -> AsyncWebClient:
            return client

        channel = SlackChannel(clients)
        found = {}
        for target in ("U0GONE", "C0NOSUCH"):
            with pytest.raises(RecipientUnreachable) as caught:
                await channel.send(OutboundMessage(f"{TEAM}:{target}", "hi"))
            found[target] = (caught.value.left, str(caught.value))
        sandbox.revoke(TEAM)  # the workspace uninstalls the app: that is no person leaving
        with pytest.raises(PermanentChannelError) as caught:
            await channel.send(OutboundMessage(f"{TEAM}:U0STAYS", "hi"))
    assert found == {"U0GONE": ("deactivated", "Slack: user_disabled"), "C0NOSUCH": (None, "Slack: channel_not_found")}
    assert not isinstance(caught.value, RecipientUnreachable) and "account_inactive" in str(caught.value)
