"""Planned deliveries waiting for their copy, read in batches and queued once written."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from storage.models import Delivery


@dataclass(frozen=True)
class PlannedRow:
    """What the writer needs of one planned delivery: who, which persona, variant and channel."""

    id: int
    customer_id: int
    persona: str | None
    variant: str | None
    channel: str
    name: str
    language: str


@dataclass(frozen=True)
class Written:
    """A delivery's copy: its text, buttons (``{text, url}`` or ``{text, action}``), writer and note."""

    id: int
    text: str
    buttons: list[dict[str, Any]]
    source: str
    note: str | None


async def planned_batch(campaign_id: int, step: str, *, after: int, limit: int) -> list[PlannedRow]:
    """Up to ``limit`` planned rows of the step with ids above ``after``, in id order."""
    rows = (
        await Delivery.filter(campaign_id=campaign_id, step=step, status="planned", id__gt=after)
        .order_by("id")
        .limit(limit)
        .values("id", "customer_id", "persona", "variant", "channel", "customer__name", "customer__language")
    )
    return [
        PlannedRow(
            r["id"],
            r["customer_id"],
            r["persona"],
            r["variant"],
            r["channel"],
            r["customer__name"] or "",
            r["customer__language"] or "en",
        )
        for r in rows
    ]


async def queue_written(written: list[Written]) -> None:
    """Store each row's copy and queue it for sending (a row that is no longer planned is left alone)."""
    async with in_transaction():
        for w in written:
            await Delivery.filter(id=w.id, status="planned").update(
                text=w.text, buttons=w.buttons, copy_source=w.source, note=w.note, status="queued"
            )
