"""Attribution: an order is credited to the campaign step that touched the customer last before it, within that
campaign's ``attribution_days``; recorded once as a ``converted`` event (a re-sent webhook changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from campaigns.loader import CampaignError, parse_registered
from storage.models import Campaign, Delivery, Event, Order

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
