"""Button presses: campaign buttons become click events; Subscribe and Unsubscribe act at once."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.blocks import ACTION_ID, parse_value
from bots.slack.handlers.common import chat_event, publish_home, team_of
from campaigns.ports import InboundEvent, InboundHandler, Replies

_CONSENT = frozenset({"start", "stop"})


def _event(team_id: str, user_id: str, value: str, url: str | None = None) -> InboundEvent | None:
    button = parse_value(value)
    if button is None:
        return None
    if not button.campaign_id and button.action in _CONSENT:
        return chat_event(team_id, user_id, "start" if button.action == "start" else "stop")
    payload = {"campaign_id": button.campaign_id, "step": button.step, "action": button.action}
    if url:  # a link button: Slack reports its press, with the address it opened
        payload["url"] = url
    return chat_event(team_id, user_id, "click", payload=payload)


def register(app: AsyncApp, inbound: InboundHandler, replies: Replies, shop_name: str) -> None:
    """Listen for presses of our buttons (action ids ``cc:...``); confirmations go through ``replies``."""

    async def pressed(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        await ack()
        team_id, user_id = team_of(body, context), str((body.get("user") or {}).get("id") or "")
        url = action.get("url")
        link = url if isinstance(url, str) else None
        inbound_event = _event(team_id, user_id, str(action.get("value") or ""), link) if user_id else None
        if inbound_event is None:
            return
        reply = await inbound.handle(inbound_event)
        changed = inbound_event.kind in _CONSENT or inbound_event.payload.get("action") == "stop"
        if changed:
            await replies.send(inbound_event, reply)  # the confirmation goes to the user's DM with the app
            await publish_home(client, inbound, team_id, user_id, shop_name)

    app.action(ACTION_ID)(pressed)
