"""Campaign rows: their status, lookups by key, and the counts a marketer asks for."""

from __future__ import annotations

from datetime import datetime

from tortoise.functions import Count

from storage import bulk
from storage.models import Campaign, Delivery, Event, Product
from storage.sql import transaction

UNSENT = ("planned", "queued")


async def known_skus() -> set[str]:
    """Every SKU in the catalog (for checking campaign files)."""
    return set(await Product.all().values_list("sku", flat=True))  # type: ignore[arg-type]


async def known_categories() -> set[str]:
    """Every product category in the catalog."""
    return {c for c in await Product.all().distinct().values_list("category", flat=True) if c}  # type: ignore[misc]


async def builtin(key: str, name: str, kind: str, now: datetime) -> int:
    """The id of a built-in campaign (the order notices, the chat replies): made, running, at first need; never made
    twice, even by two processes at once. Its ``kind`` keeps it out of every marketing list and rule."""
    found = await Campaign.get_or_none(key=key)
    if found is None:
        row = {"key": key, "name": name, "yaml": "", "yaml_hash": "", "status": "running", "kind": kind,
               "created_at": now, "updated_at": now}  # fmt: skip
        async with transaction() as conn:
            await bulk.upsert(conn, "campaign", [row], conflict=["key"], update=[])
        found = await Campaign.get(key=key)
    return int(found.id)


async def by_key(key: str) -> Campaign | None:
    """The campaign registered under ``key``."""
    return await Campaign.get_or_none(key=key)


async def keys(status: str) -> list[str]:
    """The keys of the marketing campaigns in ``status``, in launch order."""
    found = Campaign.filter(status=status, kind="marketing").order_by("id")
    return [str(k) for k in await found.values_list("key", flat=True)]


async def status(campaign_id: int) -> str:
    """Where the campaign stands."""
    return (await Campaign.get(id=campaign_id)).status


async def set_status(campaign_id: int, status: str) -> None:
    """Move the campaign to ``status``."""
    await Campaign.filter(id=campaign_id).update(status=status)


async def skip_unsent(campaign_id: int, reason: str) -> int:
    """Skip every row of the campaign not yet sent (cancelled); how many."""
    return await Delivery.filter(campaign_id=campaign_id, status__in=UNSENT).update(status="skipped", note=reason)


async def counts(campaign_id: int) -> dict[tuple[str, str], int]:
    """Rows per (step, status)."""
    rows = (
        await Delivery.filter(campaign_id=campaign_id)
        .annotate(n=Count("id"))
        .group_by("step", "status")
        .values("step", "status", "n")
    )
    return {(r["step"], r["status"]): int(r["n"]) for r in rows}


async def skipped(campaign_id: int) -> dict[str, int]:
    """The campaign's skipped rows by their reason (the row's note)."""
    rows = (
        await Delivery.filter(campaign_id=campaign_id, status="skipped")
        .annotate(n=Count("id"))
        .group_by("note")
        .values("note", "n")
    )
    found: dict[str, int] = {}
    for r in rows:
        found[r["note"] or "other"] = found.get(r["note"] or "other", 0) + int(r["n"])
    return found


async def funnel(campaign_id: int) -> dict[str, int]:
    """Targeted, held out, sent, failed, unknown, skipped by reason, and the customers who clicked, snoozed ("Not
    now") and opted out, for one campaign."""
    rows = (
        await Delivery.filter(campaign_id=campaign_id)
        .annotate(n=Count("id"))
        .group_by("status", "note")
        .values("status", "note", "n")
    )
    out: dict[str, int] = {"targeted": 0}
    for r in rows:
        n = int(r["n"])
        out["targeted"] += n
        key = f"skipped: {r['note'] or 'other'}" if r["status"] == "skipped" else r["status"]
        out[key] = out.get(key, 0) + n
    for kind in ("clicked", "snoozed", "opted_out"):
        people = await Event.filter(campaign_id=campaign_id, type=kind).distinct().values_list("customer_id", flat=True)
        out[kind] = len(set(people))
    return out
