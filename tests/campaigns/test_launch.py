"""A campaign from its YAML file to the customers' chats: register, plan, write, send through both real adapters.

The Telegram and Slack sandboxes validate every request against the official specs; the test fails on any.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from bots.inbound.acts import Inbound
from bots.slack.app import SlackConfig, build_slack
from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.app import build_bot
from bots.telegram.channel import TelegramChannel
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns import launch
from campaigns.audience.planner import PlanError
from campaigns.content.writer import CopyWriter
from campaigns.file.loader import CampaignError
from campaigns.ports import Channel
from segments.definitions import Definitions, load
from storage.models import ChannelIdentity, Customer, Delivery, Product

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "shop"
TEAM = "T0SHOP01"
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
CAMPAIGN = """\
id: may-shoes
name: May shoes
channels: [telegram, slack]
audience:
  personas: [everyone, bargain_hunter]
  holdout: 0.2
offer: {code: MAY15, discount: 15%, expires: 2026-05-31}
products:
  recommend: {rule: bestsellers, category: running-shoes, count: 2}
message:
  brief: Fifteen percent off running shoes in May.
  template: |
    Hi {{ customer.first_name }}: {{ offer.discount }} off with {{ offer.code }}.
    {% for p in products %}- {{ p.name }}: {{ p.price }} {{ p.currency }}
    {% endfor %}{{ unsubscribe }}
  buttons:
    - {text: Shop, url: "https://shop.example/p/{{ product.sku }}"}
    - {text: Tell me more, action: more}
variants:
  - {id: a, weight: 1}
  - id: b
    weight: 1
    template: "{{ product.name }} for {{ customer.first_name }}, code {{ offer.code }}. {{ unsubscribe }}"
"""


@pytest.fixture
def definitions() -> Definitions:
    return load(EXAMPLES / "segments.yaml")


@pytest.fixture
def sandboxes(
    database: str, telegram_sandbox: TelegramSandbox, slack_sandbox: SlackSandbox
) -> tuple[TelegramSandbox, SlackSandbox]:
    """Both sandboxes, with the database they fill."""
    return telegram_sandbox, slack_sandbox


@pytest.fixture
async def channels(sandboxes: tuple[TelegramSandbox, SlackSandbox]) -> AsyncIterator[dict[str, Channel]]:
    telegram, slack = sandboxes
    token = slack.add_team(TEAM)
    bot = build_bot(telegram.token, api_url=telegram.base_url, timeout=5)
    async with aiohttp.ClientSession() as session:
        config = SlackConfig(signing_secret=slack.signing_secret, bot_token=token, api_url=slack.base_url)
        slack_bot = build_slack(config, Inbound(None), session=session)
        yield {"telegram": TelegramChannel(bot), "slack": slack_bot.channel}
    await bot.session.close()


async def shop(slack: SlackSandbox) -> None:
    """Sixty customers: most opted in and reachable on Telegram, Slack or both; some not."""
    for n in range(4):
        await Product.create(
            sku=f"RUN-{n}", name=f"Runner {n}", category="running-shoes", price=80 + n, currency="EUR", stock=5
        )
    for n in range(60):
        consent = NOW - timedelta(days=30) if n % 10 != 9 else None  # every tenth never opted in
        persona = "vip" if n % 15 == 14 else ("everyone" if n % 2 else "bargain_hunter")
        customer = await Customer.create(
            external_id=f"C{n:03d}", name=f"Person{n} Test", persona=persona, opted_in_at=consent
        )
        if n % 3 != 2:
            await ChannelIdentity.create(customer=customer, channel="telegram", address=str(5000 + n))
        if n % 3 != 0:
            await ChannelIdentity.create(customer=customer, channel="slack", address=f"{TEAM}:U{n:05d}")
            slack.add_user(TEAM, f"U{n:05d}")


async def test_a_campaign_file_reaches_each_audience_member_once_on_their_preferred_channel(
    sandboxes: tuple[TelegramSandbox, SlackSandbox],
    channels: dict[str, Channel],
    definitions: Definitions,
    tmp_path: Path,
) -> None:
    telegram, slack = sandboxes
    await shop(slack)
    path = tmp_path / "may-shoes.yaml"
    path.write_text(CAMPAIGN)
    writer = CopyWriter()

    prepared = await launch.prepare(path, definitions, writer, as_of=NOW)
    audience = [n for n in range(60) if n % 10 != 9 and n % 15 != 14]  # consented, not vip
    assert prepared.plan.planned + prepared.plan.holdout == len(audience)
    assert 0 < prepared.plan.holdout < len(audience) / 2
    assert prepared.write.written == prepared.plan.planned and prepared.write.by_source == {
        "template": prepared.plan.planned
    }
    again = await launch.prepare(path, definitions, writer, as_of=NOW + timedelta(hours=1))
    assert again.plan.planned == again.write.written == 0  # re-planning adds nobody twice
    assert again.plan.already_planned == len(audience)
    stats = await launch.send(prepared.campaign_id, channels, worker="test")
    assert stats.sent == prepared.plan.planned and stats.failed == stats.unknown == 0

    sent = await Delivery.filter(status="sent").prefetch_related("customer")
    for row in sent:
        n = int(row.customer.external_id[1:])
        expected = "telegram" if n % 3 != 2 else "slack"  # Telegram first by preference
        assert row.channel == expected and row.provider_message_id
        if expected == "telegram":
            (message,) = telegram.sent(5000 + n)
            text = message.text or ""
        else:
            (message,) = slack.dm(TEAM, f"U{n:05d}")
            text = message.text
        assert "MAY15" in text and "Person" + str(n) in text
    held = {d.customer.external_id for d in await Delivery.filter(status="holdout").prefetch_related("customer")}
    for external_id in held:
        n = int(external_id[1:])
        assert not telegram.sent(5000 + n) and not slack.dm(TEAM, f"U{n:05d}")

    with pytest.raises(PlanError, match="done"):  # a finished campaign takes nobody more
        await launch.prepare(path, definitions, writer, as_of=NOW + timedelta(hours=2))
    assert sum(len(m) for m in telegram.transcripts.values()) + sum(len(m) for m in slack.transcripts.values()) == len(
        sent
    )


async def test_status_moves_are_checked_and_cancel_skips_what_is_unsent(
    sandboxes: tuple[TelegramSandbox, SlackSandbox], definitions: Definitions, tmp_path: Path
) -> None:
    _, slack = sandboxes
    slack.add_team(TEAM)
    await shop(slack)
    path = tmp_path / "may-shoes.yaml"
    path.write_text(CAMPAIGN)
    prepared = await launch.prepare(path, definitions, CopyWriter(), as_of=NOW)
    assert await launch.set_status(prepared.campaign_id, "paused") == "paused"
    assert await launch.set_status(prepared.campaign_id, "running") == "running"
    assert await launch.set_status(prepared.campaign_id, "cancelled") == "cancelled"
    assert await Delivery.filter(status="queued").count() == 0
    assert await Delivery.filter(status="skipped", note="cancelled").count() == prepared.plan.planned
    with pytest.raises(launch.CampaignStateError, match="cancelled"):
        await launch.set_status(prepared.campaign_id, "running")


async def test_an_expired_offer_is_not_launched(database: str, definitions: Definitions, tmp_path: Path) -> None:
    path = tmp_path / "may-shoes.yaml"
    path.write_text(CAMPAIGN)
    await Product.create(sku="RUN-0", name="Runner 0", category="running-shoes", price=80, currency="EUR", stock=5)
    with pytest.raises(CampaignError) as caught:
        await launch.prepare(path, definitions, CopyWriter(), as_of=NOW + timedelta(days=31))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:7: offer.expires: the offer MAY15 expired on 2026-05-31 (today is 2026-06-01 in UTC): set a later"
        " date, or take the offer out"
    ]
    assert await Delivery.all().count() == 0


async def test_a_campaign_printing_the_shop_url_needs_it_set(
    database: str, definitions: Definitions, tmp_path: Path
) -> None:
    path = tmp_path / "may-shoes.yaml"
    path.write_text(CAMPAIGN.replace("https://shop.example", "{{ shop.url }}"))
    await Product.create(sku="RUN-0", name="Runner 0", category="running-shoes", price=80, currency="EUR", stock=5)
    for n in range(4):
        customer = await Customer.create(
            external_id=f"C{n}", name=f"Person{n}", persona="everyone", opted_in_at=NOW - timedelta(days=1)
        )
        await ChannelIdentity.create(customer=customer, channel="telegram", address=str(5000 + n))
    with pytest.raises(
        CampaignError, match=r"may-shoes.yaml:17: message.buttons\[0\].url: the template prints shop.url"
    ):
        await launch.prepare(path, definitions, CopyWriter(), as_of=NOW)
    assert await Delivery.all().count() == 0
    prepared = await launch.prepare(path, definitions, CopyWriter(), as_of=NOW, shop_url="https://shop.example")
    urls = await Delivery.filter(status="queued").values_list("buttons", flat=True)
    assert prepared.write.written == len(urls) > 0
    assert {b[0]["url"] for b in urls} == {"https://shop.example/p/RUN-0"}


def test_a_campaign_send_rate_caps_each_channel(channels: dict[str, Channel]) -> None:
    settings = {"telegram": 30.0, "telegram/chat": 1.0}
    assert launch.capped(channels, settings, None) == settings
    capped = launch.capped(channels, settings, 20.0)
    assert capped["telegram"] == 20.0 and capped["telegram/chat"] == 1.0
    assert capped["slack"] == min(20.0, channels["slack"].limits.messages_per_second or 20.0)
    assert launch.capped(channels, {"telegram": 10.0}, 20.0)["telegram"] == 10.0  # the lower limit wins
