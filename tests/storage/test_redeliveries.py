"""Inbound updates by their platform id: the first is handled, a redelivery is not; one recorded in a transaction
that rolls back is not recorded (its redelivery is handled); a week on every id is forgotten (platforms redeliver
within hours)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.identities import transaction
from storage.models import InboundUpdate
from storage.redeliveries import StoredUpdates, prune_received

pytestmark = pytest.mark.usefixtures("database")


async def test_a_key_is_recorded_once_per_channel() -> None:
    updates = StoredUpdates()
    assert not await updates.seen("telegram", "42:1001")
    assert await updates.record("telegram", "42:1001")
    assert await updates.seen("telegram", "42:1001")
    assert not await updates.record("telegram", "42:1001")
    assert await updates.record("slack", "42:1001")  # another channel's ids are its own


async def test_a_key_recorded_in_a_failed_transaction_is_not_kept_and_a_clash_keeps_the_transaction() -> None:
    updates = StoredUpdates()
    with pytest.raises(RuntimeError):
        async with transaction():
            assert await updates.record("telegram", "42:7")
            raise RuntimeError("the handler failed after recording")
    assert not await updates.seen("telegram", "42:7")  # the redelivery will be handled
    assert await updates.record("telegram", "42:8")
    async with transaction():  # a clash is an answer, not an error: the transaction goes on and commits
        assert not await updates.record("telegram", "42:8")
        assert await updates.record("telegram", "42:9")
    assert await updates.seen("telegram", "42:9")


async def test_ids_older_than_the_days_kept_are_forgotten() -> None:
    updates = StoredUpdates()
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    for key in ("old", "new"):
        assert await updates.record("telegram", key)
    await InboundUpdate.filter(key="old").update(received_at=now - timedelta(days=8))
    await InboundUpdate.filter(key="new").update(received_at=now - timedelta(days=6))
    assert await prune_received(7, now=now) == 1
    assert [u.key for u in await InboundUpdate.all()] == ["new"]
    assert await updates.record("telegram", "old") and not await updates.record("telegram", "new")
