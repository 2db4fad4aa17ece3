"""Orders credited to campaign messages, in SQL over a set of orders at a time: one webhook call's order, or one
batch of an import.

An order is credited to the marketing message sent to its customer last before it, within that message's campaign
window (``window_of`` reads it off the campaign's YAML, which only the campaigns package understands). The credit is
one ``converted`` event per order, kept unique by the event's ``order_id`` (a unique key with its type): a webhook
sent again, a re-import, an import after the webhook change nothing.

The event's data follows its order: ``total`` is what the order still brings in, net of a partial refund (the
order's ``refunded``) and of the returns that name it (``return_of``); an order cancelled, refunded or returned in
full keeps its event with ``total`` 0 and ``void`` (why) and ``voided_at``. Whatever order of arrival, the data
ends the same: it is recomputed from the stored orders each time one of them is stored again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from storage import bulk
from storage.db import dialect
from storage.sql import Params, fetch

MAX_WINDOW = timedelta(days=90)  # the longest attribution window a campaign may set
# a converted event's data: "order" and these (the last two only on a void credit); what the reports read
CREDIT_KEYS = ("total", "gross", "currency", "step", "void", "voided_at")
VOID_STATUSES = {"cancelled": "cancelled", "refunded": "refunded", "returned": "returned"}  # status -> void reason
# an order that can be credited: a purchase (not a return of another), of a known customer, for money; a cancelled
# or refunded purchase is one too (its credit is void), while a return of its own (negative lines) is not
CREDITABLE = (
    "o.customer_id IS NOT NULL AND o.return_of IS NULL AND o.total > 0"
    " AND (NOT o.is_return OR o.status IN ('cancelled', 'refunded', 'returned'))"
)


@dataclass(frozen=True)
class OrderState:
    """What an order's credit says of it: its id, money and status, and what was taken back from it."""

    external_id: str
    total: float
    currency: str
    status: str
    refunded: float = 0.0  # a partial refund on the order itself
    returned: float = 0.0  # the returns that name it, as a positive amount
    changed_at: datetime | None = None  # when it reached its status
    returned_at: datetime | None = None  # the latest return that names it


def credit_data(order: OrderState, step: str, prior: Mapping[str, Any] | None, now: datetime) -> dict[str, Any]:
    """The ``converted`` event's data for ``order`` credited to ``step``: ``order``, ``total`` (net: 0 once void),
    ``gross``, ``currency``, ``step``, and for a void credit ``void`` and ``voided_at`` (kept from ``prior``, the
    data as stored, once set: recomputing it changes nothing)."""
    gross = round(order.total, 4)
    net = round(max(0.0, gross - order.refunded - order.returned), 4)
    void = VOID_STATUSES.get(order.status)
    when = order.changed_at
    if void is None and net <= 0:
        void, when = ("returned", order.returned_at) if order.returned > 0 else ("refunded", order.changed_at)
    data: dict[str, Any] = {"order": order.external_id, "total": 0.0 if void else net, "gross": gross,
                            "currency": order.currency, "step": step}  # fmt: skip
    if void:
        kept = prior.get("voided_at") if prior and prior.get("void") else None
        data["void"] = void
        data["voided_at"] = kept or (when or now).astimezone(UTC).isoformat()
    return data


@dataclass(frozen=True)
class Touch:
    """A marketing message sent to an order's customer before the order."""

    order_id: int
    delivery_id: int
    campaign_id: int
    step: str
    sent_at: datetime
    ordered_at: datetime
    customer_id: int


@dataclass
class Credits:
    """Credits orders as they are stored: ``window_of`` gives a campaign's attribution window from its YAML, ``now``
    dates a void the order does not date. It counts the credits given, those voided (an order credited already
    cancelled included), and those otherwise changed (a partial refund or return, new lines)."""

    window_of: Callable[[str], timedelta]
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    credited: int = 0
    voided: int = 0
    changed: int = 0
    _windows: dict[int, timedelta] = field(default_factory=dict)

    async def give(self, conn: BaseDBAsyncClient, order_ids: Sequence[int]) -> None:
        """Credit those of ``order_ids`` (primary keys) a campaign message touched first and bring every credit they
        concern (theirs, and those of the orders they return) up to date, in a few statements for them all."""
        if not order_ids:
            return
        touches = await self._touches(conn, order_ids)
        chosen = await self._last_touch(conn, touches)
        states = await _states(conn, order_ids, list(chosen))
        now = self.now()
        new: list[dict[str, Any]] = []
        born_void = 0  # orders credited already cancelled or returned
        updates: list[tuple[int, dict[str, Any]]] = []
        priors: dict[int, dict[str, Any] | None] = {}
        for order_id, (state, event_id, prior) in states.items():
            if event_id is None:
                touch = chosen.get(order_id)
                if touch is None:
                    continue
                data = credit_data(state, touch.step, None, now)
                born_void += "void" in data
                new.append({"type": "converted", "customer_id": touch.customer_id, "delivery_id": touch.delivery_id,
                            "campaign_id": touch.campaign_id, "order_id": order_id, "at": touch.ordered_at,
                            "data": json.dumps(data)})  # fmt: skip
            else:
                data = credit_data(state, str((prior or {}).get("step", "")), prior, now)
                if data != prior:
                    updates.append((event_id, data))
                    priors[event_id] = prior
        # a credit given meanwhile (the same order, two calls at once) wins: the unique key makes this one nothing
        await bulk.upsert(conn, "event", new, conflict=["type", "order_id"], update=[])
        await _update(conn, updates)
        voids = sum(1 for event_id, data in updates if data.get("void") and not (priors[event_id] or {}).get("void"))
        self.credited += len(new) - born_void
        self.voided += voids + born_void
        self.changed += len(updates) - voids

    async def _touches(self, conn: BaseDBAsyncClient, order_ids: Sequence[int]) -> list[Touch]:
        """The marketing messages sent to the customers of those of ``order_ids`` not yet credited, in the longest
        window before each order."""
        q = Params(str(conn.capabilities.dialect))
        if q.dialect == "postgres":
            hours = MAX_WINDOW.days * 24  # hours, not days: a day is 23 or 25 hours long in some zones
            before = f"d.sent_at <= o.ordered_at AND d.sent_at >= o.ordered_at - INTERVAL '{hours} hours'"
        else:  # julianday(): SQLite's times are text, and 90 days and a second of margin (the exact check is ours)
            before = (
                "julianday(d.sent_at) <= julianday(o.ordered_at)"
                f" AND julianday(d.sent_at) >= julianday(o.ordered_at) - {MAX_WINDOW.days + 1 / 86400}"
            )
        rows = await fetch(
            # CROSS JOIN: SQLite keeps that order, from the orders to their customers' messages; left to itself it may
            # walk every sent message and probe the list of orders for each (minutes for a batch)
            "SELECT o.id, d.id, d.campaign_id, d.step, d.sent_at, o.ordered_at, o.customer_id"
            ' FROM "order" o CROSS JOIN delivery d JOIN campaign c ON c.id = d.campaign_id'
            f" WHERE o.id {_among(q, order_ids)} AND d.customer_id = o.customer_id AND {CREDITABLE}"
            " AND c.kind = 'marketing' AND d.status = 'sent'"
            f" AND d.sent_at IS NOT NULL AND {before}"
            " AND NOT EXISTS (SELECT 1 FROM event e WHERE e.type = 'converted' AND e.order_id = o.id)",
            q.values,
            conn,
        )
        return [
            Touch(int(r[0]), int(r[1]), int(r[2]), str(r[3]), _moment(r[4]), _moment(r[5]), int(r[6])) for r in rows
        ]

    async def _last_touch(self, conn: BaseDBAsyncClient, touches: list[Touch]) -> dict[int, Touch]:
        """Per order, the last of its touches within its own campaign's window (the latest first; then the latest
        row, for two at the same moment)."""
        missing = sorted({t.campaign_id for t in touches} - self._windows.keys())
        if missing:
            q = Params(str(conn.capabilities.dialect))
            for campaign_id, yaml in await fetch(f"SELECT id, yaml FROM campaign WHERE id {_among(q, missing)}",
                                                 q.values, conn):  # fmt: skip
                self._windows[int(campaign_id)] = self.window_of(str(yaml))
        chosen: dict[int, Touch] = {}
        for touch in sorted(touches, key=lambda t: (t.sent_at, t.delivery_id), reverse=True):
            if touch.order_id not in chosen and touch.ordered_at - touch.sent_at <= self._windows[touch.campaign_id]:
                chosen[touch.order_id] = touch
        return chosen


async def _states(
    conn: BaseDBAsyncClient, order_ids: Sequence[int], chosen: Sequence[int]
) -> dict[int, tuple[OrderState, int | None, dict[str, Any] | None]]:
    """The orders whose credit may change: those ``chosen`` for a new credit, and the credited ones among
    ``order_ids`` and among the orders they return; each with its state, and its event's id and data (None: none)."""
    q = Params(str(conn.capabilities.dialect))
    returned = await fetch(
        'SELECT o.id FROM "order" r JOIN "order" o ON o.external_id = r.return_of'
        f" WHERE r.id {_among(q, order_ids)} AND r.return_of IS NOT NULL",
        q.values,
        conn,
    )
    q = Params(q.dialect)  # the orders by their keys first (an OR of the conditions would scan the table)
    wanted = _among(q, {*order_ids, *(int(r[0]) for r in returned)})
    new = f"o.id {_among(q, chosen)} OR " if chosen else ""
    returns = '(SELECT {} FROM "order" r WHERE r.return_of = o.external_id AND r.is_return)'
    rows = await fetch(
        "SELECT o.id, o.external_id, o.total, o.currency, o.status, o.refunded, o.status_changed_at,"
        f" {returns.format('SUM(ABS(r.total))')}, {returns.format('MAX(r.ordered_at)')}, e.id, e.data"
        " FROM \"order\" o LEFT JOIN event e ON e.type = 'converted' AND e.order_id = o.id"
        f" WHERE o.id {wanted} AND ({new}e.id IS NOT NULL)",
        q.values,
        conn,
    )
    out: dict[int, tuple[OrderState, int | None, dict[str, Any] | None]] = {}
    for r in rows:
        state = OrderState(
            external_id=str(r[1]),
            total=float(r[2]),
            currency=str(r[3]),
            status=str(r[4]),
            refunded=float(r[5] or 0),
            returned=float(r[7] or 0),
            changed_at=_moment(r[6]) if r[6] is not None else None,
            returned_at=_moment(r[8]) if r[8] is not None else None,
        )
        out[int(r[0])] = (state, None if r[9] is None else int(r[9]), _json(r[10]))
    return out


async def _update(conn: BaseDBAsyncClient, updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Write each event's new data."""
    if not updates:
        return
    if str(conn.capabilities.dialect) == "postgres":
        ids, texts = [i for i, _ in updates], [json.dumps(d) for _, d in updates]
        await conn.execute_query(
            "UPDATE event SET data = v.data FROM unnest($1::bigint[], $2::jsonb[]) AS v(id, data)"
            " WHERE event.id = v.id",
            [ids, texts],
        )
        return
    await conn.execute_many("UPDATE event SET data = ? WHERE id = ?", [[json.dumps(d), i] for i, d in updates])


def _among(q: Params, ids: Iterable[int]) -> str:
    """``IN`` the given primary keys: one array parameter on PostgreSQL, the numbers themselves on SQLite."""
    values = [int(i) for i in ids]
    if q.dialect == "postgres":
        return f"= ANY({q.add(values)}::bigint[])"
    return f"IN ({', '.join(map(str, values))})"


def _json(value: Any) -> dict[str, Any] | None:
    """A JSON column's value as the driver gives it (text on SQLite), as a dict."""
    return json.loads(value) if isinstance(value, str) else None if value is None else dict(value)


def _moment(value: Any) -> datetime:
    """A time as the database gives it (text on SQLite), aware, in UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Credit:
    """Which message an order is credited to, and what the credit says."""

    campaign_id: int
    campaign_key: str
    step: str
    delivery_id: int
    data: dict[str, Any]


async def credit_of(order_external_id: str, conn: BaseDBAsyncClient | None = None) -> Credit | None:
    """The order's credit, None when it has none."""
    q = Params(str(conn.capabilities.dialect) if conn else dialect())
    rows = await fetch(
        'SELECT e.campaign_id, c.key, e.delivery_id, e.data FROM event e JOIN "order" o ON o.id = e.order_id'
        " JOIN campaign c ON c.id = e.campaign_id"
        f" WHERE e.type = 'converted' AND o.external_id = {q.text(order_external_id)}",
        q.values,
        conn,
    )
    if not rows:
        return None
    campaign_id, key, delivery_id, data = rows[0]
    parsed = _json(data) or {}
    return Credit(int(campaign_id), str(key), str(parsed.get("step", "")), int(delivery_id or 0), parsed)
