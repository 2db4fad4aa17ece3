"""Recurring (cron) campaigns: each run planned once as its own step, missed runs coalesced, an end date."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from campaigns import launch
from campaigns.audience.planner import register
from campaigns.content.writer import CopyWriter
from campaigns.file.definition import Campaign, Message, Schedule
from campaigns.timing import recurring
from segments.definitions import parse
from storage import outbox
from storage.models import Campaign as CampaignRow
from storage.models import ChannelIdentity, Customer, Delivery

DEFS = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
SHOP = ZoneInfo("UTC")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def newsletter(**schedule: object) -> Campaign:
    return Campaign(
        id="weekly",
        name="Weekly news",
        channels=["telegram"],
        message=Message(brief="b", template="This week at the shop, {{ customer.first_name }}. {{ unsubscribe }}"),
        schedule=Schedule(cron="0 9 * * 1", timezone="Europe/Berlin", **schedule),  # Mondays 09:00 Berlin
    )


async def readers(count: int) -> None:
    for n in range(count):
        customer = await Customer.create(
            external_id=f"R{n}", name=f"Reader{n} X", persona="everyone", opted_in_at=utc(2026, 12, 1)
        )
        await ChannelIdentity.create(customer=customer, channel="telegram", address=str(100 + n))


async def run(campaign: Campaign, campaign_id: int, now: datetime) -> str | None:
    ran = await launch.run_due(campaign, campaign_id, DEFS, CopyWriter(), now=now, shop_zone=SHOP)
    return None if ran is None else ran[0]


async def test_each_run_is_planned_once_at_its_time_and_missed_runs_coalesce(database: str) -> None:
    await readers(3)
    campaign = newsletter(end_at=datetime(2027, 2, 1, tzinfo=ZoneInfo("Europe/Berlin")))
    campaign_id = await register(campaign, "weekly")
    assert await recurring.start(campaign, campaign_id, now=utc(2027, 1, 6), shop_zone=SHOP) == utc(2027, 1, 11, 8)
    await CampaignRow.filter(id=campaign_id).update(status="running")

    assert await run(campaign, campaign_id, utc(2027, 1, 11, 7, 59)) is None  # not yet
    assert await run(campaign, campaign_id, utc(2027, 1, 11, 8, 0, 30)) == "run-20270111T0800Z"
    rows = await Delivery.filter(campaign_id=campaign_id).values_list("step", "status", "text")
    assert sorted(rows) == [
        ("run-20270111T0800Z", "queued", f"This week at the shop, Reader{n}. Reply STOP to unsubscribe.")
        for n in range(3)
    ]
    assert (await CampaignRow.get(id=campaign_id)).next_run_at == utc(2027, 1, 18, 8)
    assert await run(campaign, campaign_id, utc(2027, 1, 11, 9)) is None  # the same run is not planned twice

    # all sent, and the campaign waits for its next run instead of finishing
    await Delivery.filter(campaign_id=campaign_id).update(status="sent", sent_at=utc(2027, 1, 11, 8, 1))
    assert await outbox.finish_campaigns(utc(2027, 1, 12)) == []

    # down for two weeks: the runs of the 18th and the 25th become one, the latest
    assert await run(campaign, campaign_id, utc(2027, 1, 26, 12)) == "run-20270125T0800Z"
    steps = await Delivery.filter(campaign_id=campaign_id).distinct().values_list("step", flat=True)
    assert sorted(steps) == ["run-20270111T0800Z", "run-20270125T0800Z"]
    assert (await CampaignRow.get(id=campaign_id)).next_run_at is None  # 1 February 09:00 is past the end
    await Delivery.filter(campaign_id=campaign_id).update(status="sent", sent_at=utc(2027, 1, 26, 12))
    assert await outbox.finish_campaigns(utc(2027, 1, 27)) == [campaign_id]


async def test_the_first_run_respects_start_at_and_dst(database: str) -> None:
    campaign = newsletter(start_at=utc(2027, 3, 20))
    campaign_id = await register(campaign, "weekly")
    # Monday 29 March 2027 is the first Monday after Berlin moved to summer time: 09:00 CEST is 07:00 UTC
    assert await recurring.start(campaign, campaign_id, now=utc(2027, 1, 1), shop_zone=SHOP) == utc(2027, 3, 22, 8)
    assert recurring.next_run(campaign, utc(2027, 3, 22, 8), SHOP) == utc(2027, 3, 29, 7)
