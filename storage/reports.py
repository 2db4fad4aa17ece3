"""Campaign reports by SQL aggregation: one pass over a campaign's deliveries for its funnel, small queries for its
daily series and its lift over the holdout.

The funnel is counted per (step, variant, persona, channel, status, note, send-time arm, copy arm and writer):
a million deliveries become a few hundred rows, which the caller sums along any dimension. A delivery's events
(clicks, replies, attributed conversions with their revenue) are aggregated per delivery before the join, so
each delivery counts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

from storage.db import dialect
from storage.sql import Params, fetch


@dataclass(frozen=True)
class Scope:
    """Which of a campaign's messages a report counts: those sent in ``[since, until)``, on ``channel``, to
    ``persona`` (None: no bound). A bounded time keeps only messages sent in it (the unsent have no time)."""

    since: datetime | None = None
    until: datetime | None = None
    channel: str | None = None
    persona: str | None = None

    @property
    def bounded(self) -> bool:
        """Whether anything is left out."""
        return any(v is not None for v in (self.since, self.until, self.channel, self.persona))

    def where(self, q: Params, d: str = "d") -> str:
        """SQL conditions (each starting `` AND``) on the delivery alias ``d``."""
        parts = []
        if self.since is not None:
            parts.append(f"{d}.sent_at >= {q.moment(self.since)}")
        if self.until is not None:
            parts.append(f"{d}.sent_at < {q.moment(self.until)}")
        if self.channel is not None:
            parts.append(f"{d}.channel = {q.text(self.channel)}")
        if self.persona is not None:
            parts.append(f"COALESCE({d}.persona, '') = {q.text(self.persona)}")
        return "".join(f" AND {p}" for p in parts)


EVERYTHING = Scope()
# the columns a funnel cell is grouped by, in FunnelCell's order
_CELL = (
    "d.step, COALESCE(d.variant, ''), COALESCE(d.persona, ''), d.channel, d.status, COALESCE(d.note, ''),"
    " COALESCE(d.timing, ''), COALESCE(d.copy_arm, ''), COALESCE(d.copy_source, '')"
)
# the same columns as they are stored: grouping on them lets the funnel index hand the rows over in order
_RAW = "d.step, d.variant, d.persona, d.channel, d.status, d.note, d.timing, d.copy_arm, d.copy_source"
_KEY = tuple[str, str, str, str, str, str, str, str, str]


@dataclass(frozen=True)
class FunnelCell:
    """Deliveries of one step, variant, persona, channel and status (and note: why skipped), and what they did.

    Each outcome counts messages: ``clicked`` those with a link click (or a "shop" press), ``converted`` those
    credited with at least one order that still stands (not cancelled or refunded), ``orders`` those orders,
    ``revenue`` their net amounts per currency, ``opted_out`` messages whose customer opted out within the
    campaign's attribution window after it."""

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
    revenue: dict[str, float]
    opted_out: int
    timing: str = ""  # send_time best: best or fixed
    copy_arm: str = ""  # copy_test: llm or template, as assigned
    copy_source: str = ""  # who wrote the text in the end: template, model or fallback
    engaged: int = 0  # deliveries clicked or replied to
    orders: int = 0  # orders credited (a message may be credited with several)
    snoozed: int = 0  # messages whose "not now" was pressed


def _json(q: Params, key: str, alias: str = "e") -> str:
    """The text value of the event's JSON ``data.key``."""
    if q.dialect == "postgres":
        return f"({alias}.data->>'{key}')"
    return f"json_extract({alias}.data, '$.{key}')"


def _total(q: Params) -> str:
    """A credited conversion's net amount (what still stands of the order), from the event's JSON."""
    if q.dialect == "postgres":
        return "CAST(e.data->>'total' AS DOUBLE PRECISION)"
    return "CAST(json_extract(e.data, '$.total') AS REAL)"


def standing(q: Params) -> str:
    """SQL: the ``converted`` event ``e`` still counts (its order was not cancelled or refunded)."""
    return f"{_json(q, 'void')} IS NULL"


def currency(q: Params) -> str:
    """SQL: the currency of a credited conversion ``e`` (upper case; '' where an old event has none)."""
    return f"UPPER(COALESCE({_json(q, 'currency')}, ''))"


def within(q: Params, at: str, start: str, days: int) -> str:
    """SQL: the moment ``at`` falls within ``days`` days after ``start`` (both timestamp columns)."""
    if q.dialect == "postgres":
        return f"{at} >= {start} AND {at} <= {start} + INTERVAL '{int(days)} days'"
    return f"julianday({at}) >= julianday({start}) AND julianday({at}) <= julianday({start}) + {int(days)}"


def _cell_key(row: tuple[object, ...]) -> _KEY:
    return tuple("" if x is None else str(x) for x in row[:9])  # type: ignore[return-value]


async def funnel_cells(campaign_id: int, scope: Scope = EVERYTHING, *, window_days: int = 7) -> list[FunnelCell]:
    """The campaign's deliveries counted by step, variant, persona, channel and status, with their outcomes.

    Four grouped queries, none of which joins the events to every delivery: the deliveries alone (an index scan),
    the events of the campaign joined to their deliveries, the credited revenue per currency, and the opt-outs
    within the window."""
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    counts = await fetch(
        f"SELECT {_RAW}, COUNT(*) FROM delivery d WHERE d.campaign_id = {cid}{where} GROUP BY {_RAW}", q.values
    )
    q = Params(dialect())
    cid, where = q.add(campaign_id), ""
    where = scope.where(q)
    outcomes = await fetch(
        f"SELECT {_CELL}, SUM(CASE WHEN x.clicked > 0 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN x.replied > 0 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN x.converted > 0 THEN 1 ELSE 0 END), SUM(x.converted),"
        " SUM(CASE WHEN x.clicked > 0 OR x.replied > 0 THEN 1 ELSE 0 END),"
        " SUM(CASE WHEN x.snoozed > 0 THEN 1 ELSE 0 END)"
        " FROM (SELECT e.delivery_id,"
        " SUM(CASE WHEN e.type = 'clicked' THEN 1 ELSE 0 END) AS clicked,"
        " SUM(CASE WHEN e.type = 'replied' THEN 1 ELSE 0 END) AS replied,"
        " SUM(CASE WHEN e.type = 'snoozed' THEN 1 ELSE 0 END) AS snoozed,"
        f" SUM(CASE WHEN e.type = 'converted' AND {standing(q)} THEN 1 ELSE 0 END) AS converted"
        f" FROM event e WHERE e.campaign_id = {cid} AND e.delivery_id IS NOT NULL"
        " AND e.type IN ('clicked', 'replied', 'snoozed', 'converted') GROUP BY e.delivery_id) x"
        f" JOIN delivery d ON d.id = x.delivery_id WHERE d.campaign_id = {cid}{where} GROUP BY {_CELL}",
        q.values,
    )
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    money = await fetch(
        f"SELECT {_CELL}, {currency(q)}, SUM(COALESCE({_total(q)}, 0))"
        " FROM event e JOIN delivery d ON d.id = e.delivery_id"
        f" WHERE e.campaign_id = {cid} AND e.type = 'converted' AND {standing(q)}{where}"
        f" GROUP BY {_CELL}, {currency(q)}",
        q.values,
    )
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    left = await fetch(
        f"SELECT {_CELL}, COUNT(DISTINCT d.id) FROM event e JOIN delivery d ON d.customer_id = e.customer_id"
        f" WHERE e.type = 'opted_out' AND d.campaign_id = {cid} AND d.sent_at IS NOT NULL"
        f" AND {within(q, 'e.at', 'd.sent_at', window_days)}{where} GROUP BY {_CELL}",
        q.values,
    )
    done: dict[_KEY, list[int]] = {_cell_key(r): [int(x or 0) for x in r[9:]] for r in outcomes}
    revenue: dict[_KEY, dict[str, float]] = {}
    for r in money:
        revenue.setdefault(_cell_key(r), {})[str(r[9]) or "?"] = round(float(r[10] or 0), 2)
    gone = {_cell_key(r): int(r[9] or 0) for r in left}
    cells = []
    sizes: dict[_KEY, int] = {}
    for r in counts:  # a NULL and an empty value are one group, as in the other queries
        sizes[_cell_key(r)] = sizes.get(_cell_key(r), 0) + int(r[9])
    for key, size in sizes.items():
        clicked, replied, converted, orders, engaged, snoozed = done.get(key, [0] * 6)
        step, variant, persona, channel, status, note, timing, copy_arm, copy_source = key
        cell = FunnelCell(
            step, variant, persona, channel, status, note, size, clicked, replied, converted,
            revenue.get(key, {}), gone.get(key, 0), timing, copy_arm, copy_source, engaged, orders, snoozed,
        )  # fmt: skip
        cells.append(cell)
    return cells


@dataclass(frozen=True)
class Customers:
    """A campaign's customers (each once, whatever their messages): assigned to get it (not held out), held out,
    reached (sent at least one message), and those of the reached who clicked, replied, bought (a credited
    order that stands) or opted out within the attribution window after a message."""

    assigned: int
    holdout: int
    reached: int
    clicked: int
    replied: int
    converted: int
    opted_out: int


async def customers(
    campaign_id: int, scope: Scope = EVERYTHING, *, window_days: int = 7, opening: Sequence[str] = ("main",)
) -> Customers:
    """The campaign's customers counted once each. Assigned and held out are counted on the ``opening`` steps (the
    main message, or each run of a recurring campaign), where the split is made: one row per customer and step."""
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    steps = q.texts(list(opening) or ["main"])
    (row,) = await fetch(
        f"SELECT SUM(CASE WHEN d.step IN {steps} AND d.status <> 'holdout' THEN 1 ELSE 0 END),"
        f" SUM(CASE WHEN d.step IN {steps} AND d.status = 'holdout' THEN 1 ELSE 0 END)"
        f" FROM delivery d WHERE d.campaign_id = {cid} AND d.step IN {steps}{where}",
        q.values,
    )
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    # status first: the (campaign_id, status, customer_id) index hands the customers over in order, no sort
    (reached,) = await fetch(
        f"SELECT COUNT(DISTINCT d.customer_id) FROM delivery d WHERE d.campaign_id = {cid} AND d.status = 'sent'"
        f"{where}",
        q.values,
    )
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    (acts,) = await fetch(
        "SELECT COUNT(DISTINCT CASE WHEN e.type = 'clicked' THEN e.customer_id END),"
        " COUNT(DISTINCT CASE WHEN e.type = 'replied' THEN e.customer_id END),"
        f" COUNT(DISTINCT CASE WHEN e.type = 'converted' AND {standing(q)} THEN e.customer_id END)"
        f" FROM event e JOIN delivery d ON d.id = e.delivery_id WHERE e.campaign_id = {cid}"
        f" AND e.type IN ('clicked', 'replied', 'converted'){where}",
        q.values,
    )
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    (left,) = await fetch(
        "SELECT COUNT(DISTINCT e.customer_id) FROM event e JOIN delivery d ON d.customer_id = e.customer_id"
        f" WHERE e.type = 'opted_out' AND d.campaign_id = {cid} AND d.sent_at IS NOT NULL"
        f" AND {within(q, 'e.at', 'd.sent_at', window_days)}{where}",
        q.values,
    )
    return Customers(*(int(x or 0) for x in (*row, reached[0], *acts, left[0])))


async def daily(campaign_id: int, zone: tzinfo = UTC, scope: Scope = EVERYTHING) -> list[Day]:
    """Per day in ``zone`` (the shop's): messages sent, conversions credited that day (still standing) and their
    revenue per currency. Counted per UTC hour by SQL, then put on the local day: exact for any time zone (also
    half-hour ones and across daylight-saving changes) on both databases."""
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    if q.dialect == "postgres":
        sent_hour, at_hour = (
            "to_char(d.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')",
            "to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')",
        )
    else:
        sent_hour, at_hour = "substr(d.sent_at, 1, 13)", "substr(e.at, 1, 13)"  # ISO text: the hour's prefix
    sent = await fetch(
        f"SELECT {sent_hour}, COUNT(*) FROM delivery d WHERE d.campaign_id = {cid} AND d.status = 'sent'"
        f" AND d.sent_at IS NOT NULL{where} GROUP BY {sent_hour}",
        q.values,
    )
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    converted = await fetch(
        f"SELECT {at_hour}, {currency(q)}, COUNT(*), SUM(COALESCE({_total(q)}, 0)) FROM event e"
        f" JOIN delivery d ON d.id = e.delivery_id WHERE e.campaign_id = {cid} AND e.type = 'converted'"
        f" AND {standing(q)}{where} GROUP BY {at_hour}, {currency(q)}",
        q.values,
    )
    days: dict[str, Day] = {}

    def day(hour: object) -> Day:
        at = datetime.strptime(str(hour).replace("T", " "), "%Y-%m-%d %H").replace(tzinfo=UTC).astimezone(zone)
        key = at.date().isoformat()
        return days.setdefault(key, Day(key))

    for hour, n in sent:
        day(hour).sent += int(n)
    for hour, money, n, revenue in converted:
        d = day(hour)
        d.converted += int(n)
        d.revenue[str(money) or "?"] = round(d.revenue.get(str(money) or "?", 0.0) + float(revenue or 0), 2)
    return [days[k] for k in sorted(days)]


@dataclass
class Day:
    """One day of a campaign, in the shop's time zone."""

    day: str
    sent: int = 0
    converted: int = 0  # orders credited that day, still standing
    revenue: dict[str, float] = field(default_factory=dict)


async def link_clicks(campaign_id: int, scope: Scope = EVERYTHING) -> list[tuple[str, int, int]]:
    """Per link of the campaign's messages: (URL, clicks, messages clicked), most clicked first."""
    q = Params(dialect())
    cid = q.add(campaign_id)
    where = scope.where(q)
    link = _json(q, "url")  # the link as written (data.link is its number in the message)
    rows = await fetch(
        f"SELECT {link}, COUNT(*), COUNT(DISTINCT e.delivery_id) FROM event e JOIN delivery d ON d.id = e.delivery_id"
        f" WHERE e.campaign_id = {cid} AND e.type = 'clicked' AND {link} IS NOT NULL{where} GROUP BY {link}",
        q.values,
    )
    return sorted(((str(u), int(n), int(m)) for u, n, m in rows), key=lambda r: (-r[1], r[0]))


async def links_tracked(campaign_id: int) -> bool | None:
    """Whether every message the campaign sent went out with its links tracked (False: some did not, so their link
    clicks are not measured; None: nothing sent yet)."""
    q = Params(dialect())
    cid = q.add(campaign_id)
    (row,) = await fetch(
        "SELECT COUNT(*), SUM(CASE WHEN d.links_tracked THEN 0 ELSE 1 END) FROM delivery d"
        f" WHERE d.campaign_id = {cid} AND d.status = 'sent'",
        q.values,
    )
    return None if not row[0] else not int(row[1] or 0)


@dataclass(frozen=True)
class Groups:
    """Customers of the first step assigned to get the message (intent to treat: whatever became of the message)
    or held out, those actually sent it, and of each how many bought and what they spent per currency."""

    assigned: int
    assigned_bought: int
    holdout: int
    holdout_bought: int
    sent: int
    sent_bought: int
    since: datetime | None
    until: datetime | None
    assigned_spent: dict[str, float] = field(default_factory=dict)
    holdout_spent: dict[str, float] = field(default_factory=dict)


_LAPSED = ("cancelled", "refunded", "returned", "voided")  # an order in one of these statuses bought nothing


def _group(status: str) -> str:
    return "holdout" if status == "holdout" else "sent" if status == "sent" else "other"


async def group_sizes(campaign_id: int, step: str) -> dict[str, int]:
    """The step's customers by group: ``sent``, ``holdout`` and ``other`` (assigned, not sent), the unhappy
    suppressed before the split left out."""
    q = Params(dialect())
    cid, st = q.add(campaign_id), q.text(step)
    rows = await fetch(
        f"SELECT d.status, COUNT(*) FROM delivery d WHERE d.campaign_id = {cid} AND d.step = {st}"
        " AND NOT (d.status = 'skipped' AND COALESCE(d.note, '') LIKE 'suppressed:%') GROUP BY d.status",
        q.values,
    )
    sizes = {"sent": 0, "holdout": 0, "other": 0}
    for status, n in rows:
        sizes[_group(str(status))] += int(n)
    return sizes


async def holdout_groups(campaign_id: int, step: str, window: timedelta, sizes: dict[str, int] | None = None) -> Groups:
    """Who bought, among the step's assigned and held-out customers, between its first send and its last send plus
    ``window``: the same span for both groups, so that their rates compare. A customer whose message was suppressed
    before the split (unhappy) is in neither group; one whose message then failed, was skipped or was blocked stays
    assigned (intent to treat). Orders later cancelled or refunded, and returns, are no purchase. ``sizes``: the
    groups' sizes when the caller counted them already (:func:`group_sizes`).

    Driven from the orders of the span (each buyer looked up by the step's unique key), not from the deliveries:
    a million-row step costs its buyers, not its rows."""
    q = Params(dialect())
    cid, st = q.add(campaign_id), q.text(step)
    span = await fetch(
        f"SELECT MIN(sent_at), MAX(sent_at) FROM delivery WHERE campaign_id = {cid} AND step = {st}"
        " AND status = 'sent'",
        q.values,
    )
    first, last = span[0] if span else (None, None)
    if first is None:
        return Groups(0, 0, 0, 0, 0, 0, None, None)
    since, until = _moment(first), _moment(last) + window
    sizes = sizes if sizes is not None else await group_sizes(campaign_id, step)
    q2 = Params(dialect())
    cid, st, lo, hi = q2.add(campaign_id), q2.text(step), q2.moment(since), q2.moment(until)
    rows = await fetch(
        "SELECT d.status, b.customer_id, b.currency, b.spent FROM (SELECT o.customer_id, o.currency,"
        ' SUM(o.total) AS spent FROM "order" o WHERE NOT o.is_return'
        f" AND o.status NOT IN {q2.texts(_LAPSED)} AND o.ordered_at >= {lo} AND o.ordered_at <= {hi}"
        " GROUP BY o.customer_id, o.currency) b"
        f" JOIN delivery d ON d.campaign_id = {cid} AND d.step = {st} AND d.customer_id = b.customer_id"
        " WHERE NOT (d.status = 'skipped' AND COALESCE(d.note, '') LIKE 'suppressed:%')",
        q2.values,
    )
    bought: dict[str, set[int]] = {"sent": set(), "holdout": set(), "other": set()}
    spent: dict[str, dict[str, float]] = {"holdout": {}, "assigned": {}}
    for status, customer, money, total in rows:
        group = _group(str(status))
        bought[group].add(int(customer))
        target = spent["holdout"] if group == "holdout" else spent["assigned"]
        target[str(money)] = round(target.get(str(money), 0.0) + float(total or 0), 2)
    return Groups(
        sizes["sent"] + sizes["other"], len(bought["sent"]) + len(bought["other"]), sizes["holdout"],
        len(bought["holdout"]), sizes["sent"], len(bought["sent"]), since, until, spent["assigned"], spent["holdout"],
    )  # fmt: skip


async def open_rows(campaign_id: int, steps: Sequence[str]) -> int:
    """Rows of ``steps`` still to go out (planned, queued or in flight): a test is not over while there are any."""
    if not steps:
        return 0
    q = Params(dialect())
    cid = q.add(campaign_id)
    (row,) = await fetch(
        f"SELECT COUNT(*) FROM delivery WHERE campaign_id = {cid} AND step IN {q.texts(list(steps))}"
        " AND status IN ('planned', 'queued', 'claimed', 'sending')",
        q.values,
    )
    return int(row[0] or 0)


def _moment(value: object) -> datetime:
    """A timestamp as the driver returned it (a datetime on PostgreSQL, ISO text on SQLite), aware (UTC where the
    text names no offset)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace(" ", "T"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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


@dataclass
class CampaignTotals:
    """One campaign on the overview: its customers (each once) and what they did, revenue per currency."""

    id: int
    key: str
    name: str
    status: str
    assigned: int = 0
    holdout: int = 0
    reached: int = 0
    messages: int = 0  # messages sent
    clicked: int = 0
    converted: int = 0
    opted_out: int = 0
    revenue: dict[str, float] = field(default_factory=dict)


async def campaign_totals(windows: dict[int, int]) -> list[CampaignTotals]:
    """Every marketing campaign, newest first, with its customers counted once each: a few grouped queries over
    every campaign at once. ``windows``: each campaign's attribution window in days (opt-outs count within it)."""
    rows = await fetch(
        "SELECT c.id, c.key, c.name, c.status,"
        " COUNT(DISTINCT CASE WHEN d.status <> 'holdout' THEN d.customer_id END),"
        " COUNT(DISTINCT CASE WHEN d.status = 'holdout' THEN d.customer_id END),"
        " COUNT(DISTINCT CASE WHEN d.status = 'sent' THEN d.customer_id END),"
        " SUM(CASE WHEN d.status = 'sent' THEN 1 ELSE 0 END)"
        " FROM campaign c LEFT JOIN delivery d ON d.campaign_id = c.id WHERE c.kind = 'marketing'"
        " GROUP BY c.id, c.key, c.name, c.status ORDER BY c.id DESC"
    )
    found = {
        int(r[0]): CampaignTotals(
            int(r[0]),
            str(r[1]),
            str(r[2] or r[1]),
            str(r[3]),
            int(r[4] or 0),
            int(r[5] or 0),
            int(r[6] or 0),
            int(r[7] or 0),
        )
        for r in rows
    }
    q = Params(dialect())
    acts = await fetch(
        "SELECT e.campaign_id, COUNT(DISTINCT CASE WHEN e.type = 'clicked' THEN e.customer_id END),"
        f" COUNT(DISTINCT CASE WHEN e.type = 'converted' AND {standing(q)} THEN e.customer_id END)"
        " FROM event e WHERE e.campaign_id IS NOT NULL AND e.delivery_id IS NOT NULL"
        " AND e.type IN ('clicked', 'converted') GROUP BY e.campaign_id",
        q.values,
    )
    for cid, clicked, converted in acts:
        if (t := found.get(int(cid))) is not None:
            t.clicked, t.converted = int(clicked or 0), int(converted or 0)
    q = Params(dialect())
    money = await fetch(
        f"SELECT e.campaign_id, {currency(q)}, SUM(COALESCE({_total(q)}, 0)) FROM event e"
        f" WHERE e.type = 'converted' AND e.campaign_id IS NOT NULL AND {standing(q)}"
        f" GROUP BY e.campaign_id, {currency(q)}",
        q.values,
    )
    for cid, unit, amount in money:
        if (t := found.get(int(cid))) is not None:
            t.revenue[str(unit) or "?"] = round(float(amount or 0), 2)
    for days in sorted({windows.get(cid, 7) for cid in found}):
        ids = [cid for cid in found if windows.get(cid, 7) == days]
        q = Params(dialect())
        listed = "(" + ", ".join(q.add(cid) for cid in ids) + ")"
        left = await fetch(
            "SELECT d.campaign_id, COUNT(DISTINCT e.customer_id) FROM event e"
            " JOIN delivery d ON d.customer_id = e.customer_id"
            f" WHERE e.type = 'opted_out' AND d.campaign_id IN {listed} AND d.sent_at IS NOT NULL"
            f" AND {within(q, 'e.at', 'd.sent_at', days)} GROUP BY d.campaign_id",
            q.values,
        )
        for cid, n in left:
            found[int(cid)].opted_out = int(n or 0)
    return list(found.values())


async def with_holdout() -> list[int]:
    """The campaigns that hold customers out."""
    return [int(r[0]) for r in await fetch("SELECT DISTINCT campaign_id FROM delivery WHERE status = 'holdout'")]


async def steps(campaign_id: int) -> list[str]:
    """The steps of the campaign's rows."""
    q = Params(dialect())
    rows = await fetch(f"SELECT DISTINCT step FROM delivery WHERE campaign_id = {q.add(campaign_id)}", q.values)
    return sorted(str(r[0]) for r in rows)


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
