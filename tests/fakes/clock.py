"""The clocks tests control: ``Clock``, handed to the code under test in place of the time, and ``WallClock``,
the process's own wall clock travelled by time-machine (for journeys through the CLI and ``serve``)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Generic, TypeVar

import time_machine

Now = TypeVar("Now", datetime, float)


class Clock(Generic[Now]):
    """Time that moves only when the test moves it (``clock.now = ...``) or the code under test sleeps on it.

    Hand the clock itself where the code reads the time (it is callable) and ``clock.sleep`` where it waits: the
    wait passes at once and moves the clock on (a millisecond at least, so a loop that waits for nothing still
    advances); ``slept`` keeps what was asked. ``now`` is a datetime for a wall clock, or seconds for a monotonic
    one (the sandboxes' rate limits).
    """

    def __init__(self, now: Now) -> None:
        self.now: Now = now
        self.slept: list[float] = []

    def __call__(self) -> Now:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move ``seconds`` ahead."""
        if isinstance(self.now, datetime):
            self.now = self.now + timedelta(seconds=seconds)
        else:
            self.now = self.now + seconds

    async def sleep(self, seconds: float) -> None:
        """Sleep without waiting: let other tasks in, then move on by ``seconds``."""
        self.slept.append(seconds)
        await asyncio.sleep(0)
        self.advance(max(seconds, 0.001))


class WallClock:
    """The wall clock every part of the process reads (``datetime.now``, ``time.time``), moved by time-machine;
    the event loops' clocks (``time.monotonic``) are left alone, so timeouts and pacing still work."""

    def __init__(self, traveller: time_machine.Traveller) -> None:
        self._traveller = traveller

    def to(self, moment: datetime) -> None:
        """Jump to ``moment`` (aware, in UTC: a zone would change the process's TZ); it ticks on from there."""
        self._traveller.move_to(moment)

    def shift(self, delta: timedelta) -> None:
        """Jump ``delta`` ahead."""
        self._traveller.shift(delta)
