"""Follow-ups: a campaign's later steps, planned by a sweep when their delay has passed and their condition holds.

Each follow-up comes after the previous step (the main message, then each follow-up in order) for the
customers to whom that step was *sent*, once ``after`` has passed since it was. Its ``when`` conditions all
hold over what the customer did since then: ``clicked`` (a button of this campaign), ``replied`` (wrote to
the shop), ``purchased`` (an order), each also negated. ``stop_when`` ends a customer's journey for good:
``purchased`` or ``replied`` since the campaign first reached them, or ``opted_out``. The sweep is one
``INSERT ... SELECT`` per follow-up, with ``ON CONFLICT DO NOTHING`` on (campaign, step, customer): running
it again, or from two processes, adds nobody twice. The new rows are ``planned``: the writer then gives them
their copy, as for the main step.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from campaigns.definition import AnyOf, Campaign
from campaigns.timing import parse_delay
from storage.db import dialect
from storage.sql import Params, execute

MAIN = "main"


@dataclass
class SweepResult:
    """Rows planned per follow-up step."""

    planned: dict[str, int] = field(default_factory=dict)

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
        else:
            parts.append(_since(reason, campaign_id, first))
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


async def sweep(campaign: Campaign, campaign_id: int, *, now: datetime) -> SweepResult:
    """Plan every follow-up whose time has come, for the customers its condition selects."""
    result = SweepResult()
    previous = MAIN
    for follow_up in campaign.follow_ups:
        q = Params(dialect())
        cid, step, prev = q.add(campaign_id), q.text(follow_up.id), q.text(previous)
        cutoff = q.moment(now - parse_delay(follow_up.after))
        at = q.moment(now)
        if q.dialect == "postgres":
            cutoff, at = f"CAST({cutoff} AS TIMESTAMPTZ)", f"CAST({at} AS TIMESTAMPTZ)"
        sql = (
            "INSERT INTO delivery (campaign_id, step, customer_id, channel, address, variant, persona, buttons,"
            " due_at, status, attempts, created_at)"
            f" SELECT d.campaign_id, {step}, d.customer_id, d.channel, d.address, d.variant, d.persona, '[]', {at},"
            f" 'planned', 0, {at} FROM delivery d WHERE d.campaign_id = {cid} AND d.step = {prev}"
            f" AND d.status = 'sent' AND d.sent_at <= {cutoff}"
            # already planned (an earlier sweep): skip before any condition is evaluated
            f" AND NOT EXISTS (SELECT 1 FROM delivery f WHERE f.campaign_id = d.campaign_id AND f.step = {step}"
            " AND f.customer_id = d.customer_id)"
            f" AND {condition_sql(follow_up.when, cid)} AND NOT {stop_sql(campaign.stop_when, cid)}"
            " ON CONFLICT (campaign_id, step, customer_id) DO NOTHING"
        )
        result.planned[follow_up.id] = await execute(sql, q.values)
        previous = follow_up.id
    return result
