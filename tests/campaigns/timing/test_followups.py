"""The follow-up sweep: delay since the previous step was sent, every condition, stop_when, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from campaigns.file.definition import Schedule
from campaigns.timing import followups
from campaigns.timing.followups import sweep
from storage.models import Campaign as CampaignRow
from storage.models import Customer, Delivery, Event, Order
from tests.fakes.followups import NOW, SENT, campaign, journey, step


async def planned(campaign_id: int, step_id: str) -> set[str]:
    rows = Delivery.filter(campaign_id=campaign_id, step=step_id, status="planned")
    return set(await rows.values_list("customer__external_id", flat=True))


async def test_a_reminder_goes_to_those_who_did_not_click_once_its_delay_has_passed(database: str) -> None:
    row = await CampaignRow.create(key="spring", name="Spring", yaml="", yaml_hash="", status="running")
    definition = campaign(step("reminder", "2d", "not_clicked"), stop_when=["purchased", "opted_out"])
    await journey("ignored", row.id)
    await journey("clicked", row.id, did=("clicked",))
    await journey("bought", row.id, did=("purchased",))
    await journey("left", row.id, did=("opted_out",))
    await journey("replied", row.id, did=("replied",))
    await journey("recent", row.id, sent_at=NOW - timedelta(days=1))
    await journey("holdout", row.id, sent_at=None, status="holdout")
    await journey("failed", row.id, sent_at=None, status="failed")
    result = await sweep(definition, row.id, now=NOW)
    assert result.planned == {"reminder": 2}
    assert await planned(row.id, "reminder") == {"ignored", "replied"}
    again = await sweep(definition, row.id, now=NOW + timedelta(days=2))  # later, and again: nobody twice
    assert again.planned == {"reminder": 1} and await planned(row.id, "reminder") == {"ignored", "replied", "recent"}


async def test_the_sweep_plans_in_slices_of_customers_and_misses_nobody_between_them(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(followups, "CHUNK", 2)
    row = await CampaignRow.create(key="spring", name="Spring", yaml="", yaml_hash="", status="running")
    definition = campaign(step("reminder", "2d", "not_clicked"))
    for n in range(7):
        await journey(f"c{n}", row.id, did=("clicked",) if n == 3 else ())
        await Customer.create(external_id=f"gap{n}", name="")  # ids between the campaign's customers
    result = await sweep(definition, row.id, now=NOW)
    assert result.planned == {"reminder": 6} and result.slices == 4
    assert await planned(row.id, "reminder") == {f"c{n}" for n in range(7) if n != 3}


async def test_when_is_judged_over_each_customers_window_so_a_late_sweep_decides_as_a_timely_one(
    database: str,
) -> None:
    row = await CampaignRow.create(key="spring", name="Spring", yaml="", yaml_hash="", status="running")
    reminder = campaign(step("reminder", "2d", "not_clicked"))
    thanks = campaign(step("thanks", "2d", "clicked"))
    await journey("early", row.id)  # clicked within her two days
    await journey("late", row.id)  # clicked half a day after her window closed, before the (late) sweep
    for key, at in (("early", SENT + timedelta(days=1)), ("late", SENT + timedelta(days=2, hours=12))):
        customer = await Customer.get(external_id=key)
        await Event.create(type="clicked", customer=customer, campaign_id=row.id, at=at)
    await sweep(reminder, row.id, now=NOW)  # three days after the send: a day late
    await sweep(thanks, row.id, now=NOW)
    assert await planned(row.id, "reminder") == {"late"}
    assert await planned(row.id, "thanks") == {"early"}


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (("clicked",), {"clicked", "clicked_replied"}),
        (("clicked", "not_replied"), {"clicked"}),
        (("replied",), {"replied", "clicked_replied"}),
        (("not_replied",), {"nothing", "clicked", "bought"}),
        (("purchased",), {"bought"}),
        (("not_purchased", "not_clicked"), {"nothing", "replied"}),
        ((), {"nothing", "clicked", "replied", "clicked_replied", "bought"}),
        (({"any": ["clicked", "purchased"]},), {"clicked", "clicked_replied", "bought"}),
        (({"any": ["replied", "purchased"]}, "not_clicked"), {"replied", "bought"}),
    ],
)
async def test_every_condition(database: str, when: tuple[Any, ...], expected: set[str]) -> None:
    row = await CampaignRow.create(key="spring", name="Spring", yaml="", yaml_hash="", status="running")
    await journey("nothing", row.id)
    await journey("clicked", row.id, did=("clicked",))
    await journey("replied", row.id, did=("replied",))
    await journey("clicked_replied", row.id, did=("clicked", "replied"))
    await journey("bought", row.id, did=("purchased",))
    await sweep(campaign(step("next", "1d", *when)), row.id, now=NOW)
    assert await planned(row.id, "next") == expected


async def test_the_second_follow_up_waits_for_the_first_to_be_sent(database: str) -> None:
    row = await CampaignRow.create(key="spring", name="Spring", yaml="", yaml_hash="", status="running")
    definition = campaign(step("reminder", "1d"), step("last-call", "1d", "not_clicked"))
    await journey("ann", row.id)
    assert (await sweep(definition, row.id, now=NOW)).planned == {"reminder": 1, "last-call": 0}
    await Delivery.filter(step="reminder").update(status="sent", sent_at=NOW)
    assert (await sweep(definition, row.id, now=NOW + timedelta(hours=23))).planned == {"reminder": 0, "last-call": 0}
    assert (await sweep(definition, row.id, now=NOW + timedelta(days=1))).planned == {"reminder": 0, "last-call": 1}


async def run_journey(key: str, campaign_id: int, run: str, sent_at: datetime) -> Customer:
    """A customer (made on first need) who got a recurring campaign's ``run`` at ``sent_at``."""
    customer, _ = await Customer.get_or_create(
        external_id=key, defaults={"name": key, "opted_in_at": SENT - timedelta(days=30)}
    )
    await Delivery.create(
        campaign_id=campaign_id, step=run, customer=customer, channel="telegram", address=key, status="sent",
        sent_at=sent_at, text="t",
    )  # fmt: skip
    return customer


async def test_each_run_of_a_recurring_campaign_has_follow_ups_of_its_own(database: str) -> None:
    row = await CampaignRow.create(key="weekly", name="Weekly", yaml="", yaml_hash="", status="running")
    definition = campaign(step("nudge", "2d", "not_clicked"), step("last", "1d"), stop_when=["purchased"])
    definition = definition.model_copy(update={"schedule": Schedule(cron="0 9 * * 1")})
    first, second = "run-20270331T0900Z", "run-20270407T0900Z"
    ann = await run_journey("ann", row.id, first, SENT - timedelta(days=7))
    await Order.create(external_id="o-ann", customer=ann, ordered_at=SENT - timedelta(days=5), total=10, currency="EUR")
    await run_journey("ann", row.id, second, SENT)  # she bought after the first run: its journey ended, not this one
    bob = await run_journey("bob", row.id, first, SENT - timedelta(days=7))
    await run_journey("bob", row.id, second, SENT)
    await Event.create(type="clicked", customer=bob, campaign_id=row.id, at=SENT + timedelta(hours=1))
    result = await sweep(definition, row.id, now=NOW)
    assert result.planned == {f"{first}/nudge": 1, f"{first}/last": 0, f"{second}/nudge": 1, f"{second}/last": 0}
    assert await planned(row.id, f"{first}/nudge") == {"bob"}  # clicked in the second run's window, not the first's
    assert await planned(row.id, f"{second}/nudge") == {"ann"}
    await Delivery.filter(step=f"{first}/nudge").update(status="sent", sent_at=NOW)
    later = await sweep(definition, row.id, now=NOW + timedelta(days=1))
    assert later.planned[f"{first}/last"] == 1 and await planned(row.id, f"{first}/last") == {"bob"}
    assert (await sweep(definition, row.id, now=NOW + timedelta(days=1))).total == 0  # nobody twice


YAML = """\
id: spring
name: Spring
channels: [telegram]
message: {brief: b, template: "Hi {{ customer.first_name }} {{ unsubscribe }}"}
follow_ups:
  - id: reminder
    after: 2d
    when: [not_clicked]
    message: {brief: b, template: "Still thinking, {{ customer.first_name }}? {{ unsubscribe }}"}
"""


async def test_the_scheduler_job_sweeps_running_campaigns_and_queues_written_rows(database: str) -> None:
    from campaigns.content.writer import CopyWriter
    from campaigns.jobs import follow_ups
    from segments.definitions import parse

    definitions = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
    row = await CampaignRow.create(key="spring", name="Spring", yaml=YAML, yaml_hash="", status="running")
    paused = await CampaignRow.create(key="paused", name="P", yaml=YAML.replace("spring", "paused"), yaml_hash="")
    paused.status = "paused"
    await paused.save()
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    await journey("Ann", row.id, sent_at=three_days_ago)
    await journey("Bob", paused.id, sent_at=three_days_ago)
    assert await follow_ups(CopyWriter(), definitions, "the shop") == {"spring": 1}
    [reminder] = await Delivery.filter(step="reminder").values("status", "text", "copy_source", "campaign_id")
    assert reminder["status"] == "queued" and reminder["campaign_id"] == row.id
    assert reminder["text"].startswith("Still thinking, Ann?") and reminder["copy_source"] == "template"
    assert await follow_ups(CopyWriter(), definitions, "the shop") == {"spring": 0}


WINDOWED = YAML + "schedule: {window: {start: '09:00', end: '20:00'}}\n"


async def test_follow_ups_are_due_in_each_customers_window_and_outside_the_shops_quiet_hours(database: str) -> None:
    from campaigns.content.writer import CopyWriter
    from campaigns.jobs import follow_ups
    from segments.definitions import parse

    definitions = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
    row = await CampaignRow.create(key="spring", name="Spring", yaml=WINDOWED, yaml_hash="", status="running")
    now = datetime(2027, 4, 7, 6, tzinfo=UTC)  # Tokyo 15:00, New York 02:00, Berlin 08:00
    for key, zone in (("tokyo", "Asia/Tokyo"), ("newyork", "America/New_York"), ("berlin", "Europe/Berlin")):
        await journey(key, row.id, sent_at=now - timedelta(days=3))
        await Customer.filter(external_id=key).update(timezone=zone)
    quiet = (time(15), time(15, 30))  # the shop's quiet hours, in each customer's local time
    with time_machine.travel(now, tick=False):
        assert await follow_ups(CopyWriter(), definitions, "the shop", ZoneInfo("UTC"), quiet) == {"spring": 3}
    due = dict(await Delivery.filter(step="reminder", status="queued").values_list("customer__external_id", "due_at"))
    assert due == {
        "tokyo": datetime(2027, 4, 7, 6, 30, tzinfo=UTC),  # 15:00 is quiet: 15:30 in Tokyo
        "newyork": datetime(2027, 4, 7, 13, tzinfo=UTC),  # 09:00 in New York
        "berlin": datetime(2027, 4, 7, 7, tzinfo=UTC),  # 09:00 in Berlin (summer time)
    }


async def test_the_scheduler_runs_its_jobs_at_the_moment_it_is_given_without_travelling(database: str) -> None:
    """A rehearsal passes its simulated clock's moment: the follow-up is decided and timed by it, not the wall."""
    from campaigns.content.writer import CopyWriter
    from campaigns.scheduler import Scheduler
    from segments.definitions import parse

    definitions = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
    row = await CampaignRow.create(
        key="spring", name="Spring", yaml=WINDOWED, yaml_hash="", status="running", follow_up_steps=1
    )
    sent = datetime(2031, 4, 5, 6, tzinfo=UTC)  # years ahead of the wall clock
    await journey("newyork", row.id, sent_at=sent)
    await Customer.filter(external_id="newyork").update(timezone="America/New_York")
    scheduler = Scheduler(writer=CopyWriter(), definitions=definitions)
    early = await scheduler.run_once(sent + timedelta(days=1))  # the window is open a day later
    assert early["follow_ups"] == {"spring": 0}
    late = await scheduler.run_once(sent + timedelta(days=2, minutes=1))  # closed: 02:01 in New York
    assert late["follow_ups"] == {"spring": 1}
    [(due, status)] = await Delivery.filter(step="reminder").values_list("due_at", "status")
    assert status == "queued" and due == datetime(2031, 4, 7, 13, tzinfo=UTC)  # 09:00 in New York, that day
