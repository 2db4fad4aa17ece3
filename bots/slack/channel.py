"""``SlackChannel``: the engine's ``Channel`` on slack_sdk, sending Block Kit DMs to users in many workspaces."""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import NAME
from bots.slack.blocks import message_blocks
from bots.slack.errors import channel_error, error_code
from bots.slack.limits import LIMITS, WORKSPACE_RATE
from bots.slack.reconcile import CALLS, Chat, delivery_metadata
from bots.slack.reconcile import find as find_deliveries
from campaigns.ports import (
    Button,
    ChannelError,
    ChannelUninstalled,
    OutboundMessage,
    PermanentChannelError,
    SendReceipt,
    TransientChannelError,
    Uncertain,
)

ADDRESS = re.compile(r"([A-Z0-9]+):([A-Z0-9]+)")
CONVERSATIONS = ("C", "G", "D")  # channel ids are posted to as they are; user ids (U, W) get a DM opened
DM_CACHE_MAX = 100_000

Clients = Callable[[str], Awaitable[AsyncWebClient]]


def address(team_id: str, user_id: str) -> str:
    """The engine's address of a Slack user (or channel) in a workspace: ``T123:U456``."""
    return f"{team_id}:{user_id}"


def parse_address(value: str) -> tuple[str, str]:
    """The workspace and the user (or channel) id of an address; ``PermanentChannelError`` for a malformed one."""
    match = ADDRESS.fullmatch(value)
    if match is None:
        raise PermanentChannelError(f"Slack: {value!r} is not a 'TEAM:USER' address")
    return match[1], match[2]


def shared_session(timeout: float = 30, connections: int = 100) -> aiohttp.ClientSession:
    """One aiohttp session for the clients of every workspace (call it in the running loop; close it at the end).

    Without one, slack_sdk opens a session, and so a connection, per call; with one, the session's ``timeout``
    applies rather than the client's.
    """
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=timeout), connector=aiohttp.TCPConnector(limit=connections)
    )


def build_client(
    token: str | None,
    *,
    base_url: str | None = None,
    timeout: float = 30,
    session: aiohttp.ClientSession | None = None,
) -> AsyncWebClient:
    """A client that never retries by itself (the engine does); pass a :func:`shared_session` for speed."""
    return AsyncWebClient(
        token=token,
        base_url=base_url or AsyncWebClient.BASE_URL,
        timeout=max(1, math.ceil(timeout)),
        session=session,
        retry_handlers=[],  # slack_sdk would otherwise retry connection errors on its own
    )


async def post(
    client: AsyncWebClient,
    channel: str,
    blocks: list[dict[str, object]],
    text: str,
    thread_ts: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> str:
    """Post one message to a conversation id (in a thread, given its ``thread_ts``; with ``metadata``, the delivery
    it is: :func:`bots.slack.reconcile.delivery_metadata`); its id, ``channel:ts``. SDK failures pass through
    unmapped."""
    response = await client.chat_postMessage(
        channel=channel,
        text=text,
        blocks=blocks,
        unfurl_links=False,
        unfurl_media=False,
        thread_ts=thread_ts,
        metadata=metadata,
    )
    return f"{response.get('channel') or channel}:{response.get('ts')}"


async def post_to_channel(
    client: AsyncWebClient,
    channel_id: str,
    text: str,
    buttons: tuple[Button, ...] = (),
    *,
    thread_ts: str | None = None,
) -> str:
    """Post a staff alert to a channel or one of its threads (text escaped like any message); its id, ``channel:ts``."""
    blocks, fallback = message_blocks(text, tuple(buttons))
    try:
        return await post(client, channel_id, blocks, fallback, thread_ts)
    except Exception as exc:
        raise channel_error(exc) from exc


class SlackChannel:
    """Sends ``OutboundMessage``s as DMs through each workspace's client, each carrying its delivery's id as metadata;
    maps every failure to a ``ChannelError``; finds its messages again for reconciliation (``find``)."""

    name = NAME

    def __init__(
        self,
        clients: Clients,
        *,
        messages_per_second: float = WORKSPACE_RATE,
        dm_cache_max: int = DM_CACHE_MAX,
        forget: Callable[[str], None] | None = None,
        reconcile_calls: int = CALLS,
    ) -> None:
        self.clients, self._forget = clients, forget  # forget: drop a workspace's kept client (read it afresh)
        self.limits = replace(LIMITS, messages_per_second=messages_per_second)
        self._dms: OrderedDict[str, str] = OrderedDict()  # address -> DM channel id, least recently used first
        self._dm_cache_max = dm_cache_max
        self.reconcile_calls = reconcile_calls  # Web API calls a reconciliation pass makes per workspace at most

    async def send(self, message: OutboundMessage) -> SendReceipt:
        """Send ``message`` as one Block Kit message (long text in several sections, buttons below)."""
        team_id, target = parse_address(message.address)
        blocks, fallback = message_blocks(
            message.text, message.buttons, message.image_url, message.campaign_id, message.step, message.image_alt
        )
        try:
            client = await self.clients(team_id)
        except LookupError:
            raise PermanentChannelError(f"Slack: workspace {team_id} has not installed the app") from None
        except Exception as exc:  # uninstalled (already a ChannelError), or the installation store failed, not Slack
            raise channel_error(exc) from exc
        cached = self._dms.get(message.address)
        try:
            channel = cached or await self._open(client, message.address, target)
            metadata = delivery_metadata(message.idempotency_key)
            message_id = await post(client, channel, blocks, fallback, metadata=metadata)
        except ChannelError:
            raise
        except Exception as exc:
            if cached and error_code(exc) == "channel_not_found":
                # our remembered DM is gone, not necessarily the user: the next attempt opens the DM afresh
                self._dms.pop(message.address, None)
                raise TransientChannelError("Slack: the cached DM was not found; it will be reopened") from exc
            raise await self._refused(team_id, client, channel_error(exc, team_id)) from exc
        if cached:
            self._dms.move_to_end(message.address)
        return SendReceipt(message_ids=(message_id,), sent_at=datetime.now(UTC), address=message.address)

    async def find(self, rows: Sequence[Uncertain]) -> dict[int, SendReceipt | None]:
        """Look the rows' messages up by their metadata in their DMs' history (:class:`campaigns.ports.Reconciler`;
        :mod:`bots.slack.reconcile` says how, and within which limits)."""
        chats: dict[str, list[Uncertain]] = {}
        for row in rows:
            chats.setdefault(row.address, []).append(row)
        found: list[Chat] = []
        for address, group in chats.items():
            try:
                team_id, target = parse_address(address)
            except ChannelError:
                continue  # no Slack chat: nothing to look in
            found.append(Chat(team_id, target, tuple(group)))
        return await find_deliveries(found, self.clients, self._conversation, calls=self.reconcile_calls)

    async def _conversation(self, client: AsyncWebClient, key: str, target: str) -> str:
        """The conversation of an address: the DM remembered, else opened."""
        return self._dms.get(key) or await self._open(client, key, target)

    async def _refused(self, team_id: str, client: AsyncWebClient, error: ChannelError) -> ChannelError:
        """``error``, unless it is a refused token and the workspace has a new one meanwhile (reinstalled while we
        kept its old client): then a retry with the new one."""
        if not isinstance(error, ChannelUninstalled) or self._forget is None:
            return error
        self._forget(team_id)
        try:
            fresh = await self.clients(team_id)
        except Exception:  # not installed, inactive, or the store failed: the refusal stands
            return error
        if fresh.token and fresh.token != client.token:
            return TransientChannelError("Slack: the workspace was reinstalled with a new token; trying again")
        return error

    async def _open(self, client: AsyncWebClient, key: str, target: str) -> str:
        """The conversation to post to: a channel id as it is, or the DM with a user (opened once, then cached)."""
        if target.startswith(CONVERSATIONS):
            return target
        response = await client.conversations_open(users=target)
        channel = response.get("channel") or {}
        channel_id = str(channel.get("id", "")) if isinstance(channel, dict) else ""
        if not channel_id:
            raise PermanentChannelError(f"Slack: conversations.open gave no channel for {target}")
        self._dms[key] = channel_id
        if len(self._dms) > self._dm_cache_max:
            self._dms.popitem(last=False)
        return channel_id
