"""The writers' cache: produced text by the hash of its inputs, shared by every process through the database."""

from __future__ import annotations

import contextlib
from typing import Any

from tortoise.exceptions import IntegrityError

from storage.models import CopyCache


async def get(key: str) -> dict[str, Any] | None:
    """What was cached under ``key``, or None."""
    row = await CopyCache.get_or_none(key=key)
    return dict(row.value) if row else None


async def put(key: str, value: dict[str, Any]) -> None:
    """Cache ``value`` under ``key``; a concurrent writer of the same key wins, since both wrote the same inputs."""
    with contextlib.suppress(IntegrityError):
        await CopyCache.create(key=key, value=value)


async def clear() -> int:
    """Forget everything cached; how many entries there were."""
    return await CopyCache.all().delete()
