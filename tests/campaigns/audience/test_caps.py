"""Frequency caps across campaigns, driven by the dispatcher's clock (no sleeping: its sleep advances the clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns.audience.caps import Caps
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.file.definition import FrequencyCap
from storage.models import Campaign, Delivery
from tests.fakes.channels import RecordingChannel
from tests.fakes.clock import Clock
from tests.fakes.dispatch_worker import NO_LIMITS, add_campaign, add_customers, add_deliveries

T0 = datetime(2027, 5, 3, 9, tzinfo=UTC)
SKIP_YAML = """\
id: flash
name: Flash
channels: [telegram]
message: {brief: b, template: "t {{ unsubscribe }}"}
frequency_cap: {day: 1, week: 2, action: skip}
"""


def dispatcher(clock: Clock[datetime], channel: RecordingChannel, cap: FrequencyCap) -> Dispatcher:
    return Dispatcher(
        {"telegram": channel}, worker="caps", rates=NO_LIMITS, clock=clock, sleep=clock.sleep, caps=Caps(cap)
    )


async def rows(campaigns: list[int], customer: int, address: str) -> None:
    for campaign in campaigns:
        await add_deliveries(campaign, "telegram", [(customer, address)], due_at=T0)


async def test_a_daily_cap_holds_the_second_campaign_until_a_day_after_the_first_send(database: str) -> None:
    clock = Clock(T0)
    [ann, bob] = await add_customers("telegram", ["100", "200"])
    first, second = await add_campaign("first"), await add_campaign("second")
    await rows([first, second], ann, "100")
    await rows([second], bob, "200")
    channel = RecordingChannel(clock)
    stats = await dispatcher(clock, channel, FrequencyCap(day=1)).drain()
    sent = sorted(channel.sent, key=lambda s: (s[2], s[1]))
    assert [(c, a) for c, a, _ in sent] == [(first, "100"), (second, "200"), (second, "100")]
    assert sent[0][2] == sent[1][2] == T0 and sent[2][2] >= T0 + timedelta(days=1)
    assert sent[2][2] < T0 + timedelta(days=1, minutes=1)  # as soon as the cap allowed, not later
    assert stats.capped == 1 and stats.sent == 3
    assert await Delivery.filter(status="sent").count() == 3
    held = await Delivery.get(campaign_id=second, customer_id=ann)
    assert held.attempts == 1  # the wait did not spend an attempt


async def test_a_weekly_cap_counts_the_week_and_a_campaign_may_skip_instead(database: str) -> None:
    clock = Clock(T0)
    [ann] = await add_customers("telegram", ["100"])
    campaigns = [await add_campaign(key) for key in ("one", "two", "three")]
    flash = await add_campaign("flash")
    await Campaign.filter(id=flash).update(yaml=SKIP_YAML)
    await rows(campaigns[:2], ann, "100")
    channel = RecordingChannel(clock)
    await dispatcher(clock, channel, FrequencyCap(week=2)).drain()
    assert [c for c, _, _ in channel.sent] == campaigns[:2]
    clock.now = T0 + timedelta(days=2)
    await add_deliveries(campaigns[2], "telegram", [(ann, "100")], due_at=clock.now)
    await add_deliveries(flash, "telegram", [(ann, "100")], due_at=clock.now)
    stats = await dispatcher(clock, channel, FrequencyCap(week=2)).drain()
    assert [c for c, _, _ in channel.sent] == [*campaigns[:2], campaigns[2]]
    assert channel.sent[2][2] >= T0 + timedelta(days=7)  # the week of the first send had to pass
    skipped = await Delivery.get(campaign_id=flash)
    assert (skipped.status, skipped.note) == ("skipped", "frequency_cap")  # its own cap (replacing the shop's) skips
    assert stats.capped == 2


async def test_without_a_cap_nothing_is_held(database: str) -> None:
    clock = Clock(T0)
    [ann] = await add_customers("telegram", ["100"])
    campaigns = [await add_campaign(key) for key in ("one", "two", "three")]
    await rows(campaigns, ann, "100")
    channel = RecordingChannel(clock)
    stats = await dispatcher(clock, channel, FrequencyCap()).drain()
    assert len(channel.sent) == 3 and stats.capped == 0 and clock.now == T0
