"""Planned deliveries waiting for their copy, read in batches and queued once written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.db import dialect
from storage.models import Delivery
from storage.sql import Params, execute, transaction, values_source


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
    copy_arm: str | None = None  # copy_test: llm or template


@dataclass(frozen=True)
class Written:
    """A delivery's copy: its text, buttons (``{text, url}`` or ``{text, action}``), writer and note, and the
    picture sent with it (its https URL and alt text) if any."""

    id: int
    text: str
    buttons: list[dict[str, Any]]
    source: str
    note: str | None
    image_url: str | None = None
    image_alt: str | None = None


def _clean(text: str) -> str:
    return text.replace("\x00", "\ufffd")  # PostgreSQL's text holds no NUL


async def planned_batch(campaign_id: int, step: str, *, after: int, limit: int) -> list[PlannedRow]:
    """Up to ``limit`` planned rows of the step with ids above ``after``, in id order."""
    rows = (
        await Delivery.filter(campaign_id=campaign_id, step=step, status="planned", id__gt=after)
        .order_by("id")
        .limit(limit)
        .values(
            "id", "customer_id", "persona", "variant", "channel", "customer__name", "customer__language", "copy_arm"
        )
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
            r["copy_arm"],
        )
        for r in rows
    ]


async def queue_written(written: list[Written], *, chunk: int = 1000) -> int:
    """Store each row's copy and queue it for sending, a statement per ``chunk`` rows (a row that is no longer
    planned is left alone); how many rows were queued."""
    queued = 0
    async with transaction() as connection:
        for start in range(0, len(written), chunk):
            rows = [
                (w.id, _clean(w.text), json.dumps(w.buttons), w.source, w.note, w.image_url, w.image_alt)
                for w in written[start : start + chunk]
            ]
            q = Params(dialect())
            source = values_source(q, rows, ["bigint", "text", "text", "text", "text", "text", "text"])
            buttons = "CAST(v.column3 AS JSONB)" if q.dialect == "postgres" else "v.column3"
            sql = (
                f"UPDATE delivery SET status = 'queued', text = v.column2, buttons = {buttons}, "
                "copy_source = v.column4, note = v.column5, image_url = v.column6, image_alt = v.column7 "
                f"FROM {source} "
                "WHERE delivery.id = v.column1 AND delivery.status = 'planned'"
            )
            queued += await execute(sql, q.values, connection)
    return queued
