"""A follow-up's conditions in SQL: its ``when`` over each customer's window, and the campaign's ``stop_when``.

Every fragment is a condition on ``d``, the customer's row of the step a follow-up comes after. ``when`` is
judged over a fixed window per customer: from that row's send to the send plus the follow-up's ``after`` (the
moment the window closes and the follow-up is decided). What the customer does after the close does not
change the decision, so a sweep that runs late decides exactly as a timely one. ``stop_when`` is judged up to
now: a journey that ended stays ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from campaigns.file.definition import AnyOf, Campaign, FollowUp
from campaigns.file.step_text import MAIN, follow_up_step
from campaigns.timing.when import parse_delay


def before(moment: str, base: str, delta: timedelta, dialect: str) -> str:
    """SQL: ``moment`` is earlier than ``base`` plus ``delta`` (two timestamp expressions of the same row)."""
    seconds = int(delta.total_seconds())
    if dialect == "postgres":
        return f"{moment} < {base} + INTERVAL '{seconds} seconds'"
    # SQLite keeps moments as ISO text with an offset; julianday reads it (to about 20 microseconds)
    return f"(julianday({moment}) - julianday({base})) * 86400.0 < {seconds}"


def _did(kind: str, campaign_id: str, start: str, end: tuple[timedelta, str] | None) -> str:
    """SQL: the customer of ``d`` did ``kind`` at or after ``start`` (and, with ``end``, before ``start`` plus
    ``end[0]``, in dialect ``end[1]``)."""
    if kind == "purchased":
        table, at = '"order" o', "o.ordered_at"
        what = "o.customer_id = d.customer_id AND NOT o.is_return"
    else:
        table, at = "event e", "e.at"
        what = f"e.customer_id = d.customer_id AND e.type = '{kind}'"
        if kind == "clicked":  # a button of this campaign
            what += f" AND e.campaign_id = {campaign_id}"
        elif kind not in ("replied", "opted_out"):
            raise ValueError(f"unknown condition {kind!r}")
    bounded = f" AND {before(at, start, end[0], end[1])}" if end else ""
    return f"EXISTS (SELECT 1 FROM {table} WHERE {what} AND {at} >= {start}{bounded})"


def _one(condition: str, campaign_id: str, window: tuple[timedelta, str]) -> str:
    test = _did(condition.removeprefix("not_"), campaign_id, "d.sent_at", window)
    return f"NOT {test}" if condition.startswith("not_") else test


def when_sql(follow_up: FollowUp, campaign_id: str, dialect: str) -> str:
    """SQL over ``d`` for the follow-up's ``when``, in the customer's window: every item holds (and); an ``any``
    item when one of its conditions does (or); ``not_`` negates."""
    window = (follow_up_delay(follow_up), dialect)
    parts = []
    for item in follow_up.when:
        if isinstance(item, AnyOf):
            parts.append("(" + " OR ".join(_one(c, campaign_id, window) for c in item.any) + ")")
        else:
            parts.append(_one(item, campaign_id, window))
    return " AND ".join(parts) or "TRUE"


def stops(campaign: Campaign) -> list[str]:
    """The campaign's ``stop_when``, and always ``opted_out``: a customer who left is never followed up."""
    return [*campaign.stop_when, *(["opted_out"] if "opted_out" not in campaign.stop_when else [])]


def stopped_sql(campaign: Campaign, campaign_id: str, journey: str | None) -> str:
    """SQL over ``d``: the customer's journey has ended, by ``stop_when`` since it reached them (the send of its
    first step: the main message, or a recurring campaign's run), or by an opt-out whenever it came. ``journey``
    is None when ``d`` is the row of that first step, else the placeholder of the first step's name."""
    first = (
        "d.sent_at"
        if journey is None
        else f"(SELECT MIN(f.sent_at) FROM delivery f WHERE f.campaign_id = {campaign_id}"
        f" AND f.customer_id = d.customer_id AND f.step = {journey})"
    )
    parts = []
    for reason in stops(campaign):
        if reason == "opted_out":
            parts.append("EXISTS (SELECT 1 FROM customer c WHERE c.id = d.customer_id AND c.opted_out_at IS NOT NULL)")
        parts.append(_did(reason, campaign_id, first, None))
    return "(" + " OR ".join(parts) + ")"


def follow_up_delay(follow_up: FollowUp) -> timedelta:
    """The follow-up's ``after`` as a timedelta."""
    return parse_delay(follow_up.after)


@dataclass(frozen=True)
class Link:
    """One follow-up in one journey: the step it comes after, the follow-up, the step it is planned as, and the
    journey's first step (``main``, or the run of a recurring campaign that opened it)."""

    previous: str
    follow_up: FollowUp
    step: str
    journey: str = MAIN


def chain(campaign: Campaign, journey: str = MAIN) -> list[Link]:
    """The follow-ups of the journey that ``journey`` opens, each after the step before it: its first step, then
    each follow-up in order (in a recurring campaign's run, as steps of that run: ``run-<id>/<follow-up>``)."""
    previous, out = journey, []
    for follow_up in campaign.follow_ups:
        step = follow_up_step(journey, follow_up.id)
        out.append(Link(previous, follow_up, step, journey))
        previous = step
    return out


def successor_missing(step: str, campaign_id: str) -> str:
    """SQL over ``d``: the customer has no row of ``step`` (a bound text placeholder) yet."""
    return (
        f"NOT EXISTS (SELECT 1 FROM delivery f WHERE f.campaign_id = {campaign_id} AND f.step = {step}"
        " AND f.customer_id = d.customer_id)"
    )
