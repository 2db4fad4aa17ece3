"""Send rates per channel: overall and per chat, and the pauses a 429 asks for.

In one process, aiolimiter's leaky buckets keep the pace. Several processes sending for the same bot share
its limits through Redis instead (:class:`SharedThrottle`: the ``limits`` library's moving windows, so no
second ever holds more than the rate's sends, whichever process made them).

A pause holds either the whole channel (the bot's or app's limit: every send waits it out) or one target, a chat
or a workspace (:meth:`campaigns.ports.ChannelLimits.pause_key`): the dispatcher asks :meth:`Throttle.held_until`
before a send and puts a held target's rows back until the pause ends, so the channel's other targets keep
flowing. With Redis, every pause is a key there that lives as long as it does, and every process heeds it.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta

from aiolimiter import AsyncLimiter
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from redis.asyncio import Redis

from campaigns.ports import Channel, ChannelLimits, OutboundMessage, RateLimited, SendReceipt

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
        self.paused_until: datetime | None = None  # the whole channel's pause
        self._holds: dict[str, datetime] = {}  # a target's pause (its key: a chat, a workspace) -> its end
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
        return await self._wait_out()

    async def _wait_out(self) -> int:
        """Wait out the whole channel's pause, if any; how many times it waited."""
        waits = 0
        while (until := await self._channel_pause()) is not None:
            left = (until - self.clock()).total_seconds()
            if left <= 0:
                break
            waits += 1
            await self.sleep(left)
        return waits

    async def try_acquire(self, address: str) -> float:
        """Take a send slot for ``address`` if one is free now: 0.0; else, taking nothing, about how many seconds until
        one is (a reply that would wait is queued rather than held)."""
        if (left := await self._paused_for()) > 0:
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

    async def _paused_for(self) -> float:
        """Seconds left of the whole channel's pause a 429 asked for (0 when none)."""
        until = await self._channel_pause()
        return 0.0 if until is None else max((until - self.clock()).total_seconds(), 0.0)

    async def _channel_pause(self) -> datetime | None:
        return self.paused_until

    async def pause(self, seconds: float, key: str | None = None) -> datetime:
        """Hold the sends to target ``key`` (None: every send of the channel) for ``seconds`` from now (the
        platform said: retry after); when the pause ends."""
        until = self.clock() + timedelta(seconds=max(seconds, 0.0))
        self._note(key, until)
        return until

    async def held_until(self, key: str) -> datetime | None:
        """When the pause of target ``key`` ends, while one holds it; None when the target may be sent to (the
        whole channel's pause is :meth:`acquire`'s to wait out)."""
        return self._held_here(key)

    async def close(self) -> None:
        """Let go of what the throttle holds open (nothing, in one process)."""

    def _note(self, key: str | None, until: datetime) -> None:
        """Keep a pause's end, the later one where two overlap."""
        if key is None:
            if self.paused_until is None or until > self.paused_until:
                self.paused_until = until
            return
        if len(self._holds) >= PRUNE_AT and key not in self._holds:
            now = self.clock()
            self._holds = {k: end for k, end in self._holds.items() if end > now}
        if key not in self._holds or until > self._holds[key]:
            self._holds[key] = until

    def _held_here(self, key: str) -> datetime | None:
        until = self._holds.get(key)
        if until is not None and until <= self.clock():
            del self._holds[key]
            return None
        return until

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
REDIS_TIMEOUT = 2.0  # seconds a pause's read or write may take before Redis counts as away
PAUSE_TTL_MARGIN = 60.0  # seconds a pause's key outlives its end in Redis (its value says the end; this tidies)
# a pause's end as a Unix time, raised but never lowered: a shorter pause must not cut a longer one short
_RAISE_PAUSE = """
local current = redis.call('GET', KEYS[1])
if current and tonumber(current) >= tonumber(ARGV[1]) then
    return current
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]
"""


class SharedThrottle(Throttle):
    """A channel's pace shared by every process through Redis: moving windows of one second, overall and per
    chat (the ``limits`` library; a send waits until its windows have room, never past the rate).

    Pauses are shared too: a pause is the key ``chatcast:<channel>:pause`` (the whole channel) or
    ``chatcast:<channel>:pause:<target>``, holding its end as a Unix time, expiring a little after it.

    When Redis cannot be reached the throttle fails safe: this process falls back to a local pace of
    ``FALLBACK_RATE`` overall (and the chat's own rate), slower than its share could be, never faster, heeds the
    pauses it knows of itself, and asks Redis again after ``REDIS_RETRY_SECONDS``.
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
        self._url, self._redis = url.removeprefix("async+"), None
        self._pauses = f"chatcast:{name}:pause"

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
                self._redis_away(exc)
                await self._local(address)
        return await self._wait_out()

    async def try_acquire(self, address: str) -> float:
        """As :meth:`Throttle.try_acquire`, in the shared windows (locally while Redis is away)."""
        if (left := await self._paused_for()) > 0:
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
            self._redis_away(exc)
            self.fallbacks += 1
            return await self.fallback.try_acquire(address)
        return 0.0

    async def _local(self, address: str) -> None:
        self.fallbacks += 1
        await self.fallback.acquire(address)

    def _redis_away(self, exc: Exception) -> None:
        log.warning("rate limits: Redis is unreachable (%s); pacing this process alone, slowly", exc)
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS

    def _client(self) -> Redis | None:
        """The Redis client for pauses (made on first use, in the running loop), or None while Redis is away."""
        if time.monotonic() < self._redis_down_until:
            return None
        if self._redis is None:
            self._redis = Redis.from_url(self._url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
        return self._redis

    def _key(self, key: str | None) -> str:
        return self._pauses if key is None else f"{self._pauses}:{key}"

    async def pause(self, seconds: float, key: str | None = None) -> datetime:
        """Hold the target ``key`` (None: the whole channel) for ``seconds`` here and, through Redis, everywhere;
        when the pause ends (a longer one another process made ends later)."""
        until = await super().pause(seconds, key)
        if (client := self._client()) is not None:
            ttl = math.ceil((max(seconds, 0.0) + PAUSE_TTL_MARGIN) * 1000)
            try:
                end = await client.eval(_RAISE_PAUSE, 1, self._key(key), repr(until.timestamp()), str(ttl))  # type: ignore[misc]
            except Exception as exc:  # whatever redis-py raises: this process still keeps the pause itself
                self._redis_away(exc)
            else:
                until = max(until, datetime.fromtimestamp(float(end), UTC))
                self._note(key, until)
        return until

    async def held_until(self, key: str) -> datetime | None:
        """When the pause of target ``key`` ends, as this process or Redis knows it; None when not paused."""
        return self._held_here(key) or await self._shared(key)

    async def _channel_pause(self) -> datetime | None:
        here, there = self.paused_until, await self._shared(None)
        return max(here, there) if here is not None and there is not None else here or there

    async def _shared(self, key: str | None) -> datetime | None:
        """The end of a pause another process (or this one) put in Redis, if it is still ahead; kept here too."""
        if (client := self._client()) is None:
            return None
        try:
            value = await client.get(self._key(key))
        except Exception as exc:  # whatever redis-py raises: this process heeds the pauses it knows of itself
            self._redis_away(exc)
            return None
        if value is None:
            return None
        until = datetime.fromtimestamp(float(value), UTC)
        if until <= self.clock():
            return None
        self._note(key, until)
        return until

    async def close(self) -> None:
        """Close the Redis connections of the pauses."""
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None


def _async_url(url: str) -> str:
    """``redis://host`` as the ``limits`` library's asyncio storage URL."""
    return url if url.startswith("async+") else f"async+{url}"


class PacedChannel:
    """A channel whose every send first waits its turn in ``throttle`` (and heeds the pauses a 429 asks for): for
    the senders outside the dispatcher (a test send, a staff member's words, a feedback question), so that every
    process draws from the one limit, shared through Redis when it is configured."""

    def __init__(self, channel: Channel, throttle: Throttle) -> None:
        self.channel, self.throttle = channel, throttle
        self.name, self.limits = channel.name, channel.limits

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Wait for the turn of ``message``'s chat, then send it; a 429 pauses what it concerns for everyone."""
        key = self.limits.pause_key(message.address)
        until = await self.throttle.held_until(key)
        if until is not None:
            await self.throttle.sleep(max((until - self.throttle.clock()).total_seconds(), 0.0))
        await self.throttle.acquire(message.address)
        try:
            return await self.channel.send(message)
        except RateLimited as exc:
            await self.throttle.pause(exc.retry_after, key if exc.scope == "target" else None)
            raise
