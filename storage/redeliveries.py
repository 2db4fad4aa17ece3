"""Inbound updates recorded once by their platform id, so that a redelivery does nothing
(:class:`campaigns.ports.Redeliveries`).

The engine records an update inside the transaction of its effects: a crash before the commit loses both, and the
platform's redelivery is then handled; after it, the redelivery finds the id and does nothing. Two deliveries of one
update at once cannot both record it: the second waits on the unique key and finds it taken.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import dialect
from storage.models import InboundUpdate
from storage.sql import Params, conn

KEY_MAX = 128


class StoredUpdates:
    """The database side of :class:`campaigns.ports.Redeliveries`: one row per channel and update key."""

    async def seen(self, channel: str, key: str) -> bool:
        """Whether the update was handled before."""
        return await InboundUpdate.exists(channel=channel, key=key[:KEY_MAX])

    async def record(self, channel: str, key: str) -> bool:
        """Record the update (in the transaction of the caller, if any); False where it was recorded before. Never a
        unique-key error: that would abort a PostgreSQL transaction the caller means to keep."""
        return await record(channel, key)


async def record(channel: str, key: str, *, at: datetime | None = None) -> bool:
    """Record an update by its key; False where it was recorded before (see :class:`StoredUpdates`)."""
    q = Params(dialect())
    sql = (
        f"INSERT INTO inbound_update (channel, key, received_at) VALUES ({q.text(channel)}, {q.text(key[:KEY_MAX])}, "
        f"{q.moment(at or datetime.now(UTC))}) ON CONFLICT (channel, key) DO NOTHING RETURNING id"
    )
    rows = await conn().execute_query_dict(sql, q.values)
    return bool(rows)


async def prune_received(days: float, *, now: datetime | None = None) -> int:
    """Forget the updates received more than ``days`` ago (a scheduled job): platforms redeliver within hours
    (Telegram keeps an undelivered update for 24 hours), so older ids need not be kept; how many were forgotten."""
    before = (now or datetime.now(UTC)) - timedelta(days=days)
    return await InboundUpdate.filter(received_at__lt=before).delete()
