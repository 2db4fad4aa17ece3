"""Follow-ups: a campaign's later steps, planned by a sweep when each customer's window closes.

Each follow-up comes after the previous step (the main message, then each follow-up in order) for the
customers to whom that step was *sent*. Its window runs from that send to the send plus ``after``; when it
closes, the follow-up is decided for that customer, once: planned when its ``when`` held within the window
(:mod:`campaigns.timing.conditions`: ``clicked`` a button of this campaign, ``replied`` to the shop, ``purchased``,
each also negated) and the journey has not ended. ``stop_when`` ends a customer's journey for good:
``purchased`` or ``replied`` since the campaign first reached them, or ``opted_out``; an opt-out (by the customer,
or by blocking the bot) ends it whatever ``stop_when`` says, even after they subscribe again. The sweep is one
``INSERT ... SELECT`` per follow-up, with ``ON CONFLICT DO NOTHING`` on (campaign, step, customer): running
it again, late, or from two processes, adds nobody twice and decides nobody differently. It runs in slices of
``CHUNK`` customers (by id, walked on the unique index), each its own short statement: a follow-up to a million
customers never holds the database's write lock for long, and the dispatcher can send the first slice while
later ones are planned. The new rows are ``planned``: the scheduler then gives them their due time and copy.

A recurring campaign's every run opens a journey of its own: its follow-ups are steps of that run
(``run-20270608T0800Z/nudge``), judged from the run's send, and ``stop_when`` counts from that send too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from campaigns.file.definition import Campaign
from campaigns.file.step_text import MAIN, RUN_PREFIX
from campaigns.timing.conditions import Link, chain, follow_up_delay, stopped_sql, successor_missing, when_sql
from storage.db import dialect
from storage.sql import Params, execute, fetch

CHUNK = 50_000


@dataclass
class SweepResult:
    """Rows planned per follow-up step; how many slices the sweep took, and the longest one's seconds."""

    planned: dict[str, int] = field(default_factory=dict)
    slices: int = 0
    longest: float = 0.0

    @property
    def total(self) -> int:
        """Rows planned in all."""
        return sum(self.planned.values())


async def _bounds(campaign_id: int, step: str, after: int | None) -> tuple[int, int] | None:
    """The next slice of ``step``'s customers after customer id ``after``: its first and last id, or None."""
    q = Params(dialect())
    cid, prev = q.add(campaign_id), q.text(step)
    start = "" if after is None else f" AND customer_id > {q.add(after)}"
    base = f"FROM delivery WHERE campaign_id = {cid} AND step = {prev}{start}"
    first = await fetch(f"SELECT MIN(customer_id) {base}", q.values)
    if not first or first[0][0] is None:
        return None
    last = await fetch(f"SELECT customer_id {base} ORDER BY customer_id LIMIT 1 OFFSET {CHUNK - 1}", q.values)
    if last:
        return int(first[0][0]), int(last[0][0])
    end = await fetch(f"SELECT MAX(customer_id) {base}", q.values)
    return int(first[0][0]), int(end[0][0])


async def links(campaign: Campaign, campaign_id: int) -> list[Link]:
    """Every follow-up of every journey the campaign opened: the main message's, or each run's of a recurring one."""
    if campaign.schedule is None or not campaign.schedule.cron or not campaign.follow_ups:
        return chain(campaign, MAIN)
    q = Params(dialect())
    runs = await fetch(
        f"SELECT DISTINCT step FROM delivery WHERE campaign_id = {q.add(campaign_id)}"
        f" AND step LIKE {q.text(RUN_PREFIX + '%')} AND step NOT LIKE {q.text('%/%')} ORDER BY step",
        q.values,
    )
    return [link for (run,) in runs for link in chain(campaign, str(run))]


async def sweep(campaign: Campaign, campaign_id: int, *, now: datetime) -> SweepResult:
    """Plan every follow-up whose customers' windows have closed, for those its condition selects; rows planned
    per step."""
    result = SweepResult()
    for link in await links(campaign, campaign_id):
        planned, after = 0, None
        while (bounds := await _bounds(campaign_id, link.previous, after)) is not None:
            started = time.perf_counter()
            planned += await _plan(campaign, campaign_id, link, bounds, now)
            result.slices += 1
            result.longest = max(result.longest, time.perf_counter() - started)
            after = bounds[1]
        result.planned[link.step] = planned
    return result


async def _plan(campaign: Campaign, campaign_id: int, link: Link, bounds: tuple[int, int], now: datetime) -> int:
    """One follow-up's new rows among the customers of ``bounds`` (inclusive ids) whose window has closed."""
    q = Params(dialect())
    cid, step, prev = q.add(campaign_id), q.text(link.step), q.text(link.previous)
    journey = None if link.previous == link.journey else q.text(link.journey)
    low, high = q.add(bounds[0]), q.add(bounds[1])
    cutoff = q.moment(now - follow_up_delay(link.follow_up))
    at = q.moment(now)
    if q.dialect == "postgres":
        cutoff, at = f"CAST({cutoff} AS TIMESTAMPTZ)", f"CAST({at} AS TIMESTAMPTZ)"
    sql = (
        "INSERT INTO delivery (campaign_id, step, customer_id, channel, address, variant, persona, buttons,"
        " due_at, status, attempts, created_at, copy_arm)"  # copy_test: the customer keeps their arm
        f" SELECT d.campaign_id, {step}, d.customer_id, d.channel, d.address, d.variant, d.persona, '[]', {at},"
        f" 'planned', 0, {at}, d.copy_arm FROM delivery d WHERE d.campaign_id = {cid} AND d.step = {prev}"
        f" AND d.customer_id BETWEEN {low} AND {high}"
        f" AND d.status = 'sent' AND d.sent_at <= {cutoff}"
        # already planned (an earlier sweep): skip before any condition is evaluated
        f" AND {successor_missing(step, cid)}"
        f" AND {when_sql(link.follow_up, cid, q.dialect)} AND NOT {stopped_sql(campaign, cid, journey)}"
        " ON CONFLICT (campaign_id, step, customer_id) DO NOTHING"
    )
    return await execute(sql, q.values)
