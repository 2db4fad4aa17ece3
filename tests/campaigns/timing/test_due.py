"""Due times of planned rows: local time in each customer's zone (DST, both sides of the date line), the sending
window, the shop's quiet hours, the end date; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from campaigns.audience.planner import plan, register
from campaigns.file.definition import Campaign, Message, Schedule, Window
from campaigns.timing.due import set_due_times
from segments.definitions import parse
from storage.models import ChannelIdentity, Customer, Delivery

DEFS = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
SHOP = ZoneInfo("America/New_York")
ZONES = {"berlin": "Europe/Berlin", "kiritimati": "Pacific/Kiritimati", "pago": "Pacific/Pago_Pago", "none": None}
ZONES["unknown"] = "Mars/Olympus_Mons"


async def shop() -> None:
    for key, zone in ZONES.items():
        customer = await Customer.create(
            external_id=key,
            name=key.title(),
            timezone=zone,
            persona="everyone",
            opted_in_at=datetime(2027, 1, 1, tzinfo=UTC),
        )
        await ChannelIdentity.create(customer=customer, channel="telegram", address=str(customer.id))


async def due_times(schedule: Schedule, now: datetime, quiet: tuple[time, time] | None = None) -> dict[str, object]:
    await shop()
    campaign = Campaign(
        id="timed", name="Timed", channels=["telegram"], message=Message(brief="b", template="t"), schedule=schedule
    )
    campaign_id = await register(campaign, "timed")
    await plan(campaign, campaign_id, DEFS, as_of=now)
    await set_due_times(campaign, campaign_id, "main", now=now, shop_zone=SHOP, quiet=quiet)
    rows = await Delivery.filter(campaign_id=campaign_id).values_list(
        "customer__external_id", "due_at", "status", "note"
    )
    return {
        key: (due.astimezone(UTC) if due else None) if status != "skipped" else note for key, due, status, note in rows
    }


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def test_local_time_is_each_customers_own_across_dst_and_the_date_line(database: str) -> None:
    # Saturday 2027-03-27 12:00 UTC; Berlin moves to summer time that night, New York did on 14 March
    due = await due_times(Schedule(start_at=utc(2027, 3, 27, 12), local_time=time(9)), now=utc(2027, 3, 20))
    assert due == {
        "berlin": utc(2027, 3, 28, 7),  # 09:00 CEST on Sunday: Saturday's 09:00 CET was before the start
        "kiritimati": utc(2027, 3, 27, 19),  # UTC+14: it is already Sunday 02:00 there at the start
        "pago": utc(2027, 3, 27, 20),  # UTC-11: Saturday 01:00 there at the start, its 09:00 is 20:00 UTC
        "none": utc(2027, 3, 27, 13),  # no zone: the shop's (New York, EDT)
        "unknown": utc(2027, 3, 27, 13),  # a zone Python does not know: the shop's too
    }


async def test_quiet_hours_and_the_window_hold_rows_in_local_time(database: str) -> None:
    # 20:30 UTC on 1 June: 22:30 in Berlin (quiet), 10:30 next day in Kiritimati, 16:30 in New York, 09:30 in Pago Pago
    schedule = Schedule(start_at=utc(2027, 6, 1, 20, 30), window=Window(start=time(10), end=time(20)))
    due = await due_times(schedule, now=utc(2027, 5, 1), quiet=(time(21), time(8)))
    assert due == {
        "berlin": utc(2027, 6, 2, 8),  # quiet until 08:00, the window opens at 10:00 CEST
        "kiritimati": utc(2027, 6, 1, 20, 30),  # inside the window, outside quiet hours: as scheduled
        "pago": utc(2027, 6, 1, 21),  # 09:30 there: waits for the window at 10:00 (UTC-11)
        "none": utc(2027, 6, 1, 20, 30),
        "unknown": utc(2027, 6, 1, 20, 30),
    }


async def test_rows_that_would_go_out_after_the_end_date_are_skipped_with_the_reason(database: str) -> None:
    schedule = Schedule(start_at=utc(2027, 3, 27, 12), local_time=time(9), end_at=utc(2027, 3, 28))
    due = await due_times(schedule, now=utc(2027, 3, 20))
    assert due == {
        "berlin": "after_end",  # Sunday 07:00 UTC, after the end at midnight
        "kiritimati": utc(2027, 3, 27, 19),
        "pago": utc(2027, 3, 27, 20),
        "none": utc(2027, 3, 27, 13),
        "unknown": utc(2027, 3, 27, 13),
    }


async def test_without_local_times_a_row_is_due_at_the_start_or_now(database: str) -> None:
    assert set((await due_times(Schedule(start_at=utc(2027, 3, 27, 12)), now=utc(2027, 3, 20))).values()) == {
        utc(2027, 3, 27, 12)
    }
    await Delivery.all().delete()
    await Customer.all().delete()
    assert set((await due_times(Schedule(), now=utc(2027, 3, 20, 8))).values()) == {utc(2027, 3, 20, 8)}
