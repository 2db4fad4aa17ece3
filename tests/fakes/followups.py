"""Campaigns with follow-up steps, and customers who got the main step and then did things: for the sweep and the
finishing rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from campaigns.file.definition import Campaign, FollowUp, Message
from storage.models import Customer, Delivery, Event, Order

NOW = datetime(2027, 4, 10, 12, tzinfo=UTC)
SENT = NOW - timedelta(days=3)


def campaign(*follow_ups: FollowUp, stop_when: list[str] | None = None) -> Campaign:
    """Campaign ``spring`` on Telegram with these follow-up steps."""
    return Campaign(
        id="spring",
        name="Spring",
        channels=["telegram"],
        message=Message(brief="b", template="t"),
        follow_ups=list(follow_ups),
        stop_when=stop_when or [],  # type: ignore[arg-type]
    )


def step(step_id: str, after: str, *when: Any) -> FollowUp:
    """A follow-up step ``after`` the previous one, for those of whom ``when`` holds."""
    return FollowUp(id=step_id, after=after, when=list(when), message=Message(brief="b", template="t"))  # type: ignore[arg-type]


async def journey(
    key: str, campaign_id: int, *, sent_at: datetime | None = SENT, did: tuple[str, ...] = (), status: str = "sent"
) -> None:
    """A customer who got the main step at ``sent_at`` and then did each of ``did`` half a day later."""
    customer = await Customer.create(external_id=key, name=key, opted_in_at=SENT - timedelta(days=30))
    await Delivery.create(
        campaign_id=campaign_id, step="main", customer=customer, channel="telegram", address=key,
        status=status, sent_at=sent_at, text="t",
    )  # fmt: skip
    later = (sent_at or SENT) + timedelta(hours=12)
    for action in did:
        if action == "purchased":
            await Order.create(external_id=f"o-{key}", customer=customer, ordered_at=later, total=10, currency="EUR")
        elif action == "opted_out":
            customer.opted_out_at = later
            await customer.save()
        else:
            await Event.create(type=action, customer=customer, campaign_id=campaign_id, at=later)
