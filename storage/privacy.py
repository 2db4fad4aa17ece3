"""A customer's data on request (GDPR-style): all of it exported as JSON, or erased.

Erasing keeps nothing that identifies the person, and what the shop's counts need: the customer row stays,
with its name, contacts, language, attributes, tags and shop id replaced, consent withdrawn (nothing is ever
sent to it again); chat identities, conversations, chat messages and derived features are deleted; deliveries
keep their campaign, step, status and times but lose their text and address; events keep their type, time and
campaign but lose their data, except a conversion's money (its total, gross, currency, step and void), which stays
for the campaign's revenue, its order named as the anonymous sale; feedback, complaints and reviews lose their text.

Orders are the shop's records, which it must keep for its accounting; the shop keeps them in its own system,
its book of account, for as long as the law there requires (GDPR Art. 17(3)(b)). Chatcast is not that book,
so its copy becomes an anonymous sale: detached from the person (no customer), the shop's order id replaced
by ``erased-<n>``, no discount code, tracking link, carrier or dates beyond the day it was placed; its lines
(products, quantities, prices), total, currency and status stay for the counts (bestsellers, sales per
product). The order's notices are deleted. Anonymous data is no personal data (GDPR Recital 26): it is
outside what an erasure must remove. One transaction: a failure changes nothing.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tortoise.transactions import in_transaction

from storage.credits import CREDIT_KEYS
from storage.customer_columns import CUSTOMER_COLUMNS, KEPT_COLUMNS
from storage.models import (
    ChannelIdentity,
    ChatMessage,
    Complaint,
    Conversation,
    Customer,
    CustomerFeatures,
    Delivery,
    Event,
    Feedback,
    Order,
    OrderItem,
    OrderNotice,
    Review,
    SendTime,
)

ERASED_PREFIX = "erased-"
ERASED_LANGUAGE = "en"  # the column's default: the customer's own language is gone
ORDER_FIELDS = ("external_id", "ordered_at", "status", "is_return", "currency", "total", "discount_code",
                "tracking_url", "carrier", "expected_at")  # fmt: skip


async def find(external_id: str) -> Customer | None:
    """The customer the shop knows by ``external_id``."""
    return await Customer.get_or_none(external_id=external_id)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _rows(rows: list[Any], *fields: str) -> list[dict[str, Any]]:
    return [{f: _plain(getattr(r, f)) for f in fields} for r in rows]


async def export(customer: Customer) -> dict[str, Any]:
    """Everything stored about ``customer``, as JSON-able data."""
    cid = customer.id
    orders = await Order.filter(customer_id=cid).order_by("ordered_at")
    items = await OrderItem.filter(order__customer_id=cid).select_related("product", "order").order_by("id")
    lines: dict[int, list[dict[str, Any]]] = {}
    for item in items:
        lines.setdefault(item.order.id, []).append(
            {
                "sku": item.product.sku,
                "name": item.product.name,
                "quantity": item.quantity,
                "unit_price": item.unit_price,
            }
        )
    return {
        "customer": {f: _plain(getattr(customer, f)) for f in (*CUSTOMER_COLUMNS, *KEPT_COLUMNS)},
        "chat_identities": _rows(
            await ChannelIdentity.filter(customer_id=cid).order_by("id"), "channel", "address", "reachable", "linked_at"
        ),
        "orders": [
            {
                **_rows([o], *ORDER_FIELDS)[0],
                "lines": lines.get(o.id, []),
            }
            for o in orders
        ],
        "messages_sent": _rows(
            await Delivery.filter(customer_id=cid).select_related("campaign").order_by("id"),
            "step",
            "channel",
            "status",
            "text",
            "sent_at",
            "due_at",
        ),
        "events": _rows(await Event.filter(customer_id=cid).order_by("at", "id"), "type", "at", "data"),
        "chat_messages": _rows(
            await ChatMessage.filter(customer_id=cid).order_by("at", "id"), "channel", "role", "text", "sentiment", "at"
        ),
        "feedback": _rows(await Feedback.filter(customer_id=cid).order_by("at"), "text", "sentiment", "themes", "at"),
        "reviews": _rows(await Review.filter(customer_id=cid).order_by("id"), "rating", "text", "sentiment", "at"),
        "complaints": _rows(
            await Complaint.filter(customer_id=cid).order_by("opened_at", "id"),
            "opened_at",
            "source",
            "text",
            "resolved_at",
            "resolution",
        ),
        "exported_at": datetime.now(UTC).isoformat(),
    }


async def erase(customer: Customer) -> dict[str, int]:
    """Erase or anonymise everything that identifies ``customer``; what changed, per table."""
    cid, now = customer.id, datetime.now(UTC)
    async with in_transaction():
        changed = {
            "chat_identities": await ChannelIdentity.filter(customer_id=cid).delete(),
            "chat_messages": await ChatMessage.filter(customer_id=cid).delete(),
            "conversations": await Conversation.filter(customer_id=cid).delete(),
            "features": await CustomerFeatures.filter(customer_id=cid).delete(),
            "send_time": await SendTime.filter(customer_id=cid).delete(),
            "deliveries": await Delivery.filter(customer_id=cid).update(
                text=None, address=None, error=None, provider_message_id=None, pieces=None, note=None, buttons=[]
            ),  # buttons: a notice's tracking button holds the parcel's tracking link
            "events": await _forget_events(cid),
            "feedback": await Feedback.filter(customer_id=cid).update(text="", order_id=None),
            "reviews": await Review.filter(customer_id=cid).update(text=""),
            "complaints": await Complaint.filter(customer_id=cid).update(text=""),
            "order_notices": await OrderNotice.filter(order__customer_id=cid).delete(),
            "orders": await _anonymise_orders(cid),
        }
        await Customer.filter(id=cid).update(
            external_id=f"{ERASED_PREFIX}{cid}",
            name="",
            language=ERASED_LANGUAGE,
            email=None,
            phone=None,
            timezone=None,
            country=None,
            tags=[],
            attributes={},
            persona=None,
            persona_at=None,
            opted_in_at=None,
            opted_out_at=now,
            notices_off_at=now,
            consent_source="erased",
        )
    return changed


async def _forget_events(customer_id: int) -> int:
    """The customer's events without their data, but for what a conversion counts (see the module docstring)."""
    converted = await Event.filter(customer_id=customer_id, type="converted").only("id", "data", "order_id")
    for event in converted:
        kept = {key: event.data[key] for key in CREDIT_KEYS if key in event.data}
        if event.order_id is not None:  # type: ignore[attr-defined]
            kept["order"] = f"{ERASED_PREFIX}{event.order_id}"  # type: ignore[attr-defined]
        await Event.filter(id=event.id).update(data=kept)
    return len(converted) + await Event.filter(customer_id=customer_id).exclude(type="converted").update(data={})


async def _anonymise_orders(customer_id: int) -> int:
    """The customer's orders made anonymous sales (see the module docstring); how many."""
    orders = await Order.filter(customer_id=customer_id).only("id", "ordered_at")
    for order in orders:
        day = order.ordered_at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        await Order.filter(id=order.id).update(
            external_id=f"{ERASED_PREFIX}{order.id}",
            customer_id=None,
            ordered_at=day,
            discount_code=None,  # a code may be the customer's own
            tracking_url=None,  # a parcel's tracking page can show where it goes
            carrier=None,
            expected_at=None,
            feedback_asked_at=None,
            seen_at=None,
            status_changed_at=None,
            return_of=None,  # the shop's id of the order it returns
        )
    return len(orders)
