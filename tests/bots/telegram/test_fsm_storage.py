"""The bot's FSM storage: in memory by default, in Redis with a Redis URL, shared by every process using it."""

from __future__ import annotations

import uuid

import pytest
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.fsm.storage.redis import RedisStorage

from bots.inbound.acts import Inbound
from bots.telegram.app import build_dispatcher
from tests.fakes.environment import REDIS_URL, redis_up


def test_without_redis_the_state_stays_in_this_process() -> None:
    assert isinstance(build_dispatcher(Inbound(None)).storage, MemoryStorage)


async def test_two_processes_dispatchers_share_conversation_state_through_redis() -> None:
    if not redis_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    first, second = (build_dispatcher(Inbound(None), redis_url=REDIS_URL) for _ in range(2))
    assert isinstance(first.storage, RedisStorage)
    chat = int(uuid.uuid4().int % 10**9)
    key = StorageKey(bot_id=123456, chat_id=chat, user_id=chat)
    try:
        await first.storage.set_state(key, "feedback:rating")
        await first.storage.set_data(key, {"order": "A1"})
        assert await second.storage.get_state(key) == "feedback:rating"  # another process sees it
        assert await second.storage.get_data(key) == {"order": "A1"}
    finally:
        await first.storage.set_state(key, None)
        await first.storage.set_data(key, {})
        await first.storage.close()
        await second.storage.close()
