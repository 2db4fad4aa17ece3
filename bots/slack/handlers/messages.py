"""Direct messages to the app: free text for the assistant; a bare STOP or START acts on consent."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.handlers.common import chat_event, say_reply, team_of
from campaigns.ports import InboundHandler

KEYWORDS = {"stop": "stop", "unsubscribe": "stop", "start": "start", "subscribe": "start"}


def register(app: AsyncApp, inbound: InboundHandler) -> None:
    """Listen for messages in the app's DMs; edits, bot posts and channel chatter are ignored."""

    async def direct(
        event: dict[str, Any], body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        user_id, text = str(event.get("user") or ""), str(event.get("text") or "")
        if not user_id or not text.strip():
            return
        team_id = team_of(body, context)
        kind = KEYWORDS.get(text.strip().lower().rstrip(".!"))
        if kind == "start":
            reply = await inbound.handle(chat_event(team_id, user_id, "start"))
        elif kind == "stop":
            reply = await inbound.handle(chat_event(team_id, user_id, "stop"))
        else:
            reply = await inbound.handle(chat_event(team_id, user_id, "text", text=text))
        await say_reply(client, str(event.get("channel") or user_id), reply)

    app.event("message")(direct)
