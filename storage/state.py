"""Small named JSON values kept between runs (refresh watermarks, RFM cut points)."""

from __future__ import annotations

from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from storage.models import SystemState


async def get(key: str, connection: BaseDBAsyncClient | None = None) -> dict[str, Any] | None:
    """The value stored under ``key``, or None."""
    row = await SystemState.get_or_none(key=key, using_db=connection)
    return dict(row.value) if row else None


async def put(key: str, value: dict[str, Any], connection: BaseDBAsyncClient | None = None) -> None:
    """Store ``value`` under ``key``, replacing what was there."""
    await SystemState.update_or_create(key=key, defaults={"value": value}, using_db=connection)
