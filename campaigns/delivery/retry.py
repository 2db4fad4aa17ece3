"""What the dispatcher does about a failed send: the error tree mapped to a verdict, and the backoff with jitter."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from campaigns.ports import (
    AddressMigrated,
    ChannelError,
    ChannelUninstalled,
    DeliveryUncertain,
    PermanentChannelError,
    RateLimited,
    RecipientUnreachable,
    TransientChannelError,
)

Action = Literal["rate_limited", "retry", "fail", "unreachable", "gone", "migrated", "uninstalled", "unknown"]


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with equal jitter: attempt n waits between half and all of ``base * 2**(n-1)``."""

    base: float = 2.0
    maximum: float = 300.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait before the attempt after ``attempt`` (1 = the first failed one)."""
        ceiling = min(self.maximum, self.base * 2 ** max(attempt - 1, 0))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)


@dataclass(frozen=True)
class Verdict:
    """What to do with a row whose send raised ``error``, and after how many seconds to try again."""

    action: Action
    error: str
    delay: float = 0.0
    new_address: str | None = None
    left: str | None = None  # gone: how the person left (blocked, deactivated)


def verdict(error: BaseException, attempts: int, max_attempts: int, backoff: Backoff, rng: random.Random) -> Verdict:
    """The engine's retry rule for one failed send (``attempts``: this one included)."""
    text = str(error) or type(error).__name__
    match error:
        case RateLimited():
            return Verdict("rate_limited", text, max(error.retry_after, 0.0))
        case ChannelUninstalled():  # the workspace's doing: park the row, no failure, nobody's consent changes
            return Verdict("uninstalled", text)
        case AddressMigrated():
            return Verdict("migrated", text, new_address=error.new_address)
        case RecipientUnreachable() if error.left:
            return Verdict("gone", text, left=error.left)
        case RecipientUnreachable():
            return Verdict("unreachable", text)
        case DeliveryUncertain():  # at most once: it may have gone out; a retry could send it twice
            return Verdict("unknown", f"may have been delivered: {text}")
        case TransientChannelError() if attempts < max_attempts:
            return Verdict("retry", text, backoff.delay(attempts, rng))
        case TransientChannelError():
            return Verdict("fail", f"gave up after {attempts} attempts: {text}")
        case PermanentChannelError() | ChannelError():
            return Verdict("fail", text)
    # not the channel's error tree: a bug in an adapter, and the message may have gone out
    return Verdict("unknown", f"{type(error).__name__}: {text}")
