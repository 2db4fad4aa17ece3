"""``send_time: best``: the rows of the ``best`` arm are due at their customer's learnt hour of the week.

The hour (:mod:`segments.sendtime`, stored by ``chatcast sendtime fit``) is an hour of the week in the customer's
zone. A row is due at its next occurrence from the schedule's start (or now; the hour in progress counts, due at
once), within a week and before ``end_at`` and the offer's expiry, inside the window and outside the quiet hours.
When that hour is not allowed (outside the window, in the quiet hours, past the end), the row is due at the
allowed hour closest to it in time of day, the earliest such. The ``fixed`` arm (the control) and customers never
fitted keep the schedule's moment (:mod:`campaigns.timing.due`).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from campaigns.file.definition import Campaign
from campaigns.timing.when import customer_zone, in_window, local_moment
from storage import sendtimes

Span = tuple[time, time]
HORIZON = timedelta(days=7)  # every hour of the week occurs once in it
log = logging.getLogger(__name__)


def hour_of_week(moment: datetime, tz: ZoneInfo) -> int:
    """The hour of the week (0 is Monday 00:00-01:00) of ``moment`` in ``tz``."""
    local = moment.astimezone(tz)
    return local.weekday() * 24 + local.hour


def allowed_hours(
    base: datetime, tz: ZoneInfo, window: Span | None, quiet: Span | None, end: datetime | None
) -> list[datetime]:
    """The whole local hours from ``base`` for a week (not after ``end``) inside the window and outside quiet hours."""
    day, found = base.astimezone(tz).date(), []
    for offset in range(8):
        for hour in range(24):
            moment = local_moment(day + timedelta(days=offset), time(hour), tz)
            if moment < base < moment + timedelta(hours=1):
                moment = base  # the hour in progress: its customers hear now, not a week later
            if moment < base or moment >= base + HORIZON or (end is not None and moment > end):
                continue
            if window is not None and not in_window(moment, *window, tz):
                continue
            if quiet is not None and in_window(moment, *quiet, tz):
                continue
            found.append(moment)
    return sorted(set(found))


def best_moment(hour: int, tz: ZoneInfo, candidates: list[datetime]) -> datetime | None:
    """The first candidate at ``hour`` of the week; else the earliest at the nearest hour of the day; else None."""
    if not candidates:
        return None
    exact = [m for m in candidates if hour_of_week(m, tz) == hour]
    if exact:
        return exact[0]

    def distance(moment: datetime) -> tuple[int, datetime]:
        gap = abs(moment.astimezone(tz).hour - hour % 24)
        return min(gap, 24 - gap), moment

    return min(candidates, key=distance)


async def set_best_times(
    campaign: Campaign,
    campaign_id: int,
    step: str,
    *,
    base: datetime,
    end: datetime | None,
    shop_zone: ZoneInfo,
    quiet: Span | None,
) -> int:
    """Give the step's planned ``best`` rows their customer's best moment (see the module docstring); how many."""
    schedule = campaign.schedule
    window = (schedule.window.start, schedule.window.end) if schedule and schedule.window else None
    per_zone: dict[str | None, list[datetime]] = {}
    moved = 0
    for zone_name, hour in await sendtimes.best_groups(campaign_id, step):
        tz = customer_zone(zone_name, shop_zone)
        if zone_name not in per_zone:
            per_zone[zone_name] = allowed_hours(base, tz, window, quiet, end)
        moment = best_moment(hour, tz, per_zone[zone_name])
        if moment is not None:
            moved += await sendtimes.set_best_due(campaign_id, step, zone_name, hour, moment)
    if unfitted := await sendtimes.unfitted(campaign_id, step):
        log.warning(
            "campaign %s: %d customers of the send_time best arm have no fitted hour and go at the fixed time"
            " (run chatcast sendtime fit before launching)", campaign.id, unfitted,
        )  # fmt: skip
    return moved
