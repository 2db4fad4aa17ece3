"""What a rehearsal reads and changes in its scratch copy of the shop: the campaign set aside when one of that id
was launched before, the other campaigns paused, the messages sent since a moment, one message per persona, step
and variant with its count, and the products a simulated customer can buy. Never run on the shop's own database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from storage.db import dialect
from storage.models import Campaign, Product
from storage.sql import Params, fetch

SET_ASIDE = "~before-rehearsal"


@dataclass(frozen=True)
class Sent:
    """A campaign message sent: to whom, where, its id on the platform, its step, variant and persona, when."""

    delivery_id: int
    customer_id: int
    external_id: str
    channel: str
    address: str
    message_id: str
    step: str
    variant: str
    persona: str
    sent_at: datetime


@dataclass(frozen=True)
class Shown:
    """One message as the customers of a persona, step and variant got it, and how many got it."""

    persona: str
    step: str
    variant: str
    sent: int
    text: str


async def set_aside(key: str) -> bool:
    """Rename a campaign already registered under ``key`` (``KEY~before-rehearsal``), so the rehearsal launches
    the file afresh while that campaign's sends still count for caps; whether there was one."""
    return bool(await Campaign.filter(key=key).update(key=f"{key}{SET_ASIDE}"[:100]))


async def pause_others(campaign_id: int) -> list[str]:
    """Pause every other running marketing campaign (their rows wait), so only the rehearsed one sends; their keys."""
    others = Campaign.filter(status="running", kind="marketing").exclude(id=campaign_id)
    keys = [str(k) for k in await others.order_by("key").values_list("key", flat=True)]
    await Campaign.filter(key__in=keys).update(status="paused")
    return keys


def _moment(value: object) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value  # type: ignore[return-value]


async def sent_since(campaign_id: int, since: datetime) -> list[Sent]:
    """The campaign's messages sent after ``since``, in the order they were sent."""
    q = Params(dialect())
    at = q.moment(since)
    if q.dialect == "postgres":
        at = f"CAST({at} AS TIMESTAMPTZ)"
    rows = await fetch(
        "SELECT d.id, d.customer_id, c.external_id, d.channel, d.address, d.provider_message_id, d.step,"
        " COALESCE(d.variant, ''), COALESCE(d.persona, ''), d.sent_at FROM delivery d"
        f" JOIN customer c ON c.id = d.customer_id WHERE d.campaign_id = {q.add(campaign_id)} AND d.status = 'sent'"
        f" AND d.sent_at > {at} ORDER BY d.sent_at, d.id",
        q.values,
    )
    return [
        Sent(int(r[0]), int(r[1]), str(r[2]), str(r[3]), str(r[4] or ""), str(r[5] or ""), str(r[6]), str(r[7]),
             str(r[8]), _moment(r[9]))
        for r in rows
    ]  # fmt: skip


async def waiting(campaign_id: int) -> tuple[int, datetime | None]:
    """The campaign's messages not sent yet that still can be (planned or queued), and when the first is due."""
    q = Params(dialect())
    rows = await fetch(
        "SELECT COUNT(*), MIN(COALESCE(next_attempt_at, due_at)) FROM delivery"
        f" WHERE campaign_id = {q.add(campaign_id)} AND status IN ('planned', 'queued')",
        q.values,
    )
    count, first = rows[0]
    return int(count), _moment(first) if first is not None else None


async def shown(campaign_id: int) -> list[Shown]:
    """Per persona, step and variant: how many were sent the message, and the first of them as it was sent."""
    q = Params(dialect())
    cid = q.add(campaign_id)
    rows = await fetch(
        "SELECT COALESCE(d.persona, '-'), d.step, COALESCE(d.variant, '-'), n.sent, d.text FROM delivery d JOIN"
        f" (SELECT MIN(id) AS first, COUNT(*) AS sent FROM delivery WHERE campaign_id = {cid} AND status = 'sent'"
        " GROUP BY COALESCE(persona, '-'), step, COALESCE(variant, '-')) n ON n.first = d.id",
        q.values,
    )
    return [Shown(str(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4] or "")) for r in rows]


async def for_sale(category: str | None) -> list[tuple[str, float, str]]:
    """The products a customer can buy now (active, in stock or untracked), of ``category`` where it has any:
    (sku, price, currency), by SKU."""
    products = Product.filter(Q(stock=None) | Q(stock__gt=0), active=True)
    if category and await products.filter(category=category).exists():
        products = products.filter(category=category)
    rows = await products.order_by("sku").values_list("sku", "price", "currency")
    return [(str(sku), float(price), str(currency)) for sku, price, currency in rows]
