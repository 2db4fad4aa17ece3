"""Direct messages to the app: free text for the assistant; a bare STOP or START acts on consent. Replies of the
shop's people in a hand-off thread of the staff channel go to the engine as ``staff`` events."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.channel import address
from bots.slack.handlers.common import CHANNEL, chat_event, team_of
from bots.slack.staff import SlackStaffAlerts
from bots.spec import CURRENT_UPDATE
from campaigns.ports import InboundEvent, InboundHandler, InboundKind, Replies

KEYWORDS: dict[str, InboundKind] = {"stop": "stop", "unsubscribe": "stop", "start": "start", "subscribe": "start"}


def unescape(text: str) -> str:
    """A message's text as plain text (Slack escapes &, < and > in what it sends)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def register(app: AsyncApp, inbound: InboundHandler, replies: Replies, staff: SlackStaffAlerts | None = None) -> None:
    """Listen for messages in the app's DMs and in the staff channel's threads; edits, bot posts and other channel
    chatter are ignored. Answers go through ``replies`` (paced, queued when a chat must wait)."""

    async def direct(
        event: dict[str, Any], body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("bot_id"):
            return
        if event.get("channel_type") != "im":
            if event.get("subtype") in (None, "thread_broadcast", "file_share"):
                await _staff_reply(event, team_of(body, context))
            return
        if event.get("subtype"):
            return
        user_id, text = str(event.get("user") or ""), str(event.get("text") or "")
        if not user_id or not text.strip():
            return
        team_id = team_of(body, context)
        kind = KEYWORDS.get(text.strip().lower().rstrip(".!"))
        said = chat_event(team_id, user_id, kind or "text", text="" if kind else text)
        await replies.send(said, await inbound.handle(said))

    async def _staff_reply(event: dict[str, Any], team_id: str) -> None:
        channel, thread = str(event.get("channel") or ""), str(event.get("thread_ts") or "")
        text, user = str(event.get("text") or ""), str(event.get("user") or "")
        if staff is None or not thread or not text.strip() or not staff.is_staff_channel(team_id, channel):
            return
        reference = f"{staff.team_id}:{channel}:{thread}"
        await inbound.handle(
            InboundEvent(
                channel=CHANNEL, address=address(team_id, user), kind="staff", text=unescape(text),
                payload={"thread": reference, "user": user}, update=CURRENT_UPDATE.get(),
            )
        )  # fmt: skip

    app.event("message")(direct)
