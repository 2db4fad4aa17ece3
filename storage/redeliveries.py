"""Inbound updates recorded once by their platform id, so that a redelivery does nothing
(:class:`campaigns.ports.Redeliveries`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.exceptions import IntegrityError

from storage.models import InboundUpdate


class StoredUpdates:
    """The database side of :class:`campaigns.ports.Redeliveries`: one row per channel and update key."""

    async def first_time(self, channel: str, key: str) -> bool:
        """Record the update; False where it was recorded before (a redelivery)."""
        try:
            await InboundUpdate.create(channel=channel, key=key[:128])
        except IntegrityError:
            return False
        return True

    async def forget(self, channel: str, key: str) -> None:
        """Handling the update failed: forget it, so that the platform's redelivery is handled."""
        await InboundUpdate.filter(channel=channel, key=key[:128]).delete()


async def prune_received(days: float, *, now: datetime | None = None) -> int:
    """Forget the updates received more than ``days`` ago (a scheduled job): platforms redeliver within hours
    (Telegram keeps an undelivered update for 24 hours), so older ids need not be kept; how many were forgotten."""
    before = (now or datetime.now(UTC)) - timedelta(days=days)
    return await InboundUpdate.filter(received_at__lt=before).delete()
