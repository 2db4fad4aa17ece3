"""Send rates per channel: overall and per chat, and the pauses a 429 asks for.

In one process, aiolimiter's leaky buckets keep the pace. Several processes sending for the same bot share
its limits through Redis instead (:class:`SharedThrottle`: the ``limits`` library's moving windows, so no
second ever holds more than the rate's sends, whichever process made them).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from campaigns.ports import ChannelLimits

log = logging.getLogger(__name__)

CHAT_MARGIN = 1.1  # a chat allows one message per second: keep a tenth of a second apart for network jitter
PRUNE_AT = 4096


def _bucket(rate: float, burst: float) -> AsyncLimiter:
    """A leaky bucket letting ``burst`` through at once, then ``rate`` per second."""
    return AsyncLimiter(burst, burst / rate)


def _rate(value: float | None) -> float | None:
    """A rate in messages per second, or None for no limit (0, negative, infinite)."""
    return value if value is not None and 0 < value < math.inf else None


class Throttle:
    """One channel's pace: an overall rate, a rate per chat address, and a pause all sends wait out."""

    def __init__(
        self,
        overall: float | None,
        per_chat: float | None,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        self.overall_rate, self.chat_rate = _rate(overall), _rate(per_chat)
        # a small burst (a tenth of a second's worth) and then an even pace: the platform's own bucket stays full
        self.overall = _bucket(self.overall_rate, max(1.0, self.overall_rate / 10)) if self.overall_rate else None
        self.clock, self.sleep = clock, sleep
        self.paused_until: datetime | None = None
        self._chats: dict[str, AsyncLimiter] = {}
        self._prune_at = PRUNE_AT

    @classmethod
    def for_channel(
        cls,
        name: str,
        limits: ChannelLimits,
        rates: Mapping[str, float] | None,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[object]],
        shared: str | None = None,
    ) -> Throttle:
        """The channel's limits, overridden by ``rates[name]`` (overall) and ``rates[name + '/chat']`` (per chat);
        ``shared``: a Redis URL whose counters every process sending on this channel shares."""
        rates = rates or {}
        overall = rates.get(name, limits.messages_per_second)
        per_chat = rates.get(f"{name}/chat", limits.per_chat_per_second)
        if shared:
            return SharedThrottle(name, overall, per_chat, shared, clock=clock, sleep=sleep)
        return cls(overall, per_chat, clock=clock, sleep=sleep)

    async def acquire(self, address: str) -> int:
        """Wait until a send to ``address`` is allowed; how many times it waited out a pause."""
        if self.chat_rate:
            await self._chat(address).acquire()
        if self.overall:
            await self.overall.acquire()
        waits = 0
        while self.paused_until is not None and (left := (self.paused_until - self.clock()).total_seconds()) > 0:
            waits += 1
            await self.sleep(left)
        return waits

    async def try_acquire(self, address: str) -> float:
        """Take a send slot for ``address`` if one is free now: 0.0; else, taking nothing, about how many seconds until
        one is (a reply that would wait is queued rather than held)."""
        if (left := self._paused_for()) > 0:
            return left
        chat = self._chat(address) if self.chat_rate else None
        if chat is not None and not chat.has_capacity():
            return CHAT_MARGIN / (self.chat_rate or 1.0)
        if self.overall is not None and not self.overall.has_capacity():
            return 1.0 / (self.overall_rate or 1.0)
        if chat is not None:
            await chat.acquire()  # free: returns at once
        if self.overall is not None:
            await self.overall.acquire()
        return 0.0

    def _paused_for(self) -> float:
        """Seconds left of the pause a 429 asked for (0 when none)."""
        if self.paused_until is None:
            return 0.0
        return max((self.paused_until - self.clock()).total_seconds(), 0.0)

    def pause(self, seconds: float) -> None:
        """Hold every send of the channel for ``seconds`` from now (the platform said: retry after)."""
        until = self.clock() + timedelta(seconds=max(seconds, 0.0))
        if self.paused_until is None or until > self.paused_until:
            self.paused_until = until

    def _chat(self, address: str) -> AsyncLimiter:
        limiter = self._chats.get(address)
        if limiter is None:
            if len(self._chats) >= self._prune_at:
                # forget the chats whose bucket has drained: a new bucket for them starts empty, as theirs is now
                self._chats = {a: b for a, b in self._chats.items() if not b.has_capacity(b.max_rate)}
                self._prune_at = max(PRUNE_AT, 2 * len(self._chats))
            assert self.chat_rate is not None
            limiter = self._chats[address] = _bucket(self.chat_rate / CHAT_MARGIN, 1.0)
        return limiter


FALLBACK_RATE = 1.0  # messages a second one process sends while Redis is away: 30 processes stay under 30/s
REDIS_RETRY_SECONDS = 5.0  # how long a process keeps to its fallback before it asks Redis again


class SharedThrottle(Throttle):
    """A channel's pace shared by every process through Redis: moving windows of one second, overall and per
    chat (the ``limits`` library; a send waits until its windows have room, never past the rate).

    When Redis cannot be reached the throttle fails safe: this process falls back to a local pace of
    ``FALLBACK_RATE`` overall (and the chat's own rate), slower than its share could be, never faster, and asks
    Redis again after ``REDIS_RETRY_SECONDS``.
    """

    def __init__(
        self,
        name: str,
        overall: float | None,
        per_chat: float | None,
        url: str,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[object]],
    ) -> None:
        super().__init__(overall, per_chat, clock=clock, sleep=sleep)
        self.overall = None  # the shared windows replace the local buckets
        self._chats = {}
        storage = storage_from_string(_async_url(url))
        self._limiter = MovingWindowRateLimiter(storage)
        self._name = f"chatcast:{name}"
        # one send fewer than the rate per one-second window: the platform's bucket (rate tokens, refilled at the
        # rate) then accepts every window's sends even when network delays shift them by up to half a second
        rate = self.overall_rate
        self._overall_item = RateLimitItemPerSecond(max(1, math.ceil(rate) - 1)) if rate else None
        self._turn = asyncio.Lock()  # this process's sends take the shared slots one after another, in order
        # a chat's one message a second, with room for jitter: one per two seconds of window, two a window
        self._chat_item = RateLimitItemPerSecond(1, 2) if self.chat_rate else None
        fallback = min(rate, FALLBACK_RATE) if rate else FALLBACK_RATE
        self.fallback = Throttle(fallback, per_chat, clock=clock, sleep=sleep)
        self._redis_down_until = 0.0
        self.fallbacks = 0  # sends paced locally because Redis was away

    async def _take(self, item: RateLimitItem, key: str) -> None:
        while not await self._limiter.hit(item, self._name, key):
            stats = await self._limiter.get_window_stats(item, self._name, key)
            await self.sleep(max(stats.reset_time - time.time(), 0.005))

    async def acquire(self, address: str) -> int:
        """Wait until this send is allowed by the shared windows (and any pause); how many pauses it waited."""
        if time.monotonic() < self._redis_down_until:
            await self._local(address)
        else:
            try:
                if self._chat_item is not None:
                    await self._take(self._chat_item, f"chat:{address}")
                if self._overall_item is not None:
                    async with self._turn:
                        await self._take(self._overall_item, "all")
            except Exception as exc:  # whatever the Redis client raises (coredis under limits): fail safe
                log.warning("rate limits: Redis is unreachable (%s); pacing this process alone, slowly", exc)
                self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
                await self._local(address)
        waits = 0
        while self.paused_until is not None and (left := (self.paused_until - self.clock()).total_seconds()) > 0:
            waits += 1
            await self.sleep(left)
        return waits

    async def try_acquire(self, address: str) -> float:
        """As :meth:`Throttle.try_acquire`, in the shared windows (locally while Redis is away)."""
        if (left := self._paused_for()) > 0:
            return left
        if time.monotonic() < self._redis_down_until:
            self.fallbacks += 1
            return await self.fallback.try_acquire(address)
        try:
            windows = [(self._chat_item, f"chat:{address}"), (self._overall_item, "all")]
            for item, key in windows:
                if item is not None and not await self._limiter.hit(item, self._name, key):
                    stats = await self._limiter.get_window_stats(item, self._name, key)
                    return max(stats.reset_time - time.time(), 0.005)
        except Exception as exc:  # as in acquire: fail safe, locally
            log.warning("rate limits: Redis is unreachable (%s); pacing this process alone, slowly", exc)
            self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
            self.fallbacks += 1
            return await self.fallback.try_acquire(address)
        return 0.0

    async def _local(self, address: str) -> None:
        self.fallbacks += 1
        await self.fallback.acquire(address)


def _async_url(url: str) -> str:
    """``redis://host`` as the ``limits`` library's asyncio storage URL."""
    return url if url.startswith("async+") else f"async+{url}"
