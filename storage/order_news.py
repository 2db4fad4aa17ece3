"""Which order status changes are news, told to the customer, and which are history.

A notice tells what just happened while Chatcast was watching. A change is news when it changes what we stored (a
new status, or a delayed order's new date) and either the shop's webhook brings it (an order first seen there is
news too) or an import finds it in an order Chatcast knew before that import began. What an import is the first to
show (the orders it first sees, and whatever later rows of the same file say about them) is history, never a
notice, so that loading a shop's past orders tells nobody anything; and a change the shop dates (its
``status_changed_at``) more than :data:`MAX_AGE` ago is history too, however it arrives. A change that goes back
(``shipped`` after ``delivered``, out of order) is neither stored nor told: the order keeps its furthest status
(:func:`kept`). ``shipped`` and ``delayed`` are one stage, either stored after the other: a shipped parcel can be
delayed (news), and a delayed one shipped again is not news, as its ``shipped`` was told already.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

NOTICE_STATUSES = ("paid", "shipped", "delayed", "delivered", "refunded")
# how far along an order is: a change that goes back is neither stored nor told; the terminal ones always win
RANK = {"placed": 0, "paid": 1, "shipped": 2, "delayed": 2, "delivered": 3, "cancelled": 4, "returned": 4,
        "refunded": 4}  # fmt: skip
MAX_AGE = timedelta(days=3)  # a notice tells what just happened: a change older than this is history


@dataclass(frozen=True)
class Notice:
    """What a notice tells of an order: its status, and the facts the shop gave (a tracking link, the carrier, the
    expected delivery), as a webhook call or an import row brings them and as a recorded notice keeps them."""

    order: str
    status: str
    tracking_url: str | None = None
    carrier: str | None = None
    expected_at: datetime | None = None


@dataclass(frozen=True)
class Stored:
    """An order as stored before a change arrives: its status and expected date, when Chatcast first saw it and
    when it reached that status (None: not known; both None for orders stored before migration 0014)."""

    status: str
    expected_at: datetime | None = None
    seen_at: datetime | None = None
    changed_at: datetime | None = None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC) if isinstance(value, datetime) else None


def key(status: str, expected_at: datetime | None) -> str:
    """The change's unique key within its order: the status; a delay's names its new date to the minute."""
    if status == "delayed" and expected_at is not None:
        return f"delayed:{expected_at.astimezone(UTC):%Y-%m-%dT%H:%M}"
    return status


def is_news(change: Notice, changed_at: datetime | None, prior: Stored | None, live: bool, arrived: datetime) -> bool:
    """Whether ``change`` is one to tell the customer, given when the shop says it happened (``changed_at``; None:
    it does not say), the order as stored before it (None: unknown), whether the webhook brought it (``live``; else
    an import) and when Chatcast learned of it (an import: when it began)."""
    if change.status not in NOTICE_STATUSES:
        return False
    if changed_at is not None and changed_at < arrived - MAX_AGE:
        return False  # the shop says it happened long ago
    if prior is None:
        return live
    if not live and first_seen_by(prior, arrived):
        return False  # this import saw the order first: all the file says of it is history
    if RANK.get(prior.status, 0) > RANK[change.status]:
        return False
    return moved(prior, change.status, change.expected_at)


def first_seen_by(prior: Stored, started: datetime) -> bool:
    """Whether the import that began at ``started`` stored the order first (it stamps them all with that moment)."""
    return prior.seen_at == started


def moved(prior: Stored, status: str, expected_at: datetime | None) -> bool:
    """Whether ``status`` (and a delay's ``expected_at``) differs from what is stored."""
    return prior.status != status or key(prior.status, prior.expected_at) != key(status, expected_at)


def kept(stored: str | None, incoming: str) -> str:
    """The status to store when ``incoming`` arrives for an order stored with ``stored`` (None: a new order): the
    incoming one unless it would move the order back (a late ``shipped`` after ``delivered``)."""
    if stored is not None and RANK.get(stored, 0) > RANK.get(incoming, 0):
        return stored
    return incoming


async def priors(conn: BaseDBAsyncClient, orders: Iterable[str]) -> dict[str, Stored]:
    """How those of ``orders`` that exist are stored."""
    wanted = list(dict.fromkeys(orders))
    if not wanted:
        return {}
    columns = 'SELECT external_id, status, expected_at, seen_at, status_changed_at FROM "order"'
    if str(conn.capabilities.dialect) == "postgres":
        _, rows = await conn.execute_query(f"{columns} WHERE external_id = ANY($1::text[])", [wanted])
    else:
        marks = ", ".join("?" for _ in wanted)
        _, rows = await conn.execute_query(f"{columns} WHERE external_id IN ({marks})", wanted)
    return {str(r[0]): Stored(str(r[1]), _moment(r[2]), _moment(r[3]), _moment(r[4])) for r in rows}
