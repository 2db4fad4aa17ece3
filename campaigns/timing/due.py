"""When each planned row is due: the schedule's start, ``local_time`` in each customer's timezone, the sending
window and the shop's quiet hours (in the customer's local time too), and the end date.

Rows are updated one timezone at a time (a shop's customers live in a few hundred zones at most), so no
customer passes through Python. A customer without a timezone, or with one Python does not know, gets the
shop's. A row whose moment falls after ``end_at`` is skipped with the note ``after_end``; none is dropped
silently. Times are fixed when the row is planned: a row held back past its window (a long backlog, retries)
is not moved again. With ``send_time: best`` the rows of the ``best`` arm are then moved to each customer's
learnt hour (:mod:`campaigns.timing.best_time`); the ``fixed`` arm keeps the moment computed here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.file.definition import Campaign, Schedule
from campaigns.timing.best_time import set_best_times
from campaigns.timing.when import customer_zone, first_moment
from storage.db import dialect
from storage.sql import Params, execute, fetch
from storage.timezones import parse_timezone

Span = tuple[time, time]


@dataclass(frozen=True)
class DueResult:
    """How many rows got a due time, in how many zones, how many fell after the end date, and how many of the
    ``best`` arm (send_time: best) were moved to their customer's hour."""

    rows: int = 0
    zones: int = 0
    after_end: int = 0
    best: int = 0


def aware(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """``moment`` with ``zone`` attached when it has no timezone of its own."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone)


def needs_zones(schedule: Schedule | None, quiet: Span | None) -> bool:
    """Whether due times depend on the customer's timezone."""
    return quiet is not None or (
        schedule is not None and (schedule.local_time is not None or schedule.window is not None)
    )


async def set_due_times(
    campaign: Campaign,
    campaign_id: int,
    step: str,
    *,
    now: datetime,
    shop_zone: ZoneInfo,
    quiet: Span | None = None,
    run_start: datetime | None = None,
) -> DueResult:
    """Give the step's planned rows their due time (see the module docstring); ``run_start``: the moment of a
    recurring campaign's run, which replaces ``start_at``."""
    schedule = campaign.schedule
    zone = parse_timezone(schedule.timezone) if schedule and schedule.timezone else shop_zone
    start = run_start or (aware(schedule.start_at, zone) if schedule else None)
    end = aware(schedule.end_at, zone) if schedule else None
    q = Params(dialect())
    cid, name = q.add(campaign_id), q.text(step)
    rows = f"campaign_id = {cid} AND step = {name} AND status = 'planned'"
    base = list(q.values)
    result = await _fixed((rows, cid, name), base, q, schedule, quiet, shop_zone, start, end, now)
    if schedule is not None and schedule.send_time == "best":
        base_moment = start if start is not None and start > now else now
        last = end
        if campaign.offer is not None and campaign.offer.expires is not None:  # no waiting past the offer's end
            expiry = datetime.combine(campaign.offer.expires + timedelta(days=1), time(0), tzinfo=zone)
            last = expiry if last is None else min(last, expiry)
        moved = await set_best_times(
            campaign, campaign_id, step, base=base_moment, end=last, shop_zone=shop_zone, quiet=quiet
        )
        result = replace(result, best=moved)
    return result


async def _fixed(
    where: tuple[str, str, str], base: list[object], q: Params, schedule: Schedule | None, quiet: Span | None,
    shop_zone: ZoneInfo, start: datetime | None, end: datetime | None, now: datetime,
) -> DueResult:  # fmt: skip
    """The schedule's moment for every planned row, one timezone at a time when it depends on the zone."""
    rows, cid, name = where  # the rows' condition, and the placeholders of its campaign id and step
    local_time = schedule.local_time if schedule else None
    window = (schedule.window.start, schedule.window.end) if schedule and schedule.window else None
    if not needs_zones(schedule, quiet):
        moment = start if start is not None and start > now else now
        return await _apply(rows, base, q.dialect, None, moment, end, zones=0)
    names = await fetch(
        "SELECT DISTINCT c.timezone FROM delivery d JOIN customer c ON c.id = d.customer_id"
        f" WHERE d.campaign_id = {cid} AND d.step = {name} AND d.status = 'planned'",
        base,
    )
    total = DueResult()
    for (zone_name,) in names:
        tz = customer_zone(zone_name, shop_zone)
        moment = first_moment(start, local_time, tz, now, window=window, quiet=quiet)
        done = await _apply(rows, base, q.dialect, zone_name, moment, end, zones=1)
        total = DueResult(total.rows + done.rows, total.zones + 1, total.after_end + done.after_end)
    return total


async def _apply(
    rows: str, base: list[object], dialect_name: str, zone_name: str | None, moment: datetime,
    end: datetime | None, *, zones: int,
) -> DueResult:  # fmt: skip
    """Set ``moment`` on the rows (of customers in ``zone_name`` when given: a str, or None for no zone)."""
    q = Params(dialect_name)
    q.values = list(base)
    where = rows
    if zones:
        where += (
            " AND customer_id IN (SELECT id FROM customer WHERE timezone IS NULL)"
            if zone_name is None
            else f" AND customer_id IN (SELECT id FROM customer WHERE timezone = {q.text(str(zone_name))})"
        )
    if end is not None and moment > end:
        skipped = await execute(f"UPDATE delivery SET status = 'skipped', note = 'after_end' WHERE {where}", q.values)
        return DueResult(0, zones, skipped)
    changed = await execute(f"UPDATE delivery SET due_at = {q.moment(moment)} WHERE {where}", q.values)
    return DueResult(changed, zones, 0)
