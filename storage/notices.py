"""Order notices in storage: the status changes a customer is told about (each recorded once, as
:mod:`storage.order_news` judges them), and their outbox rows. The unique (order, key) makes a repeat, even two at
once, a no-op.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient

from storage import bulk, campaigns
from storage.db import dialect
from storage.models import ChannelIdentity, Customer, Event, OrderNotice
from storage.order_news import Notice, key
from storage.sql import Params, execute, transaction

CAMPAIGN_KEY, KIND = "order-notices", "notices"
STEP_PREFIX = "notice-"


@dataclass(frozen=True)
class Pending:
    """A recorded notice not yet queued, with what its message needs; ``address`` None: no chat to send to."""

    id: int
    notice: Notice
    customer_id: int
    language: str
    notices_off: bool
    channel: str | None
    address: str | None


async def record(conn: BaseDBAsyncClient, changes: Sequence[Notice], order_ids: dict[str, int], at: datetime) -> None:
    """Record ``changes`` (already judged news) of the stored orders ``order_ids``; a repeat records nothing."""
    rows = [
        {
            "order_id": order_ids[c.order],
            "key": key(c.status, c.expected_at),
            "status": c.status,
            "tracking_url": c.tracking_url,
            "carrier": c.carrier,
            "expected_at": c.expected_at,
            "at": at,
        }
        for c in changes
        if c.order in order_ids
    ]
    await bulk.upsert(conn, "order_notice", rows, conflict=["order_id", "key"], update=[])


async def pending(limit: int = 500, channels: Collection[str] | None = None) -> list[Pending]:
    """Recorded notices without a message or a reason for none, oldest first, with each customer's latest
    reachable chat: the latest on one of ``channels`` (those the sender runs) when the customer has one there."""
    notices = await OrderNotice.filter(delivery_id=None, note=None).order_by("id").limit(limit)
    if not notices:
        return []
    await OrderNotice.fetch_for_list(notices, "order__customer")
    # an erased customer's orders have no customer (and their notices are gone with them)
    told = [(n, n.order, n.order.customer) for n in notices if n.order.customer is not None]
    customers = {customer.id for _, _, customer in told}
    # the latest linked wins; one on a channel nobody sends on would wait queued for ever
    latest: dict[int, ChannelIdentity] = {}
    served: dict[int, ChannelIdentity] = {}
    for identity in await ChannelIdentity.filter(customer_id__in=customers, reachable=True).order_by("linked_at", "id"):
        latest[identity.customer_id] = identity  # type: ignore[attr-defined]
        if channels is not None and identity.channel in channels:
            served[identity.customer_id] = identity  # type: ignore[attr-defined]
    chats = latest | served
    out = []
    for n, order, customer in told:
        chat = chats.get(customer.id)
        out.append(
            Pending(int(n.id), Notice(order.external_id, n.status, n.tracking_url or order.tracking_url,
                                      n.carrier or order.carrier, n.expected_at or order.expected_at), int(customer.id),
                    customer.language, customer.notices_off_at is not None,
                    chat.channel if chat else None, chat.address if chat else None)
        )  # fmt: skip
    return out


async def notices_campaign(now: datetime) -> int:
    """The id of the built-in order-notices campaign (made, running, at first need; never made twice)."""
    return await campaigns.builtin(CAMPAIGN_KEY, "Order notices", KIND, now)


async def queue(campaign_id: int, messages: Sequence[tuple[Pending, str, list[dict[str, str]]]],
                notes: Sequence[tuple[int, str]], now: datetime) -> None:  # fmt: skip
    """Queue each (notice, text, buttons) as a delivery due now and tie it to its notice; note the others' reason,
    in one transaction (a notice queued twice at once makes one delivery: the outbox's unique step)."""
    rows = [
        {"campaign_id": campaign_id, "step": f"{STEP_PREFIX}{p.id}", "customer_id": p.customer_id,
         "channel": p.channel, "address": p.address, "text": text, "buttons": json.dumps(buttons), "due_at": now,
         "status": "queued", "attempts": 0, "copy_source": "notice", "created_at": now}
        for p, text, buttons in messages
    ]  # fmt: skip
    async with transaction() as conn:
        await bulk.upsert(conn, "delivery", rows, conflict=["campaign_id", "step", "customer_id"], update=[])
        q = Params(dialect())
        if messages:
            ids = ", ".join(q.add(p.id) for p, _, _ in messages)
            await execute(
                "UPDATE order_notice SET delivery_id = (SELECT d.id FROM delivery d WHERE d.campaign_id = "
                f"{q.add(campaign_id)} AND d.step = {q.text(STEP_PREFIX)} || CAST(order_notice.id AS TEXT)) "
                f"WHERE id IN ({ids}) AND delivery_id IS NULL",
                q.values,
                conn,
            )
        for notice_id, note in notes:
            await OrderNotice.filter(id=notice_id, delivery_id=None).using_db(conn).update(note=note)


async def set_notices(customer_id: int, on: bool, at: datetime, channel: str | None = None) -> bool:
    """Turn a customer's order notices on or off (marketing consent stays as it is); False when nothing changed."""
    async with transaction() as conn:
        query = Customer.filter(id=customer_id, notices_off_at__isnull=not on).using_db(conn)
        changed = await query.update(notices_off_at=None if on else at)
        if changed:
            data = {"channel": channel} if channel else {}
            await Event.create(type="notices_on" if on else "notices_off", customer_id=customer_id, at=at, data=data,
                               using_db=conn)  # fmt: skip
    return bool(changed)
