"""Replies to what customers do in their chats, as outbox rows of the built-in ``chat-replies`` campaign: the
dispatcher sends them as it sends everything (paced per chat and overall, retried, a block an opt-out), and the
unique (campaign, step, customer) of the outbox makes a second answer to one update a no-op.

The campaign's kind (``replies``) keeps them out of every marketing rule: consent (a customer who just opted out
still reads the confirmation), frequency caps, suppression, reports, attribution.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import datetime

from storage import bulk, campaigns
from storage.models import ChannelIdentity, Delivery
from storage.sql import transaction

CAMPAIGN_KEY, KIND = "chat-replies", "replies"
STEP_PREFIX = "reply:"
STEP_MAX = 64


def step_for(update: str | None) -> str:
    """The outbox step of the reply to ``update`` (one per update), or a fresh one for a reply to no update."""
    step = STEP_PREFIX + (update or uuid.uuid4().hex)
    if len(step) > STEP_MAX:
        step = STEP_PREFIX + hashlib.sha256(step.encode()).hexdigest()[: STEP_MAX - len(STEP_PREFIX)]
    return step


async def replies_campaign(now: datetime) -> int:
    """The id of the built-in chat-replies campaign."""
    return await campaigns.builtin(CAMPAIGN_KEY, "Chat replies", KIND, now)


async def queue(
    channel: str,
    address: str,
    text: str,
    buttons: Sequence[dict[str, str]],
    *,
    update: str | None,
    now: datetime,
) -> int | None:
    """Queue a reply to the chat, due now; the outbox row's id, or None when the chat is no customer's (then there
    is no row to keep: the caller sends it as it can). A second reply to the same update is not queued: the id of
    the first is returned."""
    identity = await ChannelIdentity.get_or_none(channel=channel, address=address).only("id", "customer_id")
    if identity is None:
        return None
    customer_id = identity.customer_id  # type: ignore[attr-defined]
    campaign_id, step = await replies_campaign(now), step_for(update)
    row = {"campaign_id": campaign_id, "step": step, "customer_id": customer_id, "channel": channel,
           "address": address, "text": text, "buttons": json.dumps(list(buttons)), "due_at": now, "status": "queued",
           "attempts": 0, "copy_source": "reply", "created_at": now}  # fmt: skip
    async with transaction() as conn:
        await bulk.upsert(conn, "delivery", [row], conflict=["campaign_id", "step", "customer_id"], update=[])
    found = await Delivery.get(campaign_id=campaign_id, step=step, customer_id=customer_id).only("id")
    return int(found.id)
