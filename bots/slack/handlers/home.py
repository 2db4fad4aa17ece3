"""App Home: opening the app's Home tab shows the user's subscription state and a button to change it."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.handlers.common import publish_home, team_of
from campaigns.ports import InboundHandler


def register(app: AsyncApp, inbound: InboundHandler, shop_name: str) -> None:
    """Listen for ``app_home_opened`` (events are acknowledged by bolt before the listener runs)."""

    async def opened(
        event: dict[str, Any], body: dict[str, Any], context: dict[str, Any], client: AsyncWebClient
    ) -> None:
        if event.get("tab", "home") != "home" or not event.get("user"):
            return  # the Messages tab: nothing to draw
        await publish_home(client, inbound, team_of(body, context), str(event["user"]), shop_name)

    app.event("app_home_opened")(opened)
