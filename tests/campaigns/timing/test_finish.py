"""When a campaign with follow-ups is done: only when no step can still produce a message, whoever asks.

The rows are made here (a unit test of the finishing rule); tests/journeys/ lives the same through the CLI.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from campaigns.audience.planner import register
from campaigns.file.definition import Campaign, Schedule
from campaigns.jobs import finish
from campaigns.timing.followups import sweep
from campaigns.timing.windows import close_if_done
from storage import outbox
from storage.models import Campaign as CampaignRow
from storage.models import Customer, Delivery, Event, Order
from tests.fakes.followups import NOW, SENT, campaign, journey, step


async def running(definition: Campaign) -> int:
    """The campaign registered from its file (JSON is YAML) and started; its id."""
    campaign_id = await register(definition, definition.model_dump_json())
    await CampaignRow.filter(id=campaign_id).update(status="running")
    return campaign_id


async def status(campaign_id: int) -> str:
    return (await CampaignRow.get(id=campaign_id)).status


async def sent(campaign_id: int, step_id: str, at: datetime) -> None:
    """The dispatcher sent the step's rows at ``at``."""
    await Delivery.filter(campaign_id=campaign_id, step=step_id).update(status="sent", sent_at=at)


async def test_a_worker_never_closes_a_campaign_whose_follow_up_windows_are_open(database: str) -> None:
    definition = campaign(step("reminder", "4d", "not_clicked"))
    campaign_id = await running(definition)
    await journey("ann", campaign_id)  # sent three days ago: her window closes tomorrow
    assert await outbox.finish_campaigns(NOW) == []  # every row is final, yet the reminder is ahead
    assert not await close_if_done(definition, campaign_id, now=NOW)
    assert await finish(NOW) == [] and await status(campaign_id) == "running"
    closed = SENT + timedelta(days=4)
    assert await finish(closed) == []  # her window closed and her reminder is owed: the sweep plans it first
    await sweep(definition, campaign_id, now=closed)
    await sent(campaign_id, "reminder", closed)
    assert await finish(closed) == ["spring"]


async def test_it_is_done_once_every_window_closed_and_each_owed_follow_up_was_sent(database: str) -> None:
    definition = campaign(step("reminder", "2d", "not_clicked"))
    campaign_id = await running(definition)
    await journey("ann", campaign_id, did=("clicked",))  # within her window: no reminder
    await journey("bob", campaign_id)
    assert not await close_if_done(definition, campaign_id, now=NOW)  # bob's window closed: his reminder is owed
    assert (await sweep(definition, campaign_id, now=NOW)).planned == {"reminder": 1}
    assert not await close_if_done(definition, campaign_id, now=NOW)  # planned, not sent
    await sent(campaign_id, "reminder", NOW)
    assert await close_if_done(definition, campaign_id, now=NOW) and await status(campaign_id) == "done"


async def test_stop_when_ending_every_journey_closes_it_before_the_windows_do(database: str) -> None:
    definition = campaign(step("reminder", "4d", "not_clicked"), stop_when=["purchased"])
    campaign_id = await running(definition)
    await journey("ann", campaign_id, did=("purchased",))
    await journey("bob", campaign_id, did=("opted_out",))  # an opt-out always ends a journey
    await journey("cat", campaign_id)
    assert not await close_if_done(definition, campaign_id, now=NOW)  # cat's window is open, her journey goes on
    cat = await Customer.get(external_id="cat")
    await Order.create(external_id="o-cat-2", customer=cat, ordered_at=NOW, total=10, currency="EUR")
    assert await close_if_done(definition, campaign_id, now=NOW)  # a day before the last window closes


async def test_a_positive_clicked_condition_is_owed_only_for_a_click_within_the_window(database: str) -> None:
    definition = campaign(step("thanks", "2d", "clicked"))
    campaign_id = await running(definition)
    await journey("ann", campaign_id)
    ann = await Customer.get(external_id="ann")
    await Event.create(type="clicked", customer=ann, campaign_id=campaign_id, at=SENT + timedelta(days=2, hours=1))
    assert await close_if_done(definition, campaign_id, now=NOW)  # clicked after her window: nothing owed


async def test_a_click_within_the_window_keeps_it_open_until_the_thanks_is_sent(database: str) -> None:
    definition = campaign(step("thanks", "2d", "clicked"))
    campaign_id = await running(definition)
    await journey("ann", campaign_id, did=("clicked",))
    assert not await close_if_done(definition, campaign_id, now=NOW)
    await sweep(definition, campaign_id, now=NOW)
    await sent(campaign_id, "thanks", NOW)
    assert await close_if_done(definition, campaign_id, now=NOW)


async def test_chained_follow_ups_keep_it_open_until_the_last_window_closed(database: str) -> None:
    definition = campaign(step("reminder", "1d"), step("last-call", "1d", "not_purchased"))
    campaign_id = await running(definition)
    await journey("ann", campaign_id)
    await sweep(definition, campaign_id, now=NOW)
    await sent(campaign_id, "reminder", NOW)  # every row final again; the last call's window just opened
    for later in (timedelta(0), timedelta(hours=23)):
        assert not await close_if_done(definition, campaign_id, now=NOW + later)
    closed = NOW + timedelta(days=1, minutes=1)
    assert not await close_if_done(definition, campaign_id, now=closed)  # closed, and the last call is owed
    assert (await sweep(definition, campaign_id, now=closed)).planned == {"reminder": 0, "last-call": 1}
    await sent(campaign_id, "last-call", closed)
    assert await close_if_done(definition, campaign_id, now=closed)


async def test_campaigns_without_follow_ups_finish_by_their_rows(database: str) -> None:
    plain = await running(campaign())
    await journey("ann", plain)
    assert await outbox.finish_campaigns(NOW) == [plain]


async def test_a_recurring_campaign_is_done_after_its_last_run_once_no_runs_follow_up_can_fire(database: str) -> None:
    cron = campaign(step("reminder", "1d")).model_copy(update={"id": "weekly", "schedule": Schedule(cron="0 9 * * 1")})
    weekly = await running(cron)
    assert (await CampaignRow.get(id=weekly)).follow_up_steps == 1  # each run's journey has the reminder
    run = "run-20270405T0900Z"
    ann = await Customer.create(external_id="ann", name="Ann", opted_in_at=SENT - timedelta(days=30))
    await Delivery.create(
        campaign_id=weekly,
        step=run,
        customer=ann,
        channel="telegram",
        address="ann",
        status="sent",
        sent_at=NOW,
        text="t",
    )
    assert await outbox.finish_campaigns(NOW) == []  # every row is final, yet the run's reminder is ahead
    assert await finish(NOW + timedelta(days=2)) == []  # her window closed: the reminder is owed
    assert (await sweep(cron, weekly, now=NOW + timedelta(days=2))).planned == {f"{run}/reminder": 1}
    await sent(weekly, f"{run}/reminder", NOW + timedelta(days=2))
    await CampaignRow.filter(id=weekly).update(next_run_at=NOW + timedelta(days=5))
    assert await finish(NOW + timedelta(days=2)) == []  # a run is still ahead
    await CampaignRow.filter(id=weekly).update(next_run_at=None)  # past end_at
    assert await finish(NOW + timedelta(days=2)) == ["weekly"]
