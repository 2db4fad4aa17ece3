"""The engine's clock: where the scheduler's jobs and the dispatcher take the time from.

In production it is the wall clock. A rehearsal (``chatcast campaign rehearse``) passes a
:class:`SimulatedClock` down the same code paths instead, so days pass in seconds without patching time in the
whole process: the event loop, HTTP timeouts and Slack's request signatures keep the real time they need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def wall_clock() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


class SimulatedClock:
    """A clock that stands still until moved, and only ever forward; a wait on it passes at once, in its time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock starts at an aware moment")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        """The simulated moment."""
        return self.now

    def to(self, moment: datetime) -> None:
        """Move to ``moment``; a moment already past leaves the clock where it is."""
        self.now = max(self.now, moment.astimezone(UTC))

    def advance(self, delta: timedelta) -> None:
        """Move ``delta`` ahead."""
        self.now += max(delta, timedelta())

    async def sleep(self, seconds: float) -> None:
        """What a dispatcher's wait (a retry, a 429's pause) costs here: the clock moves, nobody waits."""
        self.advance(timedelta(seconds=max(seconds, 0.0)))
        await asyncio.sleep(0)
