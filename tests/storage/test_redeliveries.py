"""Inbound updates by their platform id: the first is handled, a redelivery is not; a failed one is forgotten,
and a week on every id is forgotten (platforms redeliver within hours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.models import InboundUpdate
from storage.redeliveries import StoredUpdates, prune_received

pytestmark = pytest.mark.usefixtures("database")


async def test_a_key_is_first_once_per_channel_until_forgotten() -> None:
    updates = StoredUpdates()
    assert await updates.first_time("telegram", "42:1001")
    assert not await updates.first_time("telegram", "42:1001")
    assert await updates.first_time("slack", "42:1001")  # another channel's ids are its own
    await updates.forget("telegram", "42:1001")  # its handling failed: the redelivery is handled
    assert await updates.first_time("telegram", "42:1001")


async def test_ids_older_than_the_days_kept_are_forgotten() -> None:
    updates = StoredUpdates()
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    for key in ("old", "new"):
        assert await updates.first_time("telegram", key)
    await InboundUpdate.filter(key="old").update(received_at=now - timedelta(days=8))
    await InboundUpdate.filter(key="new").update(received_at=now - timedelta(days=6))
    assert await prune_received(7, now=now) == 1
    assert [u.key for u in await InboundUpdate.all()] == ["new"]
    assert await updates.first_time("telegram", "old") and not await updates.first_time("telegram", "new")
