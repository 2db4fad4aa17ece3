"""Follow-up windows: which are still open (``chatcast campaign status``), and closing a campaign none is left to.

A customer's window for a follow-up is open from the send of the step before it until that send plus ``after``
(:mod:`campaigns.timing.conditions`). A campaign with follow-ups is done only when no step can still produce a
message: every row is final, no window is open for a customer whose journey goes on, and no window that has
closed still owes its follow-up to the sweep. Only this module closes such a campaign, because only a process
that reads the campaign's file knows its steps: the dispatcher's ``finish_campaigns`` leaves campaigns with
follow-ups alone, so a worker that only sends can never end one early. A recurring campaign's runs each open a
journey with follow-ups of its own (:func:`campaigns.timing.followups.links`); it is done when, past ``end_at``, no run
is left and no journey can still produce a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.file.definition import Campaign, FollowUp
from campaigns.timing.conditions import Link, follow_up_delay, stopped_sql, successor_missing, when_sql
from campaigns.timing.followups import links
from storage.db import dialect
from storage.outbox import FINAL
from storage.sql import Params, execute, fetch

PENDING = ("planned", "queued", "sending")


@dataclass(frozen=True)
class StepAhead:
    """One follow-up as it stands: customers with an open window, when the next and the last of those close,
    windows closed and still to be planned (the next sweep does), and rows of the step before it not sent
    yet (their windows open when they are). ``journey``: the step that opened its journey (``main``, or a run)."""

    step: str
    previous: str
    after: timedelta
    follow_up: FollowUp
    journey: str
    open: int = 0
    next_close: datetime | None = None
    last_close: datetime | None = None
    due: int = 0
    waiting: int = 0
    waiting_until: datetime | None = None  # when the last of those waiting rows is due


def _moment(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


def _customers(campaign: Campaign, campaign_id: int, link: Link, now: datetime, q: Params, *, open_: bool) -> str:
    """SQL: ``FROM`` the sent rows of the step before the link's follow-up whose customer's journey goes on and
    who have no row of the follow-up yet, with a window still open (``open_``) or closed with the follow-up owed."""
    cid, prev, step = q.add(campaign_id), q.text(link.previous), q.text(link.step)
    journey = None if link.previous == link.journey else q.text(link.journey)
    follow_up = link.follow_up
    cutoff = q.moment(now - follow_up_delay(follow_up))
    if q.dialect == "postgres":
        cutoff = f"CAST({cutoff} AS TIMESTAMPTZ)"
    window = f"d.sent_at > {cutoff}" if open_ else f"d.sent_at <= {cutoff} AND {when_sql(follow_up, cid, q.dialect)}"
    return (
        f"FROM delivery d WHERE d.campaign_id = {cid} AND d.step = {prev} AND d.status = 'sent' AND {window}"
        f" AND {successor_missing(step, cid)} AND NOT {stopped_sql(campaign, cid, journey)}"
    )


async def ahead(campaign: Campaign, campaign_id: int, *, now: datetime) -> list[StepAhead]:
    """Each follow-up's open windows, owed follow-ups and waiting rows at ``now``, journey by journey."""
    found = []
    for link in await links(campaign, campaign_id):
        q = Params(dialect())
        opened = _customers(campaign, campaign_id, link, now, q, open_=True)
        [(count, first, last)] = await fetch(f"SELECT COUNT(*), MIN(d.sent_at), MAX(d.sent_at) {opened}", q.values)
        q = Params(dialect())
        owed = _customers(campaign, campaign_id, link, now, q, open_=False)
        [(due,)] = await fetch(f"SELECT COUNT(*) {owed}", q.values)
        q = Params(dialect())
        [(waiting, until)] = await fetch(
            "SELECT COUNT(*), MAX(COALESCE(next_attempt_at, due_at)) FROM delivery WHERE campaign_id ="
            f" {q.add(campaign_id)} AND step = {q.text(link.previous)} AND status IN {q.texts(PENDING)}",
            q.values,
        )
        delay, first_at, last_at = follow_up_delay(link.follow_up), _moment(first), _moment(last)
        next_close, last_close = (first_at + delay, last_at + delay) if first_at and last_at else (None, None)
        found.append(
            StepAhead(
                link.step,
                link.previous,
                delay,
                link.follow_up,
                link.journey,
                int(count),
                next_close,
                last_close,
                int(due),
                int(waiting),
                _moment(until),
            )
        )
    return found


def last_fire(steps: list[StepAhead], now: datetime) -> tuple[datetime | None, bool]:
    """When the last follow-up can fire, and whether that is only the earliest (it waits on messages that are not
    sent yet, or on a later step whose windows open only when an earlier one is sent)."""
    moments: list[datetime] = []
    later = False
    for i, step in enumerate(steps):
        rest = sum((s.after for s in steps[i + 1 :] if s.journey == step.journey), timedelta())
        if step.last_close is not None:
            moments.append(step.last_close + rest)
        if step.due:
            moments.append(now + rest)
        if step.waiting:
            moments.append(max(now, step.waiting_until or now) + step.after + rest)
        later = later or bool(step.waiting) or (bool(rest) and bool(step.open or step.due))
    return (max(moments) if moments else None), later


async def close_if_done(campaign: Campaign, campaign_id: int, *, now: datetime) -> bool:
    """Mark the running campaign ``done`` when no step can still produce a message; whether it did. One
    statement: a row sent while it runs is either final and seen, or keeps the campaign open."""
    q = Params(dialect())
    cid, at = q.add(campaign_id), q.moment(now)
    final = ", ".join(f"'{s}'" for s in FINAL)
    checks = [f"NOT EXISTS (SELECT 1 FROM delivery d WHERE d.campaign_id = {cid} AND d.status NOT IN ({final}))"]
    chained = await links(campaign, campaign_id)
    for open_ in (True, False):  # open windows first: while any is, the dearer check of owed ones is skipped
        for link in chained:
            checks.append(f"NOT EXISTS (SELECT 1 {_customers(campaign, campaign_id, link, now, q, open_=open_)})")
    sql = (
        f"UPDATE campaign SET status = 'done', updated_at = {at} WHERE id = {cid} AND status = 'running'"
        f" AND next_run_at IS NULL AND {' AND '.join(checks)}"
    )
    return bool(await execute(sql, q.values))
