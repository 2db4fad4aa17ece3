"""Recurring campaigns: a ``schedule.cron`` campaign is planned afresh at each run, as a step of its own.

A run's step is ``run-`` and the run id (``run-20270105T0900Z``, the fire time in UTC), so the unique key
(campaign, step, customer) makes each run reach a customer at most once, and a run is never planned twice.
The campaign row keeps ``next_run_at``: launching sets it, each run moves it on, and it becomes None after
``end_at``, when the campaign can finish. Runs missed while nothing was running are coalesced: the latest
one is planned at once, the older ones are not (a newsletter is not sent three times in a row). Each run opens
a journey of its own: its follow-ups are planned by the sweep as steps of the run (``run-20270105T0900Z/nudge``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from campaigns.file.definition import Campaign
from campaigns.file.step_text import RUN_PREFIX
from campaigns.timing.due import aware
from campaigns.timing.when import cron_runs, run_id
from storage.models import Campaign as CampaignRow
from storage.timezones import parse_timezone

HORIZON = timedelta(days=400)  # a cron fires at least once a year


def run_step(moment: datetime) -> str:
    """The step name of the run at ``moment``."""
    return RUN_PREFIX + run_id(moment)


def _zone(campaign: Campaign, shop_zone: ZoneInfo) -> ZoneInfo:
    schedule = campaign.schedule
    return parse_timezone(schedule.timezone) if schedule and schedule.timezone else shop_zone


def next_run(campaign: Campaign, after: datetime, shop_zone: ZoneInfo) -> datetime | None:
    """The first run after ``after`` (and not before ``start_at``), or None past ``end_at``."""
    schedule = campaign.schedule
    if schedule is None or schedule.cron is None:
        return None
    zone = _zone(campaign, shop_zone)
    start, end = aware(schedule.start_at, zone), aware(schedule.end_at, zone)
    since = max(after, start - timedelta(microseconds=1)) if start else after
    runs = cron_runs(schedule.cron, zone, since, since + HORIZON, limit=1)
    if not runs or (end is not None and runs[0] > end):
        return None
    return runs[0]


async def start(campaign: Campaign, campaign_id: int, *, now: datetime, shop_zone: ZoneInfo) -> datetime | None:
    """Launching a recurring campaign: set its first run (kept if already set); that moment."""
    row = await CampaignRow.get(id=campaign_id)
    if row.next_run_at is None:
        row.next_run_at = next_run(campaign, now, shop_zone)
        await row.save(update_fields=["next_run_at", "updated_at"])
    return row.next_run_at


async def due_run(campaign: Campaign, campaign_id: int, *, now: datetime, shop_zone: ZoneInfo) -> datetime | None:
    """The latest run that is due at ``now`` (older missed ones coalesce into it), or None."""
    row = await CampaignRow.get(id=campaign_id)
    if row.next_run_at is None or row.next_run_at > now or campaign.schedule is None or not campaign.schedule.cron:
        return None
    zone = _zone(campaign, shop_zone)
    due = cron_runs(campaign.schedule.cron, zone, row.next_run_at - timedelta(microseconds=1), now)
    return due[-1] if due else row.next_run_at


async def advance(campaign: Campaign, campaign_id: int, moment: datetime, shop_zone: ZoneInfo) -> None:
    """The run at ``moment`` is planned: set the next one (None past ``end_at``)."""
    row = await CampaignRow.get(id=campaign_id)
    row.next_run_at = next_run(campaign, moment, shop_zone)
    await row.save(update_fields=["next_run_at", "updated_at"])
