"""A campaign's whole journey on a simulated clock, against the sandboxes, on a scratch copy of the shop.

The campaign is launched at the start (planned, timed and written as ``campaign launch`` does), then the clock
moves from moment to moment until the end: to the next row falling due, the next follow-up window closing, the
next recurring run, the next thing a simulated customer does, and at least every hour. At each moment the work
of ``serve --once`` runs there (:func:`chatcast.once.burst`: the scheduler's jobs, then every send due, on a
dispatcher that keeps the simulated clock), so windows, local times, quiet hours, caps, suppression, the
holdout, follow-up conditions and ``stop_when`` act as they will. Between moments the customers who read a
message act on it at their own moment (:mod:`chatcast.shoppers`). Sends are not paced: the platforms' rates and
``send_rate`` spread a send over real seconds, which a simulated clock does not show.

Only the rehearsed campaign sends: the other running marketing campaigns of the copy are paused (their past
sends still count for caps), and one launched before under the same id is set aside (renamed).
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from campaigns import launch as engine
from campaigns.audience.planner import PlanResult
from campaigns.content.compose import WriteResult
from campaigns.content.writer import CopyWriter
from campaigns.file.definition import Campaign
from campaigns.results.report import Funnel
from campaigns.timing.clock import SimulatedClock
from campaigns.timing.windows import ahead, last_fire
from chatcast.console import UserError
from chatcast.engine import campaign_dispatcher, campaign_scheduler, unhappy
from chatcast.once import burst
from chatcast.playground import Playground, playground
from chatcast.settings import Settings
from chatcast.shoppers import REHEARSAL, Reaction, Shop, Shoppers
from segments.definitions import Definitions
from storage import campaigns as campaign_rows
from storage import outbox, rehearsals, reports

HEARTBEAT = timedelta(hours=1)  # the scheduler's jobs run at least this often in simulated time
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Rehearsal:
    """What happened: the launch, the customers, each day's sends, the end state, and the real seconds taken."""

    campaign: Campaign
    campaign_id: int
    start: datetime
    end: datetime
    seed: int
    plan: PlanResult = field(default_factory=PlanResult)
    write: WriteResult = field(default_factory=WriteResult)
    set_aside: bool = False  # a campaign of that id was launched before: renamed in the copy
    paused: list[str] = field(default_factory=list)  # other running campaigns, paused in the copy
    blocked_before: int = 0  # customers who had blocked the bot before the launch
    did: Counter[str] = field(default_factory=Counter)  # what readers did, by kind
    sent: Counter[tuple[date, str, str]] = field(default_factory=Counter)  # (shop's day, step, variant) -> sends
    status: str = "running"  # the campaign's state at the end
    done_at: datetime | None = None  # when it became done, if it did
    moments: int = 0  # moments the scheduler's jobs and the dispatcher ran at
    delivered: dict[str, tuple[int, int]] = field(default_factory=dict)  # channel -> (found in its chat, sent)
    first_run: datetime | None = None  # a recurring campaign's first run
    waiting: int = 0  # at the end: its messages still waiting for their time
    first_due: datetime | None = None  # ... and when the first of them is due
    last_fire: datetime | None = None  # at the end: when its last follow-up can fire, at the earliest
    next_run: datetime | None = None  # at the end: a recurring campaign's next run
    seconds: float = 0.0


def _shop(campaign: Campaign, products: list[tuple[str, float, str]]) -> Shop:
    """What the campaign's readers buy: its products where it names SKUs, else what is for sale."""
    skus = set(campaign.products.skus) if campaign.products else set()
    chosen = [p for p in products if p[0] in skus] or products
    return Shop(chosen, campaign.offer.code if campaign.offer else None)


async def rehearse(
    settings: Settings,
    file: Path,
    campaign: Campaign,
    definitions: Definitions,
    writer: CopyWriter,
    *,
    start: datetime,
    days: float,
    seed: int,
) -> Rehearsal:
    """Rehearse ``file`` (checked as ``campaign``) from ``start`` for ``days`` on the open (scratch) database."""
    started = time.perf_counter()
    clock = SimulatedClock(start)
    async with playground(shop_name=settings.shop_name, clock=clock) as play:
        recommend = campaign.products.recommend if campaign.products else None
        products = await rehearsals.for_sale(recommend.category if recommend else None)
        shoppers = Shoppers(play, REHEARSAL, seed, _shop(campaign, products))
        out = Rehearsal(campaign, 0, clock(), clock() + timedelta(days=days), seed)
        out.set_aside = await rehearsals.set_aside(campaign.id)
        out.blocked_before = await shoppers.block_some()
        prepared = await engine.prepare(
            file, definitions, writer, as_of=clock(), shop_name=settings.shop_name, shop_url=settings.shop_url,
            shop_zone=settings.zone, quiet=settings.quiet_span, unhappy=unhappy(settings),
        )  # fmt: skip
        if prepared.recurring and prepared.next_run is None:
            raise UserError(f"{campaign.id}: its schedule has no run left before end_at")
        p = prepared.plan
        if not prepared.recurring and not p.planned:
            raise UserError(
                f"{campaign.id}: nobody would get it at {start:%Y-%m-%d %H:%M %Z}: of {p.audience:,} customers in its"
                f" personas and segments, {p.excluded:,} are excluded, {p.no_consent:,} have not opted in,"
                f" {p.unreachable:,} have no reachable chat, {p.suppressed:,} are unhappy, {p.holdout:,} are held out"
            )
        out.campaign_id, out.plan, out.write = prepared.campaign_id, prepared.plan, prepared.write
        out.first_run = prepared.next_run
        await engine.set_status(out.campaign_id, "running")
        out.paused = await rehearsals.pause_others(out.campaign_id)
        await _live(settings, play, shoppers, out, clock, definitions, writer)
        out.delivered = play.delivered(await rehearsals.sent_since(out.campaign_id, EPOCH))
        if out.status not in ("done", "cancelled"):
            await _still_ahead(out, clock())
    out.did = shoppers.done
    out.seconds = time.perf_counter() - started
    return out


async def funnel_by_step(campaign_id: int) -> dict[tuple[str, str], Funnel]:
    """The campaign's funnel per step and variant, counted as ``chatcast report campaign`` counts it."""
    found: dict[tuple[str, str], Funnel] = {}
    for cell in await reports.funnel_cells(campaign_id):
        found.setdefault((cell.step, cell.variant), Funnel()).add(cell)
    return found


async def _live(
    settings: Settings,
    play: Playground,
    shoppers: Shoppers,
    out: Rehearsal,
    clock: SimulatedClock,
    definitions: Definitions,
    writer: CopyWriter,
) -> None:
    """Move the clock from moment to moment until the end (or until nothing can happen any more)."""
    scheduler = campaign_scheduler(settings, writer, play.channels, role="worker", definitions=definitions)
    dispatcher = campaign_dispatcher(
        settings, play.channels, worker="rehearsal", clock=clock, sleep=clock.sleep, paced=False, links=play.links
    )
    pending: list[Reaction] = []
    seen: set[int] = set()
    last = EPOCH
    while True:
        await burst(scheduler, dispatcher, now=clock(), wait=False)  # a retry's or a cap's moment is a moment
        out.moments += 1
        fresh = [s for s in await rehearsals.sent_since(out.campaign_id, last) if s.delivery_id not in seen]
        for s in fresh:
            seen.add(s.delivery_id)
            out.sent[(s.sent_at.astimezone(settings.zone).date(), s.step, s.variant)] += 1
            last = max(last, s.sent_at)
        for reaction in shoppers.reactions(fresh):
            heapq.heappush(pending, reaction)
        out.status = await campaign_rows.status(out.campaign_id)
        if out.status == "done" and out.done_at is None:
            out.done_at = clock()
        if out.status in ("done", "cancelled") and not pending:
            return
        moment = await _next(out, clock(), play)
        while pending and pending[0].at <= moment:
            reaction = heapq.heappop(pending)
            clock.to(reaction.at)
            await shoppers.perform([reaction])
        if moment >= out.end:
            return
        clock.to(moment)


async def _next(out: Rehearsal, now: datetime, play: Playground) -> datetime:
    """The next moment the jobs or the dispatcher have work: a row due, a follow-up window closing, a recurring
    run; at most a heartbeat ahead, and never past the end. (Customers act between moments, at their own.)"""
    found = [now + HEARTBEAT, out.end]
    due = await outbox.next_due(now, play.channels)
    if due is not None:
        found.append(due)
    if out.status == "running":
        found += [s.next_close for s in await ahead(out.campaign, out.campaign_id, now=now) if s.next_close]
        row = await campaign_rows.by_key(out.campaign.id)
        if row is not None and row.next_run_at is not None:
            found.append(row.next_run_at)
    return min(m for m in found if m > now) if any(m > now for m in found) else out.end


async def _still_ahead(out: Rehearsal, now: datetime) -> None:
    """What the campaign still has ahead when the rehearsal ends: messages waiting, follow-ups, its next run."""
    out.waiting, out.first_due = await rehearsals.waiting(out.campaign_id)
    steps = await ahead(out.campaign, out.campaign_id, now=now)
    if any(s.open or s.due or s.waiting for s in steps):
        out.last_fire = last_fire(steps, now)[0]
    row = await campaign_rows.by_key(out.campaign.id)
    out.next_run = row.next_run_at if row is not None else None
