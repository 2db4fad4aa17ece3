"""Attribution: an order is credited to the campaign step that touched the customer last before it, within that
campaign's ``attribution_days``; recorded once per order as a ``converted`` event, whatever brings the order and
however often (the webhook, sent again; an import, before or after the webhook; a re-import).

The rules and the SQL live in :mod:`storage.credits`; this module knows what only the campaigns package can read, a
campaign's window in its YAML. The webhook credits its one order (:func:`attribute`); an import credits each batch of
orders as it writes them (:func:`crediting` gives the importer its :class:`~storage.credits.Credits`). A credited
order later cancelled, refunded or returned keeps its event, with ``total`` 0 and ``void``; a partial refund or
return lowers ``total``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Protocol

from campaigns.file.loader import CampaignError, parse_registered
from storage.bulk import id_map
from storage.credits import Credit, Credits, credit_of
from storage.sql import transaction

__all__ = ["Credit", "attribute", "crediting", "window", "window_of"]


@lru_cache(maxsize=512)
def window_of(yaml: str) -> timedelta:
    """A campaign's attribution window from its YAML snapshot (7 days when the snapshot cannot be read); a
    snapshot is read once per process, however many orders it judges."""
    try:
        return timedelta(days=parse_registered(yaml).attribution_days)
    except CampaignError:
        return timedelta(days=7)


class Snapshot(Protocol):
    """A registered campaign: its YAML as launched."""

    yaml: str


def window(campaign: Snapshot) -> timedelta:
    """The campaign's attribution window (its file's attribution_days; 7 days when the snapshot cannot be read)."""
    return window_of(campaign.yaml)


def crediting(now: Callable[[], datetime] | None = None) -> Credits:
    """What credits orders as they are stored: give it to an import; ``now`` dates a credit voided without a time
    of its own (default: the wall clock)."""
    return Credits(window_of, now=now or (lambda: datetime.now(UTC)))


async def attribute(order_external_id: str, now: Callable[[], datetime] | None = None) -> Credit | None:
    """Credit the stored order (not a return) to the last campaign message sent to its customer before it, within
    its campaign's attribution window, once; bring its credit, and that of the order it returns, up to date with
    its status, refunds and returns. Its credit (None: it has none)."""
    credits = crediting(now)
    async with transaction() as conn:
        await credits.give(conn, list((await id_map(conn, "order", "external_id", [order_external_id])).values()))
        return await credit_of(order_external_id, conn)
