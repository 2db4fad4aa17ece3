"""Attribution: an order is credited to the campaign step that touched the customer last before it, within that
campaign's ``attribution_days``; recorded once as a ``converted`` event (a re-sent webhook changes nothing). Orders
come by the webhook, one at a time, or by an import, which credits those it was the first to store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.file.loader import CampaignError, parse_registered
from storage.db import dialect
from storage.models import Campaign, Delivery, Event, Order
from storage.sql import Params, fetch

MAX_WINDOW = timedelta(days=90)  # the longest attribution_days a campaign may set


@dataclass(frozen=True)
class Credit:
    """Which delivery an order is credited to."""

    campaign_id: int
    campaign_key: str
    step: str
    delivery_id: int


def window(campaign: Campaign) -> timedelta:
    """The campaign's attribution window (its file's attribution_days; 7 days when the snapshot cannot be read)."""
    try:
        return timedelta(days=parse_registered(campaign.yaml).attribution_days)
    except CampaignError:
        return timedelta(days=7)


async def attribute(order_external_id: str) -> Credit | None:
    """Credit the order (not a return) to the last campaign message sent to its customer before it, if that
    message is within its campaign's attribution window; None when nothing qualifies."""
    order = await Order.get_or_none(external_id=order_external_id)
    if order is None or order.is_return:
        return None
    sent = (
        await Delivery.filter(
            customer_id=order.customer_id,  # type: ignore[attr-defined]
            campaign__kind="marketing",  # an order notice is no touch: it sells nothing
            status="sent",
            sent_at__lte=order.ordered_at,
            sent_at__gte=order.ordered_at - MAX_WINDOW,
        )
        .order_by("-sent_at", "-id")
        .prefetch_related("campaign")
    )
    for delivery in sent:
        campaign = delivery.campaign
        if delivery.sent_at is None or order.ordered_at - delivery.sent_at > window(campaign):
            continue
        credit = Credit(int(campaign.id), campaign.key, delivery.step, int(delivery.id))
        data = {"order": order.external_id, "total": order.total, "currency": order.currency, "step": delivery.step}
        same_moment = await Event.filter(type="converted", delivery_id=delivery.id, at=order.ordered_at)
        if not any(event.data.get("order") == order.external_id for event in same_moment):
            await Event.create(
                type="converted", customer_id=order.customer_id, campaign_id=campaign.id,  # type: ignore[attr-defined]
                delivery_id=delivery.id, at=order.ordered_at, data=data,
            )  # fmt: skip
        return credit
    return None


async def attribute_stored_since(moment: datetime) -> int:
    """Credit each order first stored at or after ``moment`` (by an import that began then) as :func:`attribute`
    credits the webhook's; how many got a credit. Only orders placed after a campaign message reached their
    customer are looked at, so a shop's history costs one query."""
    q = Params(dialect())
    seen = q.moment(moment)
    if q.dialect == "postgres":
        seen = f"CAST({seen} AS TIMESTAMPTZ)"
    rows = await fetch(
        'SELECT DISTINCT o.external_id FROM "order" o JOIN delivery d ON d.customer_id = o.customer_id'
        " JOIN campaign c ON c.id = d.campaign_id"
        f" WHERE o.seen_at >= {seen} AND NOT o.is_return AND c.kind = 'marketing' AND d.status = 'sent'"
        " AND d.sent_at <= o.ordered_at",
        q.values,
    )
    return sum([await attribute(str(external_id)) is not None for (external_id,) in rows])
