"""Follow-ups: a campaign's later steps, planned by a sweep when their delay has passed and their condition holds.

Each follow-up comes after the previous step (the main message, then each follow-up in order) for the
customers to whom that step was *sent*, once ``after`` has passed since it was. Its ``when`` conditions all
hold over what the customer did since then: ``clicked`` (a button of this campaign), ``replied`` (wrote to
the shop), ``purchased`` (an order), each also negated. ``stop_when`` ends a customer's journey for good:
``purchased`` or ``replied`` since the campaign first reached them, or ``opted_out``; an opt-out (by the customer,
or by blocking the bot) ends it whatever ``stop_when`` says, even after they subscribe again. The sweep is one
``INSERT ... SELECT`` per follow-up, with ``ON CONFLICT DO NOTHING`` on (campaign, step, customer): running
it again, or from two processes, adds nobody twice. It runs in slices of ``CHUNK`` customers (by id, walked
on the unique index), each its own short statement: a follow-up to a million customers never holds the
database's write lock for long, and the dispatcher can send the first slice while later ones are planned. The
new rows are ``planned``: the writer then gives them their copy, as for the main step.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from campaigns.definition import AnyOf, Campaign, FollowUp
from campaigns.timing import parse_delay
from storage.db import dialect
from storage.sql import Params, execute, fetch

MAIN = "main"
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


def _since(kind: str, campaign_id: str, moment: str) -> str:
    """SQL: the customer of ``d`` did ``kind`` at or after ``moment`` (an SQL expression)."""
    if kind == "clicked":
        return (
            "EXISTS (SELECT 1 FROM event e WHERE e.customer_id = d.customer_id AND e.type = 'clicked'"
            f" AND e.campaign_id = {campaign_id} AND e.at >= {moment})"
        )
    if kind == "replied":
        return (
            "EXISTS (SELECT 1 FROM event e WHERE e.customer_id = d.customer_id AND e.type = 'replied'"
            f" AND e.at >= {moment})"
        )
    if kind == "purchased":
        return (
            'EXISTS (SELECT 1 FROM "order" o WHERE o.customer_id = d.customer_id AND NOT o.is_return'
            f" AND o.ordered_at >= {moment})"
        )
    raise ValueError(f"unknown condition {kind!r}")


def _one(condition: str, campaign_id: str) -> str:
    negated = condition.startswith("not_")
    test = _since(condition.removeprefix("not_"), campaign_id, "d.sent_at")
    return f"NOT {test}" if negated else test


def condition_sql(when: Sequence[str | AnyOf], campaign_id: str) -> str:
    """SQL over ``d`` (the previous step's sent row) for ``when``, since it was sent: every item holds (and); an
    ``any`` item when one of its conditions does (or); ``not_`` negates."""
    parts = []
    for item in when:
        if isinstance(item, AnyOf):
            parts.append("(" + " OR ".join(_one(c, campaign_id) for c in item.any) + ")")
        else:
            parts.append(_one(item, campaign_id))
    return " AND ".join(parts) or "TRUE"


def stop_sql(stop_when: Sequence[str], campaign_id: str) -> str:
    """SQL over ``d``: the customer's journey has ended (``stop_when``) since the campaign first reached them."""
    first = (
        f"(SELECT MIN(f.sent_at) FROM delivery f WHERE f.campaign_id = {campaign_id} AND f.customer_id = d.customer_id)"
    )
    parts = []
    for reason in stop_when:
        if reason == "opted_out":
            parts.append("EXISTS (SELECT 1 FROM customer c WHERE c.id = d.customer_id AND c.opted_out_at IS NOT NULL)")
            parts.append(
                "EXISTS (SELECT 1 FROM event e WHERE e.customer_id = d.customer_id AND e.type = 'opted_out'"
                f" AND e.at >= {first})"
            )
        else:
            parts.append(_since(reason, campaign_id, first))
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def _stops(campaign: Campaign) -> list[str]:
    """The campaign's ``stop_when``, and always ``opted_out``: a customer who left is never followed up."""
    return [*campaign.stop_when, *(["opted_out"] if "opted_out" not in campaign.stop_when else [])]


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


async def sweep(campaign: Campaign, campaign_id: int, *, now: datetime) -> SweepResult:
    """Plan every follow-up whose time has come, for the customers its condition selects."""
    result = SweepResult()
    previous = MAIN
    for follow_up in campaign.follow_ups:
        planned, after = 0, None
        while (bounds := await _bounds(campaign_id, previous, after)) is not None:
            started = time.perf_counter()
            planned += await _plan(campaign, campaign_id, follow_up, previous, bounds, now)
            result.slices += 1
            result.longest = max(result.longest, time.perf_counter() - started)
            after = bounds[1]
        result.planned[follow_up.id] = planned
        previous = follow_up.id
    return result


async def _plan(
    campaign: Campaign, campaign_id: int, follow_up: FollowUp, previous: str, bounds: tuple[int, int], now: datetime
) -> int:
    """One follow-up's new rows among the customers of ``bounds`` (inclusive ids)."""
    q = Params(dialect())
    cid, step, prev = q.add(campaign_id), q.text(follow_up.id), q.text(previous)
    low, high = q.add(bounds[0]), q.add(bounds[1])
    cutoff = q.moment(now - parse_delay(follow_up.after))
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
        f" AND NOT EXISTS (SELECT 1 FROM delivery f WHERE f.campaign_id = d.campaign_id AND f.step = {step}"
        " AND f.customer_id = d.customer_id)"
        f" AND {condition_sql(follow_up.when, cid)} AND NOT {stop_sql(_stops(campaign), cid)}"
        " ON CONFLICT (campaign_id, step, customer_id) DO NOTHING"
    )
    return await execute(sql, q.values)
