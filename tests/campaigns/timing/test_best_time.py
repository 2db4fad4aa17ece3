"""``send_time: best`` through the engine on SQLite and PostgreSQL: fitted hours from scripted events, the control
arm held out by hash at the fixed time, best rows due at their customer's hour in local time (within the window),
and the report's lift of best over fixed with intervals, in the CLI too."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from campaigns.audience.planner import plan, register
from campaigns.audience.sql import BUCKETS, bucket, seeds
from campaigns.file.definition import Campaign, Message, Offer, Schedule, Window
from campaigns.results.report import build
from campaigns.timing.best_time import allowed_hours, best_moment
from campaigns.timing.due import set_due_times
from chatcast.cli import app
from segments.definitions import parse
from segments.sendtime_fit import fit_send_times
from storage import db
from storage.models import Campaign as CampaignRow
from storage.models import ChannelIdentity, Customer, Delivery, Event
from tests.fakes.databases import truncate

NOW = datetime(2027, 4, 5, 12, tzinfo=UTC)  # Monday
DEFS = parse("personas:\n  - {id: everyone, description: d, tone: t}\n")
NY, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
START = NOW + timedelta(hours=1)  # 09:00 in New York, 15:00 in Berlin: inside the window in both


def campaign(key: str = "timed", control: float = 0.3) -> Campaign:
    schedule = Schedule(
        start_at=START, window=Window(start=time(8), end=time(20)), send_time="best", send_time_control=control
    )
    return Campaign(
        id=key, name=key, channels=["telegram"], message=Message(brief="b", template="t"), schedule=schedule
    )


async def person(key: str, zone: ZoneInfo | None, weekday: int = 0, hour: int = 0, replies: int = 0) -> Customer:
    """An opted-in customer who replied ``replies`` times, on ``weekday`` at ``hour``:20 local, in past weeks."""
    customer = await Customer.create(
        external_id=key, name=key, persona="everyone", timezone=zone.key if zone else None,
        opted_in_at=NOW - timedelta(days=60),
    )  # fmt: skip
    await ChannelIdentity.create(customer=customer, channel="telegram", address=key)
    for week in range(1, replies + 1):
        day = (NOW - timedelta(weeks=week)).date() + timedelta(days=weekday)
        moment = datetime.combine(day, time(hour, 20), zone or UTC)
        await Event.create(type="replied", customer=customer, at=moment)
    return customer


def arm(customer_id: int, key: str = "timed", control: float = 0.3) -> str:
    return "fixed" if bucket(customer_id, seeds(key, "send_time")) < round(control * BUCKETS) else "best"


async def test_best_rows_are_due_at_the_learnt_hour_and_the_control_at_the_fixed_time(
    database: str, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(20):
        await person(f"ny{n}", NY, weekday=2, hour=10, replies=4)  # Wednesday 10:00 in New York
        await person(f"owl{n}", BERLIN, weekday=5, hour=23, replies=4)  # Saturday 23:00: outside the window
    await fit_send_times(["everyone"], now=NOW, shop_zone=ZoneInfo("UTC"))
    for n in range(3):
        await person(f"new{n}", NY)  # joined after the fit: no learnt hour yet
    c = campaign()
    campaign_id = await register(c, "timed")
    await plan(c, campaign_id, DEFS, as_of=NOW)
    result = await set_due_times(c, campaign_id, "main", now=NOW, shop_zone=ZoneInfo("UTC"), quiet=(time(21), time(8)))
    rows = await Delivery.filter(campaign_id=campaign_id).values_list(
        "customer_id", "customer__external_id", "timing", "due_at"
    )
    arms = {key: timing for _, key, timing, _ in rows}
    assert all(timing == arm(cid) for cid, _, timing, _ in rows)  # the hash, as the planner's SQL computes it
    due = {key: moment.astimezone(UTC) for _, key, _, moment in rows}
    for prefix, best in (("ny", datetime(2027, 4, 7, 14, tzinfo=UTC)), ("owl", datetime(2027, 4, 5, 17, tzinfo=UTC))):
        group = [k for k in arms if k.startswith(prefix)]
        assert {arms[k] for k in group} == {"best", "fixed"}  # both arms in each group
        assert {due[k] for k in group if arms[k] == "fixed"} == {START}
        # New York: Wednesday 10:00 EDT; Berlin: Saturday 23:00 is outside 08-20, so the window's hour nearest
        # to 23:00 (19:00 CEST) on the first day it comes, Monday
        assert {due[k] for k in group if arms[k] == "best"} == {best}
    newcomers = [k for k in arms if k.startswith("new")]
    assert {due[k] for k in newcomers} == {START} and {arms[k] for k in newcomers} == {"best", "fixed"}
    assert result.best == sum(1 for k, a in arms.items() if a == "best" and k not in newcomers)
    unfitted = sum(1 for k in newcomers if arms[k] == "best")
    assert f"{unfitted} customers of the send_time best arm have no fitted hour" in caplog.text


def test_the_hour_in_progress_is_now_and_not_a_week_later() -> None:
    base = datetime(2027, 4, 5, 12, 37, tzinfo=UTC)  # Monday 08:37 in New York
    candidates = allowed_hours(base, NY, (time(8), time(20)), None, None)
    assert candidates[0] == base and best_moment(8, NY, candidates) == base  # Monday 08:00-09:00 is under way
    assert best_moment(9, NY, candidates) == datetime(2027, 4, 5, 13, tzinfo=UTC)


async def test_a_best_row_never_waits_past_the_offers_expiry(database: str) -> None:
    for n in range(20):
        await person(f"ny{n}", NY, weekday=4, hour=10, replies=4)  # Friday 10:00 in New York
    await fit_send_times(["everyone"], now=NOW, shop_zone=ZoneInfo("UTC"))
    offer = Offer(code="SPRING", discount="10%", expires=date(2027, 4, 7))  # Wednesday
    c = campaign("expiring").model_copy(update={"offer": offer})
    campaign_id = await register(c, "expiring")
    await plan(c, campaign_id, DEFS, as_of=NOW)
    await set_due_times(c, campaign_id, "main", now=NOW, shop_zone=ZoneInfo("UTC"))
    due = await Delivery.filter(campaign_id=campaign_id, timing="best").values_list("due_at", flat=True)
    # Friday is after the offer ends (Wednesday): the nearest hour of the day to 10:00 before it, Monday's
    assert due and {d.astimezone(UTC) for d in due} == {datetime(2027, 4, 5, 14, tzinfo=UTC)}


async def scripted_report_scenario(key: str = "lifted") -> None:
    """500 customers, half held at the fixed time; 40% of the best arm engage, 10% of the fixed one."""
    c = campaign(key, control=0.5)
    at = NOW - timedelta(days=60)
    await Customer.bulk_create(
        [Customer(external_id=f"c{i}", name=f"C{i}", persona="everyone", opted_in_at=at) for i in range(500)]
    )
    customers = await Customer.all().values_list("id", flat=True)
    await ChannelIdentity.bulk_create(
        [ChannelIdentity(customer_id=i, channel="telegram", address=str(i)) for i in customers]
    )
    campaign_id = await register(c, key)
    await plan(c, campaign_id, DEFS, as_of=NOW)
    await Delivery.filter(campaign_id=campaign_id).update(status="sent", sent_at=START)
    events, seen = [], {"best": 0, "fixed": 0}
    rows = await Delivery.filter(campaign_id=campaign_id).order_by("id").values_list("id", "customer_id", "timing")
    for delivery_id, customer_id, timing in rows:
        seen[timing] += 1
        if seen[timing] % 10 < (4 if timing == "best" else 1):  # every tenth row from 0: 4 in 10, or 1 in 10
            kind = "clicked" if len(events) % 2 else "replied"
            events.append(
                Event(type=kind, customer_id=customer_id, delivery_id=delivery_id, campaign_id=campaign_id, at=START)
            )
    await Event.bulk_create(events)


async def test_the_report_shows_the_lift_of_best_over_fixed(database: str) -> None:
    await scripted_report_scenario()
    report = await build(await CampaignRow.get(key="lifted"))
    (test,) = report.experiments
    assert (test.name, test.control, test.treated) == ("send time", "fixed", "best")
    assert sum(test.sent.values()) == 500 and min(test.sent.values()) > 200
    engaged = test.comparisons["engaged"]
    best, fixed = test.rates["engaged"]["best"], test.rates["engaged"]["fixed"]
    assert best.rate == pytest.approx(0.4, abs=0.03) and fixed.rate == pytest.approx(0.1, abs=0.03)
    assert engaged.difference == pytest.approx(best.rate - fixed.rate)
    assert 0 < engaged.low < engaged.difference < engaged.high and engaged.p_value < 0.001
    assert engaged.verdict == "best is better" and test.decision.startswith("keep send_time: best")
    assert set(report.by["timing"]) == {"best", "fixed"}
    assert report.as_dict()["experiments"][0]["comparisons"]["engaged"]["verdict"] == "best is better"


def test_the_cli_report_states_the_lift_and_the_decision(
    backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def seed() -> None:
        async with db.database(backend):
            if backend.startswith("postgres"):
                await truncate()
            await scripted_report_scenario()

    asyncio.run(seed())
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    monkeypatch.setenv("COLUMNS", "200")
    page = tmp_path / "report.html"
    result = CliRunner().invoke(app, ["report", "campaign", "lifted", "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert "Test: send time" in result.output and "engaged (clicked or replied)" in result.output
    assert "best is better" in result.output and "Decision (send time): keep send_time: best" in result.output
    html = page.read_text(encoding="utf-8")  # the same block as the dashboard's campaign page
    assert '<table class="experiment" data-test="send time">' in html and 'data-metric="engaged"' in html
    assert "keep send_time: best: it lifts engagement significantly" in html
