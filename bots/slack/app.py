"""Building the Slack app: bolt's ``AsyncApp`` with our listeners, its workspaces, HTTP routes and Socket Mode.

One deployment serves one workspace (a bot token) or many (OAuth installations kept in our database). The
Events API shares the ``serve`` process's aiohttp server; bolt checks every request's signature (401 for a
missing, wrong or stale one, before any listener runs). Listeners acknowledge first and work after.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt import BoltResponse
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from bots.inbound.replies import DirectReplies
from bots.slack import NAME
from bots.slack.channel import SlackChannel, build_client
from bots.slack.errors import uninstalled
from bots.slack.handlers import actions, commands, home, ignored, installs, messages
from bots.slack.installations import DatabaseInstallationStore, workspace_key
from bots.slack.mrkdwn import plain
from bots.slack.oauth import SignedStateStore
from bots.slack.staff import SlackStaffAlerts
from bots.spec import CURRENT_UPDATE
from campaigns.ports import InboundHandler, Redeliveries, Replies, WorkspaceStore

log = logging.getLogger(__name__)
SCOPES = ("chat:write", "im:write", "im:history", "channels:history", "groups:history", "commands", "users:read")


@dataclass(frozen=True)
class SlackConfig:
    """What the app needs to know; secrets arrive here from settings and go nowhere else."""

    signing_secret: str
    bot_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    scopes: tuple[str, ...] = SCOPES
    redirect_uri: str | None = None
    api_url: str | None = None
    shop_name: str = "our shop"
    command: str = "/shop"
    staff_channel: str | None = None
    timeout: float = 30.0

    @property
    def oauth(self) -> bool:
        """Whether workspaces install the app through OAuth (many workspaces)."""
        return bool(self.client_id and self.client_secret)


class Workspaces:
    """Web API clients per workspace: the one bot token, or each installation's, found in our database.

    A workspace's client is kept for ``ttl`` seconds, so a broadcast does not read the installation per message;
    a reinstall's new token is picked up after that, or at once when Slack refuses the old one (:meth:`forget`).
    """

    def __init__(
        self,
        config: SlackConfig,
        installations: DatabaseInstallationStore | None,
        *,
        ttl: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self._config, self._installations, self._session = config, installations, session
        self._ttl, self._clock = ttl, clock
        self._clients: dict[str, tuple[AsyncWebClient, float]] = {}
        self.app_client = self._build(config.bot_token)

    def _build(self, token: str | None) -> AsyncWebClient:
        return build_client(token, base_url=self._config.api_url, timeout=self._config.timeout, session=self._session)

    async def client(self, team_id: str) -> AsyncWebClient:
        """The client holding ``team_id``'s bot token; LookupError where the app is not installed there
        (``ChannelUninstalled`` where it was, and was uninstalled)."""
        if self._config.bot_token:
            return self.app_client
        kept = self._clients.get(team_id)
        if kept is not None and kept[1] > self._clock():
            return kept[0]
        bot = None
        if self._installations is not None:
            bot = await self._installations.async_find_bot(enterprise_id=None, team_id=team_id)
        if bot is None:
            self._clients.pop(team_id, None)
            if self._installations is not None and (reason := await self._installations.async_inactive(team_id)):
                said = f"Slack: the app is no longer installed in workspace {team_id} ({reason}): reinstall it"
                raise uninstalled(team_id, reason, said)
            raise LookupError(f"the Slack app is not installed in workspace {team_id}")
        client = kept[0] if kept is not None and kept[0].token == bot.bot_token else None
        if client is None:
            client = self._build(bot.bot_token)
        self._clients[team_id] = (client, self._clock() + self._ttl)
        return client

    def forget(self, team_id: str) -> None:
        """Read the workspace's installation afresh next time (Slack refused the token of the kept client)."""
        self._clients.pop(team_id, None)


@dataclass
class SlackBot:
    """The Slack side of Chatcast: the bolt app, the engine's channel, and the staff channel if set."""

    app: AsyncApp
    channel: SlackChannel
    workspaces: Workspaces
    staff: SlackStaffAlerts | None

    def add_routes(self, web_app: web.Application, prefix: str = "/slack") -> None:
        """Serve the Events API, interactivity and commands at ``{prefix}/events``; OAuth install and redirect."""

        async def dispatch(request: web.Request) -> web.Response:
            return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))

        web_app.router.add_post(f"{prefix}/events", dispatch)
        flow = self.app.oauth_flow
        if flow is not None:

            async def install(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

            async def redirect(request: web.Request) -> web.Response:
                return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

            web_app.router.add_get(f"{prefix}/install", install)
            web_app.router.add_get(f"{prefix}/oauth_redirect", redirect)

    def socket_mode(self, app_token: str) -> AsyncSocketModeHandler:
        """A Socket Mode connection (no public URL): ``await handler.connect_async()``, then ``close_async()``."""
        return AsyncSocketModeHandler(self.app, app_token, web_client=self.workspaces.app_client)


def update_key(body: dict[str, Any]) -> str | None:
    """The platform's id of a request, within its workspace: an event's ``event_id``, an interaction's or a slash
    command's ``trigger_id``; None for a request without one."""
    key = body.get("event_id") if body.get("type") == "event_callback" else body.get("trigger_id")
    if not key:
        return None
    team = body.get("team_id") or (body.get("team") or {}).get("id") or ""
    return f"{team}:{key}"


async def token_works_again(workspaces: Workspaces, store: WorkspaceStore) -> str | None:
    """With one bot token: a workspace marked inactive (Slack refused the token, or the app was uninstalled) is active
    again once the configured token works (one ``auth.test``, asked only while a workspace is inactive): the app was
    reinstalled and its new token set, or the workspace reactivated. The workspace's id when it came back."""
    inactive = await store.inactive_workspaces(NAME)
    if not inactive or workspaces.app_client.token is None:
        return None
    try:
        answer = await workspaces.app_client.auth_test()
    except Exception as exc:  # still refused, or Slack out of reach: the mark stays
        log.info("Slack: the bot token does not work yet (%s): the inactive workspaces stay so", exc)
        return None
    team_id = str(answer.get("team_id") or "")
    back = [key for key in inactive if team_id and key.endswith(workspace_key(None, team_id))]
    for key in back:
        await store.activate(NAME, key)
    if back:
        log.warning("Slack workspace %s has the app again: its customers are sent to again", team_id)
    return team_id if back else None


def once(updates: Redeliveries) -> Callable[..., Awaitable[Any]]:
    """A middleware that handles each event and interaction once by its id (per workspace): Slack retries an event
    whose request saw no 200 within 3 seconds (``X-Slack-Retry-Num``), and one handled before is answered 200 and
    goes no further. The id is passed to the engine (:data:`bots.spec.CURRENT_UPDATE`), which records it in the
    transaction of the event's effects (listeners acknowledge first and hand the engine the work after)."""

    async def middleware(body: dict[str, Any], next_: Callable[[], Awaitable[Any]]) -> Any:
        key = update_key(body)
        if key is not None and await updates.seen(NAME, key):
            return BoltResponse(status=200, body="")
        # bolt runs the listeners after the middleware has returned, in tasks of this request's context: the key is
        # set for them and not reset (every request sets its own, None included, before any listener runs)
        CURRENT_UPDATE.set(key)
        return await next_()

    return middleware


def build_slack(
    config: SlackConfig,
    inbound: InboundHandler,
    store: WorkspaceStore | None = None,
    *,
    session: aiohttp.ClientSession | None = None,
    updates: Redeliveries | None = None,
    replies: Replies | None = None,
) -> SlackBot:
    """The app with every listener; ``store`` keeps OAuth installations (needed unless there is a bot token).
    ``replies``: how answers go out (the engine's outbox: paced, queued); without, directly through the channel.

    ``session`` (:func:`bots.slack.channel.shared_session`, made and closed by the caller in its loop) lets every
    Web API call reuse connections: without it slack_sdk opens one per call, at about half the send rate.
    """
    if not config.signing_secret:
        raise ValueError("Slack needs its signing secret (CHATCAST_SLACK_SIGNING_SECRET)")
    if not config.bot_token and store is None:
        raise ValueError("Slack needs a bot token (one workspace) or an installation store (many)")
    kept = DatabaseInstallationStore(store) if store is not None else None  # also marks uninstalls, with a token
    installations = kept if not config.bot_token else None
    workspaces = Workspaces(config, installations, session=session)
    options: dict[str, Any] = {"signing_secret": config.signing_secret, "client": workspaces.app_client}
    if installations is None:
        pass  # the app's client carries the bot token: bolt authorizes with it (auth.test, once)
    elif config.oauth:
        options["oauth_settings"] = AsyncOAuthSettings(
            client_id=config.client_id,
            client_secret=config.client_secret,
            scopes=list(config.scopes),
            redirect_uri=config.redirect_uri,
            installation_store=installations,
            state_store=SignedStateStore(config.client_secret or ""),
        )
    else:
        options["installation_store"] = installations
    app = AsyncApp(**options)
    if updates is not None:
        app.middleware(once(updates))
    if kept is not None:  # bolt's own revocation listeners would forget the workspace: ours keep it, inactive
        installs.register(app, kept)
    channel = SlackChannel(workspaces.client, forget=workspaces.forget)
    replies = replies or DirectReplies({NAME: channel}, {NAME: plain})
    home.register(app, inbound, config.shop_name)
    actions.register(app, inbound, replies, config.shop_name)
    commands.register(app, inbound, config.command)
    staff = SlackStaffAlerts.from_setting(config.staff_channel, workspaces.client) if config.staff_channel else None
    messages.register(app, inbound, replies, staff)
    ignored.register(app)
    return SlackBot(app=app, channel=channel, workspaces=workspaces, staff=staff)
