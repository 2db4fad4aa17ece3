"""Misfortunes on purpose: queued failures, random faults, and Slack's per-channel message rate limit."""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bots.slack.sandbox.workspace import SlackError

# 5xx: Slack's edge fails the call; timeout: a slow server, the call carried out late; disconnect: the connection
# drops before the call is carried out; lost: the call is carried out, then the connection drops before the answer
Fault = Literal["5xx", "timeout", "disconnect", "lost"]
FAULTS: tuple[Fault, ...] = ("5xx", "timeout", "disconnect", "lost")
# Calls that set up a connection rather than do the app's work: random faults spare them.
PLUMBING = frozenset({"auth.test", "apps.connections.open", "oauth.v2.access"})


@dataclass
class Failure:
    """A failure queued by ``fail_next``: for one method (or any), so many times."""

    method: str | None
    error: SlackError
    times: int


def failure(error: str | None, status: int, retry_after: int | None) -> SlackError:
    """The error a queued failure answers with: a 429 with Retry-After, a 5xx, or an ``ok: false``."""
    if status == 429:
        return SlackError(error or "ratelimited", 429, retry_after=retry_after if retry_after is not None else 1)
    if status >= 500:
        return SlackError(error or "internal_error", status)
    if status != 200 or not error:
        raise ValueError("fail_next needs an error with status 200, or status 429 or 5xx")
    return SlackError(error, 200, retry_after=retry_after)


class Misfortune:
    """The failures queued for the next calls and the random faults at ``fault_rate``."""

    def __init__(self, fault_rate: float, fault: Fault, seed: int) -> None:
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}")
        self.fault_rate, self.fault = fault_rate, fault
        self.queued: list[Failure] = []
        self.queued_faults: list[tuple[str | None, Fault, int]] = []  # (method or any, fault, times left)
        self._random = random.Random(seed)

    def queue(self, method: str | None, error: SlackError, times: int) -> None:
        """Answer the next ``times`` calls of ``method`` (None: of any method) with ``error``."""
        if times < 1:
            raise ValueError("times must be at least 1")
        self.queued.append(Failure(method, error, times))

    def next_failure(self, method: str) -> SlackError | None:
        """The queued failure this call meets, if any (used up one time)."""
        for i, queued in enumerate(self.queued):
            if queued.method in (None, method):
                queued.times -= 1
                if queued.times == 0:
                    del self.queued[i]
                return queued.error
        return None

    def queue_fault(self, method: str | None, fault: Fault, times: int) -> None:
        """The next ``times`` calls of ``method`` (None: of any method) meet ``fault``."""
        if fault not in FAULTS:
            raise ValueError(f"fault must be one of {', '.join(FAULTS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        self.queued_faults.append((method, fault, times))

    def next_fault(self, method: str) -> Fault | None:
        """The fault this call meets, if any: a queued one (used up one time), else a random one."""
        for i, (which, fault, times) in enumerate(self.queued_faults):
            if which in (None, method):
                if times == 1:
                    del self.queued_faults[i]
                else:
                    self.queued_faults[i] = (which, fault, times - 1)
                return fault
        if self.fault_rate <= 0 or method in PLUMBING or self._random.random() >= self.fault_rate:
            return None
        return self.fault

    def server_error(self) -> SlackError:
        """A random 5xx, as Slack's edge answers when it is in trouble."""
        status = self._random.choice((500, 503))
        return SlackError("internal_error" if status == 500 else "service_unavailable", status)


class ChannelLimiter:
    """Slack's "about one message per second per channel" for chat.postMessage, a short burst allowed."""

    def __init__(self, per_second: float, clock: Callable[[], float], burst: float = 1.0) -> None:
        self.per_second, self.clock, self.burst = per_second, clock, burst
        self._buckets: dict[str, tuple[float, float]] = {}  # channel -> (tokens, at)

    def acquire(self, channel: str) -> int:
        """Take one message for the channel: 0 when allowed, else the whole seconds to wait (at least 1)."""
        now = self.clock()
        tokens, at = self._buckets.get(channel, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.per_second)
        if tokens < 1 - 1e-9:
            return max(1, math.ceil((1 - tokens) / self.per_second))
        self._buckets[channel] = (tokens - 1, now)
        return 0
