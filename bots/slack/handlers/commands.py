"""``/shop``: subscribe (optionally with a link token from the shop's website), unsubscribe, language, help."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bots.slack.blocks import escape
from bots.slack.handlers.common import chat_event
from bots.slack.mrkdwn import plain
from campaigns.ports import InboundEvent, InboundHandler

SUBSCRIBE = frozenset({"subscribe", "start", "join"})
UNSUBSCRIBE = frozenset({"unsubscribe", "stop", "leave"})


def help_text(command: str) -> str:
    """What the command does, as shown to the user."""
    return (
        "I'm the shop's assistant: write to me in this app's Messages tab about products, your orders, shipping "
        "and returns.\n"
        f"`{command} subscribe` - get news and offers here (add the code from our website to link your account)\n"
        f"`{command} unsubscribe` - stop news and offers\n"
        f"`{command} language de` - choose your language\n"
        f"`{command} help` - this help"
    )


def _event(team_id: str, user_id: str, text: str) -> InboundEvent | None:
    word, _, rest = text.strip().partition(" ")
    word, rest = word.lower(), rest.strip()
    if word in SUBSCRIBE:
        return chat_event(team_id, user_id, "start", payload={"token": rest} if rest else {})
    if word in UNSUBSCRIBE:
        return chat_event(team_id, user_id, "stop")
    if word == "language" and rest:
        return chat_event(team_id, user_id, "language", payload={"language": rest})
    return None


def register(app: AsyncApp, inbound: InboundHandler, command: str) -> None:
    """Listen for the slash command; the answer is ephemeral, sent after the ack through ``respond``."""

    async def shop(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        team_id, user_id = str(body.get("team_id") or ""), str(body.get("user_id") or "")
        inbound_event = _event(team_id, user_id, str(body.get("text") or "")) if team_id and user_id else None
        if inbound_event is None:
            await ack(text=help_text(command))  # static text: answering in the ack costs nothing
            return
        await ack()
        reply = await inbound.handle(inbound_event)
        if reply is not None and reply.text:
            # plain text, as every reply: no link, mention or formatting of its own (a language code is the user's)
            await respond(text=escape(plain(reply.text)), response_type="ephemeral", replace_original=False)

    app.command(command)(shop)
