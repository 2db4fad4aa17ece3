"""A campaign's life from the marketer's side: launch (register, plan, write, send), pause, resume, cancel, status.

Channels, the writer and the shop's definitions are given by the caller (the composition root): this module
only orders the engine's steps, each of which is safe to run again after a crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from campaigns.audience.caps import Caps
from campaigns.audience.planner import PlanResult, audience_zones, plan, register
from campaigns.audience.suppression import Suppression, Unhappy
from campaigns.content.compose import MAIN, WriteResult, write_copy
from campaigns.content.writer import CopyWriter
from campaigns.delivery.dispatcher import HEARTBEAT, Dispatcher, DispatchStats
from campaigns.delivery.links import TrackedLinks
from campaigns.file.definition import Campaign
from campaigns.file.loader import load_campaign
from campaigns.ports import Channel
from campaigns.timing import recurring
from campaigns.timing.due import DueResult, Span, set_due_times
from campaigns.timing.readiness import Shop
from segments.definitions import Definitions
from storage import campaigns as campaign_rows
from storage.errors import ChatcastError
from storage.timezones import UTC_ZONE

RETRY_WAIT = 60.0  # seconds a launch waits for a retry or a hold before leaving the row to serve


class CampaignStateError(ChatcastError):
    """The campaign cannot do that from where it stands (e.g. resume a cancelled one)."""


@dataclass
class Prepared:
    """A campaign registered, planned and written: ready to send."""

    campaign: Campaign
    campaign_id: int
    plan: PlanResult
    write: WriteResult
    recurring: bool = False  # a cron campaign: ``serve`` plans each run at its time
    next_run: datetime | None = None
    due: DueResult = field(default_factory=DueResult)  # after_end: rows too late in their customer's zone


async def prepare(
    path: Path,
    definitions: Definitions,
    writer: CopyWriter,
    *,
    as_of: datetime,
    shop_name: str = "our shop",
    shop_url: str | None = None,
    progress: Callable[[int], None] | None = None,
    on_planned: Callable[[PlanResult], None] | None = None,
    shop_zone: ZoneInfo = UTC_ZONE,
    quiet: Span | None = None,
    unhappy: Unhappy | None = None,
) -> Prepared:
    """Load and check the file (also whether it can go out as written at ``as_of``: :mod:`campaigns.timing.readiness`),
    register it, plan its audience, give each row its due time (schedule, local time, window, ``quiet`` hours in
    the customer's zone, else ``shop_zone``), and write every row's copy."""
    skus = await campaign_rows.known_skus()
    categories = await campaign_rows.known_categories()
    shop = Shop(now=as_of, zone=shop_zone, url=shop_url, quiet=quiet)
    campaign = load_campaign(path, definitions=definitions, skus=skus, categories=categories, shop=shop)
    schedule = campaign.schedule
    if schedule is not None and schedule.end_at is not None and schedule.cron is None:
        # the window, local_time and quiet hours hold in each customer's zone: refuse, before anything is
        # written, an end_at that comes before the first moment for every one of them
        zones = await audience_zones(campaign, definitions, as_of=as_of, unhappy=unhappy)
        audience = replace(shop, zones=zones)
        load_campaign(path, definitions=definitions, skus=skus, categories=categories, shop=audience)
    campaign_id = await register(campaign, path.read_text(encoding="utf-8"))
    if campaign.schedule is not None and campaign.schedule.cron:
        first = await recurring.start(campaign, campaign_id, now=as_of, shop_zone=shop_zone)
        return Prepared(campaign, campaign_id, PlanResult(), WriteResult(), recurring=True, next_run=first)
    planned = await plan(
        campaign, campaign_id, definitions, as_of=as_of, due_at=_start(campaign, as_of), unhappy=unhappy
    )
    due = await set_due_times(campaign, campaign_id, MAIN, now=as_of, shop_zone=shop_zone, quiet=quiet)
    if on_planned:
        on_planned(planned)
    written = await write_copy(
        campaign,
        campaign_id,
        definitions,
        writer,
        as_of=as_of,
        shop_name=shop_name,
        shop_url=shop_url,
        progress=progress,
    )
    return Prepared(campaign, campaign_id, planned, written, due=due)


async def run_due(
    campaign: Campaign,
    campaign_id: int,
    definitions: Definitions,
    writer: CopyWriter,
    *,
    now: datetime,
    shop_zone: ZoneInfo,
    quiet: Span | None = None,
    shop_name: str = "our shop",
    unhappy: Unhappy | None = None,
    shop_url: str | None = None,
) -> tuple[str, PlanResult, WriteResult] | None:
    """A recurring campaign's run that is due (:mod:`campaigns.timing.recurring`) through the same stages as a
    launch: its audience planned as a step of its own, due times, copy; then the next run is set."""
    moment = await recurring.due_run(campaign, campaign_id, now=now, shop_zone=shop_zone)
    if moment is None:
        return None
    step = recurring.run_step(moment)
    planned = await plan(campaign, campaign_id, definitions, as_of=now, step=step, unhappy=unhappy)
    await set_due_times(campaign, campaign_id, step, now=now, shop_zone=shop_zone, quiet=quiet, run_start=moment)
    written = await write_copy(
        campaign, campaign_id, definitions, writer, as_of=now, step=step, shop_name=shop_name, shop_url=shop_url
    )
    await recurring.advance(campaign, campaign_id, moment, shop_zone)
    return step, planned, written


def _start(campaign: Campaign, as_of: datetime) -> datetime | None:
    start = campaign.schedule.start_at if campaign.schedule else None
    return start if start is not None and start > as_of else None


def capped(
    channels: Mapping[str, Channel], rates: Mapping[str, float] | None, send_rate: float | None
) -> dict[str, float]:
    """The overall rate per channel (settings over the adapter's limits), capped by a campaign's ``send_rate``."""
    out = dict(rates or {})
    if send_rate:
        for name, channel in channels.items():
            rate = out.get(name, channel.limits.messages_per_second)
            out[name] = min(rate, send_rate) if rate and rate > 0 else send_rate
    return out


async def send(
    campaign_id: int,
    channels: Mapping[str, Channel],
    *,
    worker: str,
    rates: Mapping[str, float] | None = None,
    send_rate: float | None = None,
    caps: Caps | None = None,
    suppression: Suppression | None = None,
    shared_limits: str | None = None,
    stop: asyncio.Event | None = None,
    heartbeat: float = HEARTBEAT,
    links: TrackedLinks | None = None,
) -> DispatchStats:
    """Start the campaign and send what is due now at no more than ``send_rate`` a second on each channel, then
    return: what is due later, or due but held for more than ``RETRY_WAIT`` seconds (a backoff, a frequency cap),
    waits for ``serve``. ``shared_limits``: the Redis URL whose rate limits every sender shares (``serve``'s too);
    ``stop`` set (a SIGTERM): the requests in flight finish, the rest goes back to the queue; ``heartbeat``: seconds
    between renewals of this process's claims (well under the claim timeout of the sweeps); ``links``: how the
    campaign's links are tracked (None: they go out as they are)."""
    await set_status(campaign_id, "running")
    dispatcher = Dispatcher(
        channels,
        worker=worker,
        rates=capped(channels, rates, send_rate),
        caps=caps,
        suppression=suppression,
        shared_limits=shared_limits,
        heartbeat=heartbeat,
        links=links,
    )
    try:
        return await dispatcher.drain(max_wait=RETRY_WAIT, stop=stop)
    finally:
        await dispatcher.close()


_MOVES = {
    "running": {"planned", "paused", "draft"},
    "paused": {"running", "planned"},
    "cancelled": {"draft", "planned", "running", "paused"},
}


async def set_status(campaign_id: int, status: str) -> str:
    """Move the campaign to ``status`` if it may go there; cancelling skips every row not yet sent."""
    current = await campaign_rows.status(campaign_id)
    if current == status:
        return current
    if current not in _MOVES.get(status, set()):
        raise CampaignStateError(f"the campaign is {current}: it cannot become {status}")
    await campaign_rows.set_status(campaign_id, status)
    if status == "cancelled":
        await campaign_rows.skip_unsent(campaign_id, "cancelled")
    return status
