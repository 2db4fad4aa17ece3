"""The orders whose customers are due a feedback question, and the claim that asks each one once.

Only orders Chatcast knew of in time are asked about: an order is due ``after`` its placing, and one that Chatcast
first saw later than that (history from an import) is never asked about, however recent the import. The whole
rule is one query, so the orders left out never crowd out the ones due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import dialect
from storage.models import ChannelIdentity, Order, OrderItem
from storage.sql import Params, fetch


@dataclass(frozen=True)
class FeedbackAsk:
    """An order to ask its customer about, and where to reach them."""

    order_id: int
    customer_id: int
    name: str
    channel: str
    address: str
    products: list[str]


async def orders_to_ask(
    *, ordered_after: datetime, ordered_before: datetime, after: timedelta, limit: int
) -> list[FeedbackAsk]:
    """Orders placed in the span, not asked about yet and known to Chatcast by ``after`` their placing, of
    subscribed customers with a reachable chat; oldest first."""
    q = Params(dialect())
    if q.dialect == "postgres":
        known = f"o.seen_at <= o.ordered_at + CAST({q.add(after)} AS INTERVAL)"
    else:
        known = f"julianday(o.seen_at) <= julianday(o.ordered_at) + {q.add(after.total_seconds() / 86400)}"
    rows = await fetch(
        'SELECT o.id FROM "order" o JOIN customer c ON c.id = o.customer_id'
        f" WHERE o.ordered_at >= {q.moment(ordered_after)} AND o.ordered_at < {q.moment(ordered_before)}"
        " AND NOT o.is_return AND o.feedback_asked_at IS NULL AND o.status NOT IN ('cancelled', 'refunded')"
        f" AND (o.seen_at IS NULL OR {known})"  # seen_at is unset on orders stored before it was kept
        " AND c.opted_in_at IS NOT NULL AND (c.opted_out_at IS NULL OR c.opted_out_at < c.opted_in_at)"
        " AND EXISTS (SELECT 1 FROM channel_identity i WHERE i.customer_id = c.id AND i.reachable)"
        f" ORDER BY o.ordered_at, o.id LIMIT {int(limit)}",
        q.values,
    )
    out = []
    for (order_id,) in rows:
        order = await Order.get(id=order_id).select_related("customer")
        customer = order.customer
        if customer is None:  # erased since the query
            continue
        identity = await ChannelIdentity.filter(customer_id=customer.id, reachable=True).order_by("-linked_at").first()
        if identity is None:
            continue  # made unreachable since the query
        items = await OrderItem.filter(order_id=order.id).select_related("product").order_by("line")
        names = [i.product.name for i in items]
        first = (customer.name or "").split(" ")[0]
        out.append(FeedbackAsk(order.id, customer.id, first, identity.channel, identity.address, names))
    return out


async def claim_feedback_ask(order_id: int, at: datetime) -> bool:
    """Mark the order asked about; False when another run did first (each order is asked once at most)."""
    return bool(await Order.filter(id=order_id, feedback_asked_at=None).update(feedback_asked_at=at))
