"""The real slack-bolt app and slack-sdk client against the loopback Slack sandbox, with the engine and a database.

The sandbox validates every Web API call against Slack's OpenAPI spec and Block Kit's limits (a test fails on any
violation), signs what it sends to the app as Slack does, and plays the users. Listeners acknowledge first and
work after, so the tests await what the app does next (a Web API call, a row) rather than the HTTP answer.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from bots.inbound.links import make_token
from bots.slack.app import SlackBot, SlackConfig, build_slack
from bots.slack.blocks import home_view
from bots.slack.channel import address
from bots.slack.sandbox.formatting import Span, message_spans
from bots.slack.sandbox.server import SlackSandbox
from campaigns.ports import Button, InboundEvent, OutboundMessage, Reply
from storage.models import Campaign, ChannelIdentity, ChatMessage, Customer, Delivery, Event
from storage.redeliveries import StoredUpdates
from tests.fakes.environment import reference_file
from tests.fakes.sandboxes import SIGNING
from tests.fakes.slack_app import LINK, TEAM, USER, Watched, customer, serve, subscribed

pytestmark = pytest.mark.usefixtures("database")


@pytest.fixture
def inbound() -> Watched:
    return Watched()


@pytest.fixture
async def bot(slack_sandbox: SlackSandbox, inbound: Watched) -> AsyncIterator[SlackBot]:
    """A single-workspace app (bot token) serving HTTP on 127.0.0.1, known to the sandbox."""
    token = slack_sandbox.add_team(TEAM, name="Shop Customers")
    slack_sandbox.add_user(TEAM, USER, name="mia", real_name="Mia")
    config = SlackConfig(signing_secret=SIGNING, bot_token=token, api_url=slack_sandbox.base_url, shop_name="Demo Shop")
    bot = build_slack(config, inbound, updates=StoredUpdates())
    runner = await serve(bot, slack_sandbox)
    yield bot
    await runner.cleanup()


async def settled(sandbox: SlackSandbox, predicate: Callable[[], bool]) -> None:
    await sandbox.wait_for(predicate, timeout=10)


async def test_app_home_shows_the_state_and_its_buttons_subscribe_and_unsubscribe(
    slack_sandbox: SlackSandbox, bot: SlackBot, inbound: Watched
) -> None:
    status, _ = await slack_sandbox.open_app_home(TEAM, USER)
    assert status == 200
    await settled(slack_sandbox, lambda: (TEAM, USER) in slack_sandbox.views)
    view = slack_sandbox.views[(TEAM, USER)]
    assert view["type"] == "home" and "not subscribed" in json.dumps(view)
    assert await ChannelIdentity.all().count() == 0  # looking is not consent and makes no customer

    subscribe = next(b for b in _buttons(view) if b["text"]["text"] == "Subscribe")
    await slack_sandbox.press(TEAM, USER, None, subscribe["action_id"], subscribe.get("value"), view=view)
    await settled(slack_sandbox, lambda: "Unsubscribe" in json.dumps(slack_sandbox.views[(TEAM, USER)]))
    mia = await customer()
    assert subscribed(mia) and mia.consent_source == "slack:start"
    assert "news and offers" in slack_sandbox.dm(TEAM, USER)[-1].text  # the welcome, in the app's DM

    view = slack_sandbox.views[(TEAM, USER)]
    unsubscribe = next(b for b in _buttons(view) if b["text"]["text"] == "Unsubscribe")
    await slack_sandbox.press(TEAM, USER, None, unsubscribe["action_id"], unsubscribe.get("value"), view=view)
    await settled(slack_sandbox, lambda: "not subscribed" in json.dumps(slack_sandbox.views[(TEAM, USER)]))
    assert not subscribed(await customer())
    assert "unsubscribed" in slack_sandbox.dm(TEAM, USER)[-1].text
    assert await Event.filter(type="opted_out").count() == 1


def _buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"] if e["type"] == "button"]


async def test_the_slash_command_subscribes_links_unsubscribes_and_helps(
    slack_sandbox: SlackSandbox, bot: SlackBot, inbound: Watched
) -> None:
    status, body = await slack_sandbox.slash_command(TEAM, USER, "/shop", "")
    assert status == 200 and "/shop subscribe" in json.dumps(body)  # help, in the ack itself

    shop = await Customer.create(external_id="SHOP-9", name="Mia Shop")
    status, _ = await slack_sandbox.slash_command(TEAM, USER, "/shop", f"subscribe {make_token('SHOP-9', LINK)}")
    assert status == 200
    await settled(slack_sandbox, lambda: len(slack_sandbox.responses) == 1)
    assert "linked to your account" in json.dumps(slack_sandbox.responses[-1])
    mia = await customer()
    assert mia.id == shop.id and subscribed(mia) and mia.consent_source == "slack:link"

    await slack_sandbox.slash_command(TEAM, USER, "/shop", "language de")
    await settled(slack_sandbox, lambda: len(slack_sandbox.responses) == 2)
    assert (await customer()).language == "de"

    await slack_sandbox.slash_command(TEAM, USER, "/shop", "unsubscribe")
    await settled(slack_sandbox, lambda: len(slack_sandbox.responses) == 3)
    assert "unsubscribed" in json.dumps(slack_sandbox.responses[-1]) and not subscribed(await customer())
    assert all(r.get("response_type", "ephemeral") == "ephemeral" for r in slack_sandbox.responses)


async def test_a_campaign_dm_with_buttons_is_delivered_and_its_click_recorded(
    slack_sandbox: SlackSandbox, bot: SlackBot, inbound: Watched
) -> None:
    await slack_sandbox.slash_command(TEAM, USER, "/shop", "subscribe")
    await inbound.next()
    mia = await customer()
    campaign = await Campaign.create(key="spring", yaml="id: spring", yaml_hash="x")
    delivery = await Delivery.create(campaign=campaign, step="main", customer=mia, channel="slack", text="")
    text = "Spring sale: *20% off* <!channel> & <@U0EVE> — " + "shoes " * 900  # over one section's 3,000
    message = OutboundMessage(
        address=address(TEAM, USER),
        text=text,
        buttons=(Button("Shop now", url="https://shop.example/spring"), Button("Tell me more", action="more")),
        image_url="https://shop.example/spring.jpg",
        campaign_id=campaign.id,
        step="main",
    )
    receipt = await bot.channel.send(message)
    (sent,) = slack_sandbox.dm(TEAM, USER)[-1:]
    assert receipt.message_id.endswith(sent.ts) and receipt.address == message.address
    sections = [b for b in sent.blocks if b["type"] == "section"]
    assert len(sections) == 2 and all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert "&lt;!channel&gt; &amp; &lt;@U0EVE&gt;" in sections[0]["text"]["text"]  # no mention, no markup
    assert any(b["type"] == "image" for b in sent.blocks) and sent.text.startswith("Spring sale")
    more = next(b for b in sent.buttons() if b["text"]["text"] == "Tell me more")
    assert next(b for b in sent.buttons() if b["text"]["text"] == "Shop now")["url"] == "https://shop.example/spring"

    await slack_sandbox.press(TEAM, USER, sent, more["action_id"], more["value"])
    handled = await inbound.next()
    assert handled.kind == "click"
    click = await Event.get(type="clicked")
    assert (click.campaign_id, click.delivery_id, click.customer_id) == (campaign.id, delivery.id, mia.id)  # type: ignore[attr-defined]
    assert click.data["step"] == "main" and click.data["action"] == "more" and click.data["channel"] == "slack"


async def test_a_retried_event_is_acknowledged_and_handled_once(
    slack_sandbox: SlackSandbox, bot: SlackBot, inbound: Watched
) -> None:
    await slack_sandbox.user_sends(TEAM, USER, "Where is my order?")
    assert (await inbound.next()).text == "Where is my order?"
    kind, payload = slack_sandbox.link.deliveries[-1]
    for _ in range(3):  # Slack retries an event it saw no 200 for within 3 seconds, with the same event_id
        status, _ = await slack_sandbox.link.deliver(kind, payload)
        assert status == 200
    await slack_sandbox.user_sends(TEAM, USER, "thanks")  # a new event is handled as ever
    assert (await inbound.next()).text == "thanks" and inbound.handled.empty()
    assert [m.text for m in await ChatMessage.filter(role="customer").order_by("id")] == [
        "Where is my order?",
        "thanks",
    ]
    assert await Event.filter(type="replied").count() == 2


async def test_dms_reach_the_assistant_and_a_bare_stop_unsubscribes(
    slack_sandbox: SlackSandbox, bot: SlackBot, inbound: Watched
) -> None:
    await slack_sandbox.user_sends(TEAM, USER, "Where is my order <#C1|general>?")
    assert (await inbound.next()).kind == "text"
    (said,) = await ChatMessage.all()
    assert said.text == "Where is my order <#C1|general>?" and said.role == "customer" and said.channel == "slack"
    assert await Event.filter(type="replied").count() == 1

    await slack_sandbox.user_sends(TEAM, USER, "subscribe")
    await inbound.next()
    await slack_sandbox.user_sends(TEAM, USER, "STOP")
    assert (await inbound.next()).kind == "stop"
    await settled(slack_sandbox, lambda: "unsubscribed" in slack_sandbox.dm(TEAM, USER)[-1].text)
    assert not subscribed(await customer())


async def test_forged_stale_and_unsigned_requests_get_401_and_change_nothing(
    slack_sandbox: SlackSandbox, bot: SlackBot, inbound: Watched
) -> None:
    body = json.dumps(_event_body("app_home_opened", {"type": "app_home_opened", "user": USER, "tab": "home"}))
    assert (await slack_sandbox.post(body, signature="v0=" + "0" * 64))[0] == 401  # forged
    assert (await slack_sandbox.post(body, timestamp=int(time.time()) - 600))[0] == 401  # replayed 10 minutes later
    assert (await slack_sandbox.post(body, sign=False))[0] == 401  # unsigned
    form = "command=%2Fshop&text=subscribe&team_id=" + TEAM + "&user_id=" + USER
    assert (await slack_sandbox.post(form, content_type="application/x-www-form-urlencoded", signature="v0=bad"))[
        0
    ] == 401
    assert inbound.handled.empty() and slack_sandbox.views == {} and slack_sandbox.responses == []
    assert await Customer.all().count() == 0 and await Event.all().count() == 0
    assert (await slack_sandbox.post(body))[0] == 200  # the same body, signed now, is taken
    await settled(slack_sandbox, lambda: (TEAM, USER) in slack_sandbox.views)


def _event_body(kind: str, event: dict[str, Any]) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0SANDBOX",
        "type": "event_callback",
        "event_id": f"Ev{kind[:6].upper()}1",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}],
        "event": event,
    }


def _fill(value: Any, ids: dict[str, str]) -> Any:
    """A sample with its anonymised ids filled in with our workspace's, so bolt can authorize it."""
    if isinstance(value, dict):
        return {k: ids[k] if k in ids and v in ("", None) else _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


SAMPLES = Path("slack", "samples")


@pytest.mark.parametrize("folder", ["events", "app-backend"])
async def test_every_sample_payload_is_handled_without_an_exception(
    slack_sandbox: SlackSandbox, bot: SlackBot, inbound: Watched, folder: str, caplog: pytest.LogCaptureFixture
) -> None:
    known = "MessagePayload.json" if folder == "events" else "SlashCommandPayload.json"
    probe = reference_file("slack", "samples", folder, known)
    ids = {"team_id": TEAM, "team": TEAM, "user_id": USER, "user": USER, "id": TEAM, "enterprise_id": ""}
    for path in sorted(probe.parent.glob("*.json")):
        sample = _fill(json.loads(path.read_text()), ids)
        if folder == "events":
            sample["type"] = "event_callback"
            sample["event"]["channel_type"] = sample["event"].get("channel_type") or "channel"
            status, _ = await slack_sandbox.post(json.dumps(sample))
        elif path.name == "SlashCommandPayload.json":
            sample |= {"command": "/shop", "text": "help"}
            status, _ = await slack_sandbox.post(_form(sample), content_type="application/x-www-form-urlencoded")
        else:
            sample["team"] = {"id": TEAM, "domain": "shop"}
            sample["user"] = {"id": USER, "team_id": TEAM, "name": "mia"}
            status, _ = await slack_sandbox.post(
                _form({"payload": json.dumps(sample)}), content_type="application/x-www-form-urlencoded"
            )
        assert status == 200, f"{path.name}: {status}"
    # bolt runs listeners after the ack: a DM sent last is handled after every sample's listener has run
    await slack_sandbox.user_sends(TEAM, USER, "last")
    while (await inbound.next()).text != "last":
        pass
    errors = [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL") or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


def _form(fields: dict[str, Any]) -> str:
    return urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in fields.items()})


async def test_listeners_acknowledge_before_the_engine_works(slack_sandbox: SlackSandbox) -> None:
    gate, started = asyncio.Event(), asyncio.Queue[str]()

    class Slow:
        async def handle(self, event: InboundEvent) -> Reply | None:
            started.put_nowait(event.kind)
            await gate.wait()
            return Reply("done", (Button("Unsubscribe", action="stop"),))

    token = slack_sandbox.add_team(TEAM)
    slack_sandbox.add_user(TEAM, USER)
    bot = build_slack(SlackConfig(signing_secret=SIGNING, bot_token=token, api_url=slack_sandbox.base_url), Slow())
    runner = await serve(bot, slack_sandbox)
    try:
        assert (await slack_sandbox.slash_command(TEAM, USER, "/shop", "subscribe"))[0] == 200
        assert await asyncio.wait_for(started.get(), 10) == "start"  # Slack had its answer; the work goes on
        home = home_view(True, "Demo Shop", "subscribed")
        stop = _buttons(home)[0]
        assert (await slack_sandbox.press(TEAM, USER, None, stop["action_id"], stop["value"], view=home))[0] == 200
        assert await asyncio.wait_for(started.get(), 10) == "stop"
        assert slack_sandbox.responses == [] and not gate.is_set()
        gate.set()
        await settled(slack_sandbox, lambda: len(slack_sandbox.responses) == 1 and (TEAM, USER) in slack_sandbox.views)
        assert slack_sandbox.responses[0]["text"] == "done"  # the command's answer, after the ack
        assert slack_sandbox.dm(TEAM, USER)[-1].text == "done"  # the button's confirmation, then its home view
    finally:
        gate.set()
        await runner.cleanup()


async def test_a_staff_reply_reaches_the_engine_as_plain_text(slack_sandbox: SlackSandbox, inbound: Watched) -> None:
    token = slack_sandbox.add_team(TEAM)
    slack_sandbox.add_user(TEAM, USER)
    slack_sandbox.add_channel(TEAM, "C0STAFF01", "staff")
    config = SlackConfig(
        signing_secret=SIGNING, bot_token=token, api_url=slack_sandbox.base_url, staff_channel="C0STAFF01"
    )
    runner = await serve(build_slack(config, inbound), slack_sandbox)
    try:
        # Slack escapes &, < and > in the text it sends; the engine (and the customer) get what the person wrote
        await slack_sandbox.thread_reply(TEAM, USER, "C0STAFF01", "1700000000.000100", "parcel &amp; receipt &lt;3")
        event = await inbound.next()
        assert (event.kind, event.channel, event.text) == ("staff", "slack", "parcel & receipt <3")
        assert event.payload == {"thread": ":C0STAFF01:1700000000.000100", "user": USER}  # the bot token's workspace
    finally:
        await runner.cleanup()


class Quoting:
    """An engine whose every answer quotes a product named like markup, as the assistant's answers quote names."""

    async def handle(self, event: InboundEvent) -> Reply | None:
        text = "We have *Pro* _x_ ~y~ `z` in stock & it ships today."
        return Reply(text, (Button("Unsubscribe", action="stop"),) if event.kind == "home" else ())


async def test_a_reply_is_plain_text_slack_shows_as_it_is(slack_sandbox: SlackSandbox) -> None:
    token = slack_sandbox.add_team(TEAM)
    slack_sandbox.add_user(TEAM, USER)
    config = SlackConfig(signing_secret=SIGNING, bot_token=token, api_url=slack_sandbox.base_url)
    runner = await serve(build_slack(config, Quoting()), slack_sandbox)
    try:
        await slack_sandbox.user_sends(TEAM, USER, "Do you have the Pro?")
        await settled(slack_sandbox, lambda: bool(slack_sandbox.dm(TEAM, USER)))
        (reply,) = slack_sandbox.dm(TEAM, USER)
        assert reply.formatting() == [] and "&amp; it ships" in reply.blocks[0]["text"]["text"]
        await slack_sandbox.slash_command(TEAM, USER, "/shop", "subscribe")
        await settled(slack_sandbox, lambda: bool(slack_sandbox.ephemeral))
        assert slack_sandbox.ephemeral[-1].text.startswith("We have \u2217Pro\u2217 \u02cdx\u02cd")
        await slack_sandbox.open_app_home(TEAM, USER)
        await settled(slack_sandbox, lambda: (TEAM, USER) in slack_sandbox.views)
        home = slack_sandbox.views[(TEAM, USER)]["blocks"]
        assert "\u2217Pro\u2217" in json.dumps(home, ensure_ascii=False)
        assert message_spans(home) == [Span("bold", "You are subscribed to our messages.")]  # the view's own
    finally:
        await runner.cleanup()
