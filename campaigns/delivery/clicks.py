"""A tracked link followed: the address it stands for, and a ``clicked`` event for the delivery it came in.

Each follow is an event (a customer who opens a link twice clicked twice); reports count the deliveries clicked.
A platform fetching the link to show its preview, or any ``HEAD`` request, is no click: it gets the same answer and
records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from campaigns.delivery.links import LinkTokens, links
from campaigns.ports import Button
from storage import clicks, identities


@dataclass(frozen=True)
class Followed:
    """Where a token leads, and the click it recorded (None: none, it was a preview)."""

    url: str
    event_id: int | None


async def follow(tokens: LinkTokens, token: str, *, at: datetime, preview: bool = False) -> Followed | None:
    """The address behind ``token`` and, unless it is a ``preview``, its click recorded at ``at``; None when the
    token is not one of ours or its delivery (or that link of it) is gone."""
    found = tokens.read(token)
    if found is None:
        return None
    delivery_id, index = found
    row = await clicks.delivery(delivery_id)
    if row is None:
        return None
    buttons = [Button(str(b.get("text", "")), b.get("url"), b.get("action")) for b in row.buttons]
    urls = links(row.text, buttons)
    if index >= len(urls):
        return None
    if preview:
        return Followed(urls[index], None)
    data = {"url": urls[index], "via": "link", "link": index, "step": row.step, "channel": row.channel}
    event = await identities.add_event(
        "clicked", at=at, customer_id=row.customer_id, campaign_id=row.campaign_id, delivery_id=row.id, data=data
    )
    return Followed(urls[index], int(event.id))
