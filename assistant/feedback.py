"""Feedback: asking customers about what they bought, keeping what they say, and summarising it per product and
campaign.

A few days after an order (``after_days``), a subscribed customer with a reachable chat is asked once how they
get on with it, if Chatcast knew of the order by then: the history an import brings is never asked about
(:mod:`storage.feedback_asks`). Their next message within a week is feedback on that order's products; a message
answering a campaign message of the last three days is feedback on that campaign. Each keeps its sentiment and
themes.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aiolimiter import AsyncLimiter

from assistant.sentiment import label
from assistant.themes import ThemeSummary, summarise, themes
from campaigns.ports import Channel, ChannelError, OutboundMessage
from storage import conversations, feedback_asks, identities
from storage.models import Feedback

log = logging.getLogger(__name__)
ANSWER_DAYS = 7  # an answer to a feedback question counts this long after it
CAMPAIGN_DAYS = 3  # a reply to a campaign message counts as feedback on it this long after
ASK_WINDOW_DAYS = 14  # orders older than after_days + this are not asked about (a missed run does not pile up)
PROMPT = "Hi {name}! How are you getting on with {products}? Tell us in a line or two: it helps us and other customers."


async def capture(customer_id: int, channel: str, text: str, score: float, now: datetime) -> Feedback | None:
    """Keep ``text`` as feedback when it answers a feedback question or a recent campaign message."""
    words = len(text.split())
    order = await conversations.order_awaiting_feedback(customer_id, asked_since=now - timedelta(days=ANSWER_DAYS))
    if order is not None and words >= 2:
        skus = await conversations.order_skus(order.id)
        return await conversations.add_feedback(
            customer_id, text=text, sentiment=score, themes=themes(text), at=now, order_id=order.id, products=skus
        )
    if words < 3 and label(score) == "neutral":
        return None  # "ok", "hi": not feedback on anything
    delivery = await conversations.last_campaign_message(customer_id, channel, now - timedelta(days=CAMPAIGN_DAYS))
    if delivery is None:
        return None
    return await conversations.add_feedback(
        customer_id, text=text, sentiment=score, themes=themes(text), at=now, campaign_id=delivery.campaign_id
    )


async def ask_for_feedback(
    channels: Mapping[str, Channel], after_days: float, *, limit: int = 500, now: datetime | None = None
) -> int:
    """Ask the customers of orders placed ``after_days`` ago how they like them: a scheduled job; how many asked."""
    now = now or datetime.now(UTC)
    due = await feedback_asks.orders_to_ask(
        ordered_after=now - timedelta(days=after_days + ASK_WINDOW_DAYS),
        ordered_before=now - timedelta(days=after_days),
        after=timedelta(days=after_days),
        limit=limit,
    )
    pace = AsyncLimiter(10, 1)  # well under every channel's rate: these are few and not urgent
    asked = 0
    for ask in due:
        channel = channels.get(ask.channel)
        if channel is None or not await feedback_asks.claim_feedback_ask(ask.order_id, now):
            continue  # claimed first: a crash after it loses one question, never asks twice
        products = _names(ask.products)
        text = PROMPT.format(name=ask.name or "there", products=products)
        async with pace:
            try:
                await channel.send(
                    OutboundMessage(address=ask.address, text=text, idempotency_key=f"feedback:{ask.order_id}")
                )
            except ChannelError as exc:
                log.warning("feedback question for order %s not sent: %s", ask.order_id, exc)
                continue
        await identities.add_chat_message(ask.customer_id, channel=ask.channel, role="assistant", text=text, at=now)
        asked += 1
    return asked


def _names(products: list[str]) -> str:
    if not products:
        return "your order"
    if len(products) == 1:
        return products[0]
    return ", ".join(products[:2]) + (" and more" if len(products) > 2 else "")


@dataclass(frozen=True)
class FeedbackGroup:
    """Feedback on one product or campaign: how much, how it feels, and its themes."""

    key: str
    count: int
    mean_sentiment: float
    positive: int
    negative: int
    themes: list[ThemeSummary]


async def report(*, since: datetime | None = None) -> dict[str, list[FeedbackGroup]]:
    """Feedback grouped per product (SKU) and per campaign (key), most talked about first."""
    query = Feedback.all().select_related("campaign")
    if since is not None:
        query = query.filter(at__gte=since)
    by_product: dict[str, list[tuple[str, float]]] = defaultdict(list)
    by_campaign: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for row in await query:
        for sku in row.products or []:
            by_product[str(sku)].append((row.text, row.sentiment))
        if row.campaign is not None:
            by_campaign[row.campaign.key].append((row.text, row.sentiment))
    return {"products": _groups(by_product), "campaigns": _groups(by_campaign)}


def _groups(items: Mapping[str, list[tuple[str, float]]]) -> list[FeedbackGroup]:
    out = [
        FeedbackGroup(
            key=key,
            count=len(rows),
            mean_sentiment=sum(s for _, s in rows) / len(rows),
            positive=sum(1 for _, s in rows if label(s) == "positive"),
            negative=sum(1 for _, s in rows if label(s) == "negative"),
            themes=summarise(rows),
        )
        for key, rows in items.items()
    ]
    return sorted(out, key=lambda g: (-g.count, g.key))
