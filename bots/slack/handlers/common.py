"""What every listener needs: a Slack user as an ``InboundEvent``, and the engine's reply sent back.

A reply is plain text (the assistant's words and the product names it quotes, a confirmation), as it is on every
channel: Slack is given it with its formatting markers quoted (:func:`bots.slack.mrkdwn.plain`), so it shows as
it reads on Telegram; only a campaign's template formats."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack import NAME
from bots.slack.blocks import home_view
from bots.slack.channel import address
from bots.slack.mrkdwn import plain
from bots.spec import CURRENT_UPDATE
from campaigns.ports import InboundEvent, InboundHandler, InboundKind

CHANNEL = NAME


def chat_event(
    team_id: str, user_id: str, kind: InboundKind, *, text: str = "", payload: dict[str, str] | None = None
) -> InboundEvent:
    """The engine's view of something a Slack user did; their identity is the workspace and the user."""
    return InboundEvent(
        channel=CHANNEL,
        address=address(team_id, user_id),
        kind=kind,
        text=text,
        payload=payload or {},
        at=datetime.now(UTC),
        update=CURRENT_UPDATE.get(),
    )


def team_of(body: Mapping[str, Any], context: Mapping[str, Any]) -> str:
    """The workspace a request came from (bolt's context knows it; the body is the fallback)."""
    team = context.get("team_id") or body.get("team_id") or (body.get("team") or {}).get("id")
    if not team:
        team = (body.get("user") or {}).get("team_id") or ""
    return str(team)


async def publish_home(
    client: AsyncWebClient, inbound: InboundHandler, team_id: str, user_id: str, shop_name: str
) -> None:
    """Show the user's App Home: their subscription state and the button that changes it."""
    reply = await inbound.handle(chat_event(team_id, user_id, "home"))
    subscribed = bool(reply and any(b.action == "stop" for b in reply.buttons))
    text = plain(reply.text) if reply else ""
    await client.views_publish(user_id=user_id, view=home_view(subscribed, shop_name, text))
