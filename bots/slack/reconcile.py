"""Finding Chatcast's own messages in Slack again: every message the engine sends carries its delivery's id as
message metadata (``event_type`` ``chatcast_delivery``, ``event_payload`` ``{"delivery": "<id>"}``), so a send whose
outcome was uncertain (a timeout, a dropped connection, a crash mid-request) can be looked up in the DM's history.

Reading a DM's history takes ``im:history`` (``channels:history``/``groups:history`` for a channel), scopes the
app asks for at install; ``include_all_metadata`` makes Slack return the metadata. conversations.history is a
Tier 3 method (about 50 calls a minute per workspace; commercially distributed apps created since May 29, 2025
and not in the Marketplace get far less, with smaller pages, and page through them by cursor just the same): a
pass makes at most ``calls`` calls per workspace, stops at a workspace's first 429, and leaves what it could not
read to the next pass.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.errors import TOKEN_REFUSED, error_code
from campaigns.ports import DELIVERY_EVENT, SendReceipt, Uncertain

log = logging.getLogger(__name__)

LOOKBACK = timedelta(minutes=5)  # history is read from this long before a row's claim (clocks differ a little)
PAGE = 200  # messages per conversations.history page (Slack's advice for paged methods)
CALLS = 20  # Web API calls a pass makes per workspace at most (conversations.open and .history together)


def delivery_metadata(idempotency_key: str | None) -> dict[str, Any] | None:
    """The metadata a message of delivery ``delivery:<id>`` carries; None for a message of no delivery."""
    kind, _, ident = (idempotency_key or "").partition(":")
    if kind != "delivery" or not ident.isdigit():
        return None
    return {"event_type": DELIVERY_EVENT, "event_payload": {"delivery": ident}}


def delivery_of(message: dict[str, Any]) -> int | None:
    """The delivery a message of the app's own names in its metadata, if it is one (a person's words never count)."""
    metadata = message.get("metadata")
    if not message.get("bot_id") or not isinstance(metadata, dict) or metadata.get("event_type") != DELIVERY_EVENT:
        return None
    payload = metadata.get("event_payload")
    ident = str(payload.get("delivery", "")) if isinstance(payload, dict) else ""
    return int(ident) if ident.isdigit() else None


def posted_at(ts: str) -> datetime:
    """The moment of a Slack ``ts`` (``1712345678.000100``), to the microsecond."""
    seconds, _, micros = ts.partition(".")
    return datetime.fromtimestamp(int(seconds), UTC) + timedelta(microseconds=int((micros + "000000")[:6]))


class Budget:
    """The calls a pass may still make to one workspace; ``stopped`` once Slack said to stop (429, no scope)."""

    def __init__(self, calls: int) -> None:
        self.left, self.stopped = calls, False

    def take(self) -> bool:
        """Whether one more call may be made (counted)."""
        if self.stopped or self.left <= 0:
            return False
        self.left -= 1
        return True


@dataclass(frozen=True)
class Chat:
    """The uncertain rows of one chat address: where its conversation is, what to look for, from when."""

    team: str
    target: str  # a user (their DM is opened) or a conversation id
    rows: tuple[Uncertain, ...]


OpenChat = Callable[[AsyncWebClient, str, str], Awaitable[str]]


async def find(
    chats: Sequence[Chat],
    clients: Callable[[str], Awaitable[AsyncWebClient]],
    open_chat: OpenChat,
    *,
    calls: int = CALLS,
    rng: random.Random | None = None,
) -> dict[int, SendReceipt | None]:
    """Look every chat's rows up in its history (see :meth:`campaigns.ports.Reconciler.find`): chats in a random
    order, so that chats whose history cannot be read never hold the budget of the others pass after pass."""
    order = list(chats)
    (rng or random.Random()).shuffle(order)
    budgets: dict[str, Budget] = {}
    found: dict[int, SendReceipt | None] = {}
    for chat in order:
        budget = budgets.setdefault(chat.team, Budget(calls))
        if budget.stopped or budget.left <= 0:
            continue
        try:
            client = await clients(chat.team)
        except Exception as exc:  # not installed, uninstalled, the store failed: this workspace waits for a later pass
            log.info("Slack reconciliation: no client for workspace %s (%s)", chat.team, exc)
            budget.stopped = True
            continue
        found |= await _look(chat, client, open_chat, budget)
    return found


async def _look(
    chat: Chat, client: AsyncWebClient, open_chat: OpenChat, budget: Budget
) -> dict[int, SendReceipt | None]:
    """One chat's rows: a receipt for those found; None for the rest when the whole window was read."""
    address = f"{chat.team}:{chat.target}"
    try:
        if not budget.take():
            return {}
        channel = await open_chat(client, address, chat.target)
        oldest = min(row.claimed_at for row in chat.rows) - LOOKBACK
        seen, complete = await _history(client, channel, oldest, {row.id for row in chat.rows}, budget)
    except Exception as exc:
        _stop_if_told(exc, chat.team, budget)
        log.info("Slack reconciliation: the history of %s cannot be read now (%s)", address, _said(exc))
        return {}
    out: dict[int, SendReceipt | None] = {}
    for row in chat.rows:
        ts = seen.get(row.id)
        if ts is not None:
            out[row.id] = SendReceipt(message_ids=(f"{channel}:{ts}",), sent_at=posted_at(ts), address=row.address)
        elif complete:
            out[row.id] = None
    return out


async def _history(
    client: AsyncWebClient, channel: str, oldest: datetime, wanted: set[int], budget: Budget
) -> tuple[dict[int, str], bool]:
    """The ts of each wanted delivery's message in ``channel`` since ``oldest``, and whether every page was read."""
    seen: dict[int, str] = {}
    cursor: str | None = None
    while True:
        page = await client.conversations_history(
            channel=channel, oldest=f"{oldest.timestamp():.6f}", limit=PAGE, include_all_metadata=True, cursor=cursor
        )
        for message in page.get("messages") or []:
            ident = delivery_of(message) if isinstance(message, dict) else None
            if ident is not None and ident in wanted and ident not in seen and message.get("ts"):
                seen[ident] = str(message["ts"])
        if wanted <= seen.keys() or not page.get("has_more"):
            return seen, True
        cursor = str((page.get("response_metadata") or {}).get("next_cursor") or "") or None
        if cursor is None or not budget.take():  # more pages, and no way to them now: not a complete read
            return seen, False


def _said(exc: BaseException) -> str:
    return error_code(exc) or f"{type(exc).__name__}: {exc}".rstrip(": ")


def _stop_if_told(exc: BaseException, team: str, budget: Budget) -> None:
    """A 429, a refused token or a missing scope concerns every chat of the workspace: no more calls this pass."""
    if not isinstance(exc, SlackApiError):
        return
    status = int(getattr(exc.response, "status_code", 0) or 0)
    code = error_code(exc)
    if status == 429 or code in ("ratelimited", "rate_limited") or code in TOKEN_REFUSED:
        budget.stopped = True
    if code == "missing_scope":
        log.warning(
            "Slack workspace %s: reading DMs' history needs the im:history scope (reinstall the app with it): "
            "its unknown deliveries stay unknown",
            team,
        )
