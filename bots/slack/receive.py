"""The Slack app as ``serve`` runs it: built from its settings (one workspace by bot token, or many by OAuth),
sending through :class:`SlackChannel`, and receiving over Socket Mode (with an app token) or HTTP routes under
``/slack`` (signatures checked)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from bots.slack.app import SlackBot, SlackConfig, build_slack, token_works_again
from bots.slack.channel import SlackChannel, shared_session
from bots.slack.settings import SlackSettings
from bots.slack.staff import SlackStaffAlerts
from bots.spec import Wiring, secret


class Receiving:
    """Events over HTTP routes or a Socket Mode connection, until :meth:`stop`."""

    def __init__(self, mode: str, socket: Any = None) -> None:
        self.mode, self._socket = mode, socket

    async def listening(self, public_url: str | None) -> None:
        """Nothing to tell Slack: the app's request URL is set in its configuration."""

    async def stop(self) -> None:
        """Close the Socket Mode connection, if any."""
        if self._socket is not None:
            await self._socket.close_async()


class SlackReceiver:
    """The configured app: its channel, its staff channel (if set), and receiving for ``serve``."""

    def __init__(self, bot: SlackBot, settings: SlackSettings) -> None:
        self.bot, self.settings = bot, settings

    @property
    def channel(self) -> SlackChannel:
        """Sends DMs in every workspace."""
        return self.bot.channel

    @property
    def staff(self) -> SlackStaffAlerts | None:
        """The staff channel, when ``CHATCAST_SLACK_STAFF_CHANNEL`` names one."""
        return self.bot.staff

    async def receive(self, app: web.Application, *, public_url: str | None, redis_url: str | None) -> Receiving:
        """Socket Mode with an app token, else the HTTP routes in ``app``."""
        app_token = secret(self.settings.slack_app_token)
        if app_token:
            handler = self.bot.socket_mode(app_token)
            await handler.connect_async()
            return Receiving("socket", handler)
        self.bot.add_routes(app)
        return Receiving("http")


@asynccontextmanager
async def open_app(settings: SlackSettings, wiring: Wiring) -> AsyncIterator[SlackReceiver | None]:
    """The app the settings configure (None without a signing secret and a bot token or OAuth client), its
    shared HTTP session closed after the block."""
    signing = secret(settings.slack_signing_secret)
    token = secret(settings.slack_bot_token)
    if not (signing and (token or settings.slack_client_id)):
        yield None
        return
    session = shared_session()
    try:
        config = SlackConfig(
            signing_secret=signing,
            bot_token=token,
            client_id=settings.slack_client_id,
            client_secret=secret(settings.slack_client_secret),
            redirect_uri=settings.slack_redirect_uri,
            api_url=settings.slack_api_url,
            command=settings.slack_command,
            shop_name=wiring.shop_name,
            staff_channel=settings.slack_staff_channel,
        )
        bot = build_slack(
            config,
            wiring.inbound,
            wiring.workspaces,
            session=session,
            updates=wiring.updates,
            replies=wiring.replies,
        )
        if token:  # a workspace parked by an uninstall is back once its (new) token works
            await token_works_again(bot.workspaces, wiring.workspaces)
        yield SlackReceiver(bot, settings)
    finally:
        await session.close()
