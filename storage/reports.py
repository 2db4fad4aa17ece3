"""Campaign reports by SQL aggregation: one pass over a campaign's deliveries for its funnel, small queries for its
daily series and its lift over the holdout.

The funnel is counted per (step, variant, persona, channel, status, note, send-time arm, copy arm and writer):
a million deliveries become a few hundred rows, which the caller sums along any dimension. A delivery's events
(clicks, replies, attributed conversions with their revenue) are aggregated per delivery before the join, so
each delivery counts once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import dialect
from storage.sql import Params, fetch


@dataclass(frozen=True)
class FunnelCell:
    """Deliveries of one step, variant, persona, channel and status (and note: why skipped), and what they did."""

    step: str
    variant: str
    persona: str
    channel: str
    status: str
    note: str
    deliveries: int
    clicked: int
    replied: int
    converted: int
    revenue: float
    opted_out: int
    timing: str = ""  # send_time best: best or fixed
    copy_arm: str = ""  # copy_test: llm or template, as assigned
    copy_source: str = ""  # who wrote the text in the end: template, model or fallback
    engaged: int = 0  # deliveries clicked or replied to


def _total(q: Params) -> str:
    """An attributed conversion's order total, from the event's JSON."""
    if q.dialect == "postgres":
        return "CAST(e.data->>'total' AS DOUBLE PRECISION)"
    return "CAST(json_extract(e.data, '$.total') AS REAL)"


async def funnel_cells(campaign_id: int) -> list[FunnelCell]:
    """The campaign's deliveries counted by step, variant, persona, channel and status, with their outcomes."""
    q = Params(dialect())
    cid = q.add(campaign_id)
    cid2 = q.add(campaign_id)
    sql = (
        "SELECT d.step, COALESCE(d.variant, ''), COALESCE(d.persona, ''), d.channel, d.status, COALESCE(d.note, ''),"
        " COUNT(*),"
        " SUM(CASE WHEN x.clicked > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN x.replied > 0 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN x.converted > 0 THEN 1 ELSE 0 END), SUM(COALESCE(x.revenue, 0)),"
        " SUM(CASE WHEN o.out_at IS NOT NULL AND d.sent_at IS NOT NULL AND o.out_at >= d.sent_at THEN 1 ELSE 0 END),"
        " COALESCE(d.timing, ''), COALESCE(d.copy_arm, ''), COALESCE(d.copy_source, ''),"
        " SUM(CASE WHEN x.clicked > 0 OR x.replied > 0 THEN 1 ELSE 0 END)"
        " FROM delivery d"
        " LEFT JOIN (SELECT e.delivery_id,"
        " SUM(CASE WHEN e.type = 'clicked' THEN 1 ELSE 0 END) AS clicked,"
        " SUM(CASE WHEN e.type = 'replied' THEN 1 ELSE 0 END) AS replied,"
        " SUM(CASE WHEN e.type = 'converted' THEN 1 ELSE 0 END) AS converted,"
        f" SUM(CASE WHEN e.type = 'converted' THEN COALESCE({_total(q)}, 0) ELSE 0 END) AS revenue"
        f" FROM event e WHERE e.campaign_id = {cid} AND e.delivery_id IS NOT NULL GROUP BY e.delivery_id) x"
        " ON x.delivery_id = d.id"
        # the customer's last opt-out (any channel, any source) since the campaign began: after this message?
        " LEFT JOIN (SELECT e.customer_id, MAX(e.at) AS out_at FROM event e WHERE e.type = 'opted_out'"
        f" AND e.at >= (SELECT MIN(f.sent_at) FROM delivery f WHERE f.campaign_id = {cid2})"
        " GROUP BY e.customer_id) o ON o.customer_id = d.customer_id"
        f" WHERE d.campaign_id = {cid}"
        " GROUP BY d.step, COALESCE(d.variant, ''), COALESCE(d.persona, ''), d.channel, d.status, COALESCE(d.note, ''),"
        " COALESCE(d.timing, ''), COALESCE(d.copy_arm, ''), COALESCE(d.copy_source, '')"
    )
    rows = await fetch(sql, q.values)
    return [
        FunnelCell(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            str(r[4]),
            str(r[5]),
            int(r[6]),
            int(r[7] or 0),
            int(r[8] or 0),
            int(r[9] or 0),
            float(r[10] or 0),
            int(r[11] or 0),
            str(r[12]),
            str(r[13]),
            str(r[14]),
            int(r[15] or 0),
        )
        for r in rows
    ]


async def daily(campaign_id: int) -> list[tuple[str, int, int, float]]:
    """Per day (UTC): messages sent, conversions attributed, their revenue."""
    q = Params(dialect())
    cid = q.add(campaign_id)
    if q.dialect == "postgres":
        sent_day, at_day = (
            "to_char(d.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
            "to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
        )
    else:
        sent_day, at_day = "substr(d.sent_at, 1, 10)", "substr(e.at, 1, 10)"
    sent = await fetch(
        f"SELECT {sent_day}, COUNT(*) FROM delivery d WHERE d.campaign_id = {cid} AND d.status = 'sent'"
        f" AND d.sent_at IS NOT NULL GROUP BY {sent_day}",
        q.values,
    )
    converted = await fetch(
        f"SELECT {at_day}, COUNT(*), SUM(COALESCE({_total(q)}, 0)) FROM event e WHERE e.campaign_id = {cid}"
        f" AND e.type = 'converted' GROUP BY {at_day}",
        q.values,
    )
    days: dict[str, list[float]] = {}
    for day, n in sent:
        days.setdefault(str(day), [0, 0, 0.0])[0] = int(n)
    for day, n, revenue in converted:
        entry = days.setdefault(str(day), [0, 0, 0.0])
        entry[1], entry[2] = int(n), float(revenue or 0)
    return [(day, int(v[0]), int(v[1]), float(v[2])) for day, v in sorted(days.items())]


@dataclass(frozen=True)
class Groups:
    """Customers of the first step who were sent the message or held out, and how many of each bought."""

    sent: int
    sent_bought: int
    holdout: int
    holdout_bought: int
    since: datetime | None
    until: datetime | None


async def holdout_groups(campaign_id: int, step: str, window: timedelta) -> Groups:
    """Who bought, among the step's sent and held-out customers, between its first send and its last send plus
    ``window``: the same span for both groups, so that their rates compare."""
    q = Params(dialect())
    cid, st = q.add(campaign_id), q.text(step)
    span = await fetch(
        f"SELECT MIN(sent_at), MAX(sent_at) FROM delivery WHERE campaign_id = {cid} AND step = {st}"
        " AND status = 'sent'",
        q.values,
    )
    first, last = span[0] if span else (None, None)
    if first is None:
        return Groups(0, 0, 0, 0, None, None)
    since, until = _moment(first), _moment(last) + window
    q2 = Params(dialect())
    cid, st, lo, hi = q2.add(campaign_id), q2.text(step), q2.moment(since), q2.moment(until)
    rows = await fetch(
        "SELECT d.status, COUNT(*), SUM(CASE WHEN b.customer_id IS NULL THEN 0 ELSE 1 END) FROM delivery d"
        ' LEFT JOIN (SELECT DISTINCT o.customer_id FROM "order" o WHERE NOT o.is_return'
        f" AND o.ordered_at >= {lo} AND o.ordered_at <= {hi}) b ON b.customer_id = d.customer_id"
        f" WHERE d.campaign_id = {cid} AND d.step = {st} AND d.status IN ('sent', 'holdout') GROUP BY d.status",
        q2.values,
    )
    found = {str(r[0]): (int(r[1]), int(r[2] or 0)) for r in rows}
    sent, holdout = found.get("sent", (0, 0)), found.get("holdout", (0, 0))
    return Groups(sent[0], sent[1], holdout[0], holdout[1], since, until)


def _moment(value: object) -> datetime:
    """A timestamp as the driver returned it (a datetime on PostgreSQL, ISO text on SQLite)."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace(" ", "T"))


@dataclass(frozen=True)
class CampaignLine:
    """One campaign on the dashboard's list: its rows by state."""

    id: int
    key: str
    name: str
    status: str
    targeted: int
    final: int
    sent: int
    converted: int

    @property
    def progress(self) -> float:
        """The share of its rows that are final (sent, failed, unknown, skipped or held out)."""
        return self.final / self.targeted if self.targeted else 0.0


async def campaign_lines() -> list[CampaignLine]:
    """Every marketing campaign (not the order notices), newest first, with its row counts (one grouped query)
    and attributed conversions."""
    rows = await fetch(
        "SELECT c.id, c.key, c.name, c.status, COUNT(d.id),"
        " SUM(CASE WHEN d.status IN ('sent', 'failed', 'unknown', 'skipped', 'holdout') THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN d.status = 'sent' THEN 1 ELSE 0 END)"
        " FROM campaign c LEFT JOIN delivery d ON d.campaign_id = c.id WHERE c.kind = 'marketing'"
        " GROUP BY c.id, c.key, c.name, c.status ORDER BY c.id DESC"
    )
    converted = dict(
        await fetch("SELECT campaign_id, COUNT(*) FROM event WHERE type = 'converted' GROUP BY campaign_id")
    )
    return [
        CampaignLine(
            int(r[0]),
            str(r[1]),
            str(r[2] or r[1]),
            str(r[3]),
            int(r[4] or 0),
            int(r[5] or 0),
            int(r[6] or 0),
            int(converted.get(r[0], 0)),
        )
        for r in rows
    ]


async def persona_sizes() -> list[tuple[str, int]]:
    """Customers per persona (unassigned as "-"), largest first."""
    rows = await fetch("SELECT COALESCE(persona, '-'), COUNT(*) FROM customer GROUP BY COALESCE(persona, '-')")
    return sorted(((str(p), int(n)) for p, n in rows), key=lambda x: (-x[1], x[0]))


async def waiting_for_a_person(limit: int = 20) -> list[tuple[int, str, str, str, datetime | None]]:
    """Conversations a person holds now: customer id, name, channel, reason, since when; oldest first."""
    rows = await fetch(
        "SELECT c.id, COALESCE(NULLIF(c.name, ''), c.external_id), v.channel, COALESCE(v.handoff_reason, ''),"
        " v.handoff_at FROM conversation v JOIN customer c ON c.id = v.customer_id WHERE v.holder = 'human'"
        f" ORDER BY v.handoff_at LIMIT {int(limit)}"
    )
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3]), None if r[4] is None else _moment(r[4])) for r in rows]


async def previews(campaign_id: int, step: str = "main") -> list[tuple[str, str, str]]:
    """One written message per persona and variant of a step, as customers got it: (persona, variant, text)."""
    q = Params(dialect())
    cid, st = q.add(campaign_id), q.text(step)
    rows = await fetch(
        "SELECT COALESCE(d.persona, '-'), COALESCE(d.variant, '-'), d.text FROM delivery d WHERE d.id IN"
        f" (SELECT MIN(e.id) FROM delivery e WHERE e.campaign_id = {cid} AND e.step = {st} AND e.text IS NOT NULL"
        " GROUP BY COALESCE(e.persona, '-'), COALESCE(e.variant, '-')) ORDER BY 1, 2",
        q.values,
    )
    return [(str(p), str(v), str(t)) for p, v, t in rows]


async def queue_depths(now: datetime) -> dict[str, int]:
    """Deliveries a dispatcher would claim at ``now`` (queued, due, of running campaigns), per channel."""
    q = Params(dialect())
    at = q.moment(now)
    rows = await fetch(
        "SELECT d.channel, COUNT(*) FROM delivery d WHERE d.status = 'queued'"
        f" AND d.due_at <= {at} AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= {at})"
        " AND d.campaign_id IN (SELECT c.id FROM campaign c WHERE c.status = 'running') GROUP BY d.channel",
        q.values,
    )
    return {str(c): int(n) for c, n in rows}
