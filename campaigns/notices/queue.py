"""Order notices: the recorded status changes of orders become outbox rows of the built-in ``order-notices``
campaign, due at once, so the dispatcher sends them like any message (exactly once, paced, retried).

They are transactional: due at once whatever the marketing quiet hours (a customer expects "shipped" when it
ships), never counted against or held by marketing frequency caps, sent whatever the marketing consent, and
stopped only by the customer's own notices switch. Their words are :mod:`campaigns.notices.text`'s, never a
model's, and carry no offer.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from campaigns.notices.text import render, switched
from campaigns.ports import InboundEvent, Reply
from storage import identities
from storage import notices as store
from storage.timezones import UTC_ZONE

log = logging.getLogger(__name__)
BATCH = 500


async def queue_notices(
    zone: ZoneInfo | None = None, now: datetime | None = None, channels: Collection[str] | None = None
) -> int:
    """Queue a message for every recorded notice not yet queued (customers without a chat, or with notices off,
    get a note instead); how many were queued. Safe to run anywhere, any number of times: each notice makes at
    most one message. ``zone``: the shop's; expected dates are days of its calendar (a date-only ``expected_at``
    is midnight there), so they are written as they fall there, wherever the customer is. ``channels``: those the
    caller sends on (serve knows); a customer's chat on one of them is preferred to a later one elsewhere."""
    shop_zone, queued, seen = zone or UTC_ZONE, 0, set[int]()
    while pending := await store.pending(BATCH, channels):
        if seen.intersection(p.id for p in pending):  # a notice that would not settle: stop rather than spin
            log.error("order notices: notices %s could not be queued", sorted(seen.intersection(p.id for p in pending)))
            break
        seen.update(p.id for p in pending)
        now = now or datetime.now(UTC)
        campaign_id = await store.notices_campaign(now)
        messages: list[tuple[store.Pending, str, list[dict[str, str]]]] = []
        notes: list[tuple[int, str]] = []
        for p in pending:
            if p.address is None or p.channel is None:
                notes.append((p.id, "no_chat"))
            elif p.notices_off:
                notes.append((p.id, "notices_off"))
            else:
                text, buttons = render(p.notice, p.language, shop_zone)
                messages.append((p, text, [{"text": b.text, "url": b.url or ""} for b in buttons]))
        await store.queue(campaign_id, messages, notes, now)
        queued += len(messages)
    if queued:
        log.info("order notices: %d queued", queued)
    return queued


async def switch_notices(event: InboundEvent, on: bool, now: datetime) -> Reply:
    """A customer's chat words turned their order notices on or off: record it; the confirmation."""
    identity = await identities.find(event.channel, event.address)
    if identity is None:
        return Reply("Please send /start first.")
    customer = identity.customer
    await store.set_notices(customer.id, on, now, channel=event.channel)
    return Reply(switched(customer.language, on))
