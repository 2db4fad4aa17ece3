"""The best send time, fitted from scripted engagement events on SQLite and PostgreSQL: the hour a history implies
(in the customer's zone, across DST), the persona's prior for a thin history, everyone's for no persona."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from segments.sendtime import HOURS, ChunkedEvents, SendTimeModel, local_week_hours, smooth
from segments.sendtime_fit import fit_send_times
from storage.models import Customer, Event, SendTime

NOW = datetime(2027, 4, 5, 12, tzinfo=UTC)  # a Monday
PERSONAS = ["night", "everyone"]
NY, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


def at(weekday: int, hour: int, weeks_ago: int, zone: ZoneInfo) -> datetime:
    """The wall time ``hour``:20 on ``weekday`` (0 Monday) of the week ``weeks_ago`` weeks before NOW, in ``zone``."""
    monday = (NOW - timedelta(weeks=weeks_ago)).astimezone(zone).date() - timedelta(days=NOW.weekday())
    return datetime.combine(monday + timedelta(days=weekday), datetime.min.time(), zone).replace(hour=hour, minute=20)


def how(weekday: int, hour: int) -> int:
    return weekday * 24 + hour


async def customer(key: str, persona: str | None, zone: ZoneInfo | None, *events: tuple[str, datetime]) -> Customer:
    person = await Customer.create(external_id=key, name=key, persona=persona, timezone=zone.key if zone else None)
    for kind, moment in events:
        await Event.create(type=kind, customer=person, at=moment)
    return person


async def fitted() -> dict[str, tuple[int, str, float]]:
    report = await fit_send_times(PERSONAS, now=NOW, shop_zone=ZoneInfo("UTC"), chunk=3, page=4)  # many of each
    rows = await SendTime.all().values_list("customer__external_id", "hour", "source", "events")
    assert report.customers == len(rows)
    return {key: (hour, source, events) for key, hour, source, events in rows}


async def test_the_hour_the_history_implies_in_the_customers_zone(database: str) -> None:
    # Wednesday 10:20 in New York, over weeks on both sides of the switch to summer time (14 March 2027)
    replies = [("replied", at(2, 10, weeks, NY)) for weeks in (1, 2, 4, 5)]
    await customer("hist", "everyone", NY, *replies, ("clicked", at(5, 22, 3, NY)), ("sent", at(0, 9, 1, NY)))
    # the same UTC moments read in Berlin are another hour: the zone decides
    await customer("berliner", "everyone", BERLIN, *[("clicked", m) for _, m in replies], ("clicked", replies[0][1]))
    found = await fitted()
    assert found["hist"] == (how(2, 10), "history", 14.0)  # 4 replies x 3 + a click x 2; the send does not count
    berlin_hour = replies[0][1].astimezone(BERLIN)
    assert found["berliner"][:2] == (how(berlin_hour.weekday(), berlin_hour.hour), "history")


async def test_a_thin_history_falls_back_to_the_persona_then_to_everyone(database: str) -> None:
    for n in range(6):  # the night persona replies on Friday at 21:00 Berlin time
        await customer(f"owl{n}", "night", BERLIN, *[("replied", at(4, 21, w, BERLIN)) for w in (1, 2, 3)])
    await customer("thin", "night", BERLIN, ("clicked", at(1, 3, 1, BERLIN)))  # one click on Tuesday at 03:00
    await customer("keen", "night", BERLIN, *[("clicked", at(1, 3, w, BERLIN)) for w in (1, 2, 3, 4)])
    await customer("nobody", None, None)
    await customer("old", "everyone", None, *[("replied", NOW - timedelta(days=400 + d)) for d in range(5)])
    found = await fitted()
    assert found["thin"] == (how(4, 21), "persona", 2.0)
    assert found["keen"][:2] == (how(1, 3), "history")  # four clicks at one hour outweigh the persona
    # no persona: everyone's week (hours are local to each customer), whose peak is the owls' Friday evening
    assert found["nobody"] == (how(4, 21), "global", 0.0)
    assert found["old"] == (how(4, 21), "global", 0.0)  # a history over a year old is not read
    assert {found[f"owl{n}"][:2] for n in range(6)} == {(how(4, 21), "history")}


async def test_a_refit_replaces_the_hours(database: str) -> None:
    person = await customer("mover", None, None, *[("clicked", at(0, 8, w, ZoneInfo("UTC"))) for w in (1, 2, 3)])
    assert (await fitted())["mover"][:2] == (how(0, 8), "history")
    for w in (1, 2, 3, 4, 5):
        await Event.create(type="replied", customer=person, at=at(3, 18, w, ZoneInfo("UTC")))
    assert (await fitted())["mover"][:2] == (how(3, 18), "history")
    assert await SendTime.all().count() == 1


def test_local_hours_follow_dst_and_half_hour_zones() -> None:
    zones = [None, NY, ZoneInfo("Asia/Kolkata")]
    moments = [datetime(2027, 3, 14, h, m, tzinfo=UTC) for h in range(24) for m in (10, 40)]
    moments.append(datetime(2027, 11, 7, 5, tzinfo=UTC))
    minutes = np.array([int(m.timestamp()) // 60 for m in moments], dtype=np.int64)
    for code, zone in enumerate(zones):
        got = local_week_hours(minutes, np.full(len(minutes), code, dtype=np.int64), zones)
        local = [m.astimezone(zone) if zone else m for m in moments]
        assert got.tolist() == [how(m.weekday(), m.hour) for m in local]


def test_the_model_prefers_the_planted_hour_and_smooths_around_the_week() -> None:
    assert smooth(np.eye(HOURS)[0])[[167, 0, 1]].tolist() == [0.25, 0.5, 0.25]
    model = SendTimeModel(personas=1)
    customers = np.array([10, 20, 30], dtype=np.int64)
    owner = np.array([10, 10, 10, 20, 20, 20, 20], dtype=np.int64)
    hours = np.array([5, 5, 100, 7, 7, 7, 7], dtype=np.int64)
    model.add(customers, np.array([1, 1, 0], dtype=np.int16), owner, hours, np.full(len(owner), 3.0))
    (result,) = list(model.fit())
    assert result.hours.tolist() == [5, 7, 7] and result.sources.tolist() == [0, 0, 2]
    assert result.events.tolist() == [9.0, 12.0, 0.0]


def test_events_in_any_order_are_sorted_into_chunks_of_customers() -> None:
    chunks = ChunkedEvents(customers=5, chunk=2)
    for index, hour, weight in [(2, 5, 1.0), (0, 7, 2.0), (4, 5, 3.0), (1, 0, 1.0), (3, 167, 2.0), (2, 6, 1.0)]:
        chunks.add(np.array([index]), np.array([hour]), np.array([weight]))
    found = [tuple(a.tolist() for a in chunks.take(b)) for b in range(3)]
    assert found == [([0, 1], [7, 0], [2.0, 1.0]), ([0, 1, 0], [5, 167, 6], [1.0, 2.0, 1.0]), ([0], [5], [3.0])]
    assert [a.tolist() for a in chunks.take(1)] == [[], [], []]  # taken once


async def test_no_customers_fit_nothing(database: str) -> None:
    report = await fit_send_times(PERSONAS, now=NOW, shop_zone=ZoneInfo("UTC"))
    assert (report.customers, report.events) == (0, 0)
