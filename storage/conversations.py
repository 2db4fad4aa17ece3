"""Conversations: what the assistant rereads, who holds a chat (the assistant or a person), and what a customer may
be told about their own orders and the campaign they are answering.

Every read here is scoped by the customer's id, given by the caller from the chat's own identity: nothing in
this module looks a customer up by anything a customer typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.expressions import Q

from storage.models import (
    ChatMessage,
    Conversation,
    Customer,
    Delivery,
    Feedback,
    Order,
    OrderItem,
    Product,
)


@dataclass(frozen=True)
class Line:
    """One message of a conversation, as the assistant rereads it."""

    role: str
    text: str
    at: datetime


async def conversation(customer_id: int, channel: str, address: str) -> Conversation:
    """The customer's conversation (made on first use), noting where they write from now."""
    found, made = await Conversation.get_or_create(
        customer_id=customer_id, defaults={"channel": channel, "address": address}
    )
    if not made and (found.channel, found.address) != (channel, address):
        found.channel, found.address = channel, address
        await found.save(update_fields=["channel", "address", "updated_at"])
    return found


async def _newest_first(customer_id: int, after: datetime | None, skip: int, limit: int) -> list[Line]:
    """Messages after ``after`` (None: all), newest first, the first ``skip`` left out; returned oldest first."""
    query = ChatMessage.filter(customer_id=customer_id)
    if after is not None:
        query = query.filter(at__gt=after)
    rows = await query.order_by("-at", "-id").offset(skip).limit(limit).values_list("role", "text", "at")
    return [Line(str(r), str(t), a) for r, t, a in reversed(rows)]


async def recent(customer_id: int, *, after: datetime | None, limit: int) -> list[Line]:
    """The last ``limit`` messages after ``after`` (None: all), oldest first."""
    return await _newest_first(customer_id, after, 0, limit)


async def older_than_window(customer_id: int, *, after: datetime | None, keep: int) -> list[Line]:
    """Messages after ``after`` that fall out of the last ``keep``: what a summary must take in, oldest first."""
    return await _newest_first(customer_id, after, keep, 500)


async def save_summary(conversation_id: int, summary: str, until: datetime) -> None:
    """Keep the rolling summary and the moment it covers up to."""
    await Conversation.filter(id=conversation_id).update(summary=summary, summarised_until=until)


async def set_sentiment(message_id: int, score: float) -> None:
    """Note a customer message's sentiment."""
    await ChatMessage.filter(id=message_id).update(sentiment=score)


async def note_answered(conversation_id: int, answered: bool) -> int:
    """Count the customer messages in a row the assistant could not answer (0 once it can); the count."""
    row = await Conversation.get(id=conversation_id)
    row.failures = 0 if answered else row.failures + 1
    await row.save(update_fields=["failures", "updated_at"])
    return row.failures


async def hand_to_human(conversation_id: int, reason: str, at: datetime) -> bool:
    """A person takes the chat (its staff thread, if any, stays); False when one already holds it."""
    changed = await Conversation.filter(id=conversation_id, holder="assistant").update(
        holder="human", handoff_reason=reason, handoff_at=at, failures=0
    )
    return bool(changed)


async def set_staff_thread(conversation_id: int, thread: str | None) -> None:
    """Where the staff discuss this hand-off."""
    await Conversation.filter(id=conversation_id).update(staff_thread=thread)


async def by_staff_thread(thread: str) -> Conversation | None:
    """The conversation a staff thread is about."""
    return await Conversation.get_or_none(staff_thread=thread).select_related("customer")


async def hand_back(conversation_id: int) -> bool:
    """The assistant answers again; False when it already did."""
    changed = await Conversation.filter(id=conversation_id, holder="human").update(
        holder="assistant", handoff_reason=None
    )
    return bool(changed)


async def release_stale(before: datetime) -> int:
    """Hand back every chat a person took before ``before`` and left since (nobody answers a stale hand-off)."""
    return await Conversation.filter(holder="human", handoff_at__lt=before, updated_at__lt=before).update(
        holder="assistant", handoff_reason=None
    )


async def touch(conversation_id: int) -> None:
    """Note activity on a conversation (a staff reply keeps a hand-off alive)."""
    row = await Conversation.get(id=conversation_id)
    await row.save(update_fields=["updated_at"])


async def customer(customer_id: int) -> Customer:
    """The customer, for their name, language and consent."""
    return await Customer.get(id=customer_id)


async def orders(customer_id: int, *, limit: int = 5, reference: str | None = None) -> list[dict[str, Any]]:
    """This customer's orders, newest first (only the one named ``reference``, when given): what they may be told."""
    query = Order.filter(customer_id=customer_id, is_return=False)
    if reference is not None:
        query = query.filter(external_id=reference)
    rows = await query.order_by("-ordered_at").limit(limit)
    out = []
    for order in rows:
        items = await OrderItem.filter(order_id=order.id).select_related("product").order_by("line")
        out.append(
            {
                "order": order.external_id,
                "ordered_at": order.ordered_at.date().isoformat(),
                "status": order.status,
                "total": round(order.total, 2),
                "currency": order.currency,
                "items": [{"sku": i.product.sku, "name": i.product.name, "quantity": i.quantity} for i in items],
            }
        )
    return out


async def last_campaign_message(customer_id: int, channel: str, since: datetime) -> Delivery | None:
    """The campaign message this customer got last on ``channel`` since ``since`` (what a reply answers)."""
    return (
        await Delivery.filter(customer_id=customer_id, channel=channel, status="sent", sent_at__gte=since)
        .exclude(campaign__kind="replies")  # our own answers are no campaign message
        .order_by("-sent_at", "-id")
        .select_related("campaign")
        .first()
    )


async def search_products(
    *, text: str | None, category: str | None, max_price: float | None, in_stock: bool, limit: int
) -> list[Product]:
    """Active products matching every given filter (text in the name, SKU, category or tags), cheapest first."""
    query = Product.filter(active=True)
    if category:
        query = query.filter(category__iexact=category)
    if max_price is not None:
        query = query.filter(price__lte=max_price)
    if in_stock:
        query = query.filter(Q(stock__gt=0) | Q(stock=None))  # no stock figure: not tracked, so not out
    rows = await query.order_by("price", "id").limit(2000)
    if text:
        words = [w for w in text.casefold().split() if len(w) > 1]
        rows = [p for p in rows if all(w.rstrip("s") in _haystack(p) for w in words)]
    return rows[:limit]


def _haystack(product: Product) -> str:
    tags = " ".join(str(t) for t in (product.tags or []))
    return f"{product.name} {product.sku} {product.category} {tags}".casefold()


async def categories() -> list[str]:
    """The catalog's categories."""
    rows = await Product.filter(active=True).distinct().values_list("category", flat=True)
    return sorted({str(c) for c in rows if c})


async def add_feedback(
    customer_id: int,
    *,
    text: str,
    sentiment: float,
    themes: list[str],
    at: datetime,
    order_id: int | None = None,
    campaign_id: int | None = None,
    products: list[str] | None = None,
) -> Feedback:
    """Keep one piece of feedback."""
    return await Feedback.create(
        customer_id=customer_id, order_id=order_id, campaign_id=campaign_id, products=products or [],
        text=text.replace("\x00", "\ufffd"), sentiment=sentiment, themes=themes, at=at,
    )  # fmt: skip


async def order_awaiting_feedback(customer_id: int, *, asked_since: datetime) -> Order | None:
    """The order this customer was asked about most recently, since ``asked_since``, with no feedback yet."""
    order = (
        await Order.filter(customer_id=customer_id, feedback_asked_at__gte=asked_since)
        .order_by("-feedback_asked_at")
        .first()
    )
    if order is None or await Feedback.filter(order_id=order.id).exists():
        return None
    return order


async def order_skus(order_id: int) -> list[str]:
    """The SKUs of an order's lines."""
    items = await OrderItem.filter(order_id=order_id).select_related("product").order_by("line")
    return [i.product.sku for i in items]


async def transcript(
    customer_id: int, *, limit: int = 200
) -> tuple[Customer, Conversation | None, list[ChatMessage]] | None:
    """A customer, their conversation state and their last ``limit`` messages, oldest first (for staff); None for
    no such customer."""
    customer = await Customer.get_or_none(id=customer_id)
    if customer is None:
        return None
    chat = await Conversation.get_or_none(customer_id=customer_id)
    rows = await ChatMessage.filter(customer_id=customer_id).order_by("-at", "-id").limit(limit)
    return customer, chat, list(reversed(rows))
