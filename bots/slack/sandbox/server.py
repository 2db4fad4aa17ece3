"""A loopback Slack Web API server for the demo, the tests and the benchmarks.

The real ``AsyncWebClient(token=..., base_url=sandbox.base_url)`` talks to it. It validates every call (against
the OpenAPI v2 spec when given one) and its Block Kit, answers like Slack, keeps transcripts and App Home views,
can rate-limit and inject faults, and plays the users: their DMs, Home tab visits, slash commands and button
presses reach the app as signed HTTP requests or Socket Mode envelopes (from a test through its methods; standalone
through the ``/sandbox`` routes of :mod:`bots.slack.sandbox.control`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from bots.slack.sandbox.api import WebApi
from bots.slack.sandbox.api_spec import SlackSpec
from bots.slack.sandbox.control import control_routes
from bots.slack.sandbox.delivery import AppLink
from bots.slack.sandbox.faults import ChannelLimiter, Fault, Misfortune, failure
from bots.slack.sandbox.methods import WebMethods
from bots.slack.sandbox.payloads import Payloads
from bots.slack.sandbox.socket import SocketHub
from bots.slack.sandbox.workspace import SlackMessage, User, Workspace, slack_id

__all__ = ["SlackMessage", "SlackSandbox", "serve_slack"]


class SlackSandbox:
    """A loopback Web API server that validates, answers and records every call, and plays the users."""

    def __init__(
        self,
        *,
        spec: Path | None = None,
        app_url: str | None = None,
        signing_secret: str = "sandbox-signing-secret",
        app_token: str = "xapp-1-A0SANDBOX-1-sandbox",
        app_id: str = "A0SANDBOX",
        rate_limits: bool = False,
        channel_per_second: float = 1.0,
        fault_rate: float = 0.0,
        fault: Fault = "5xx",
        timeout_delay: float = 30.0,
        seed: int = 0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], float] = time.time,
        ack_timeout: float = 3.0,
        strict: bool = True,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> None:
        self.app_token = app_token
        self.client_id, self.client_secret = client_id, client_secret  # OAuth client; None: any is accepted
        self.workspace = Workspace(now, app_id)
        self.socket = SocketHub(app_id, ack_timeout)
        self.link = AppLink(app_url, signing_secret, now, self.socket)
        self.methods = WebMethods(
            self.workspace, lambda: self.socket.url(self.origin), lambda: (self.client_id, self.client_secret)
        )
        self.payloads = Payloads(self.workspace, "sandbox-verification-token", lambda: self.origin)
        self.misfortune = Misfortune(fault_rate, fault, seed)
        limiter = ChannelLimiter(channel_per_second, clock) if rate_limits else None
        self.api = WebApi(
            SlackSpec(spec),
            self.workspace,
            self.methods,
            self.misfortune,
            limiter,
            app_token=app_token,
            strict=strict,
            timeout_delay=timeout_delay,
        )
        self.transcripts: dict[str, list[SlackMessage]] = self.workspace.transcripts
        self.ephemeral: list[SlackMessage] = self.workspace.ephemeral
        self.views: dict[tuple[str, str], dict[str, Any]] = self.workspace.views
        self.deliveries: list[tuple[str, dict[str, Any]]] = self.link.deliveries
        self.responses: list[dict[str, Any]] = self.api.responses  # what the app posted to response_urls
        self.requests: list[tuple[str, dict[str, Any]]] = self.api.requests
        self.errors: list[tuple[str, int, str]] = self.api.errors  # (method, HTTP status, error) answered
        self.violations: list[str] = self.api.violations
        self.wait_for = self.api.wait_for  # until a predicate holds, checked after every call the sandbox answers
        self.origin = self.base_url = ""
        self._runner: web.AppRunner | None = None

    @property
    def app_url(self) -> str | None:
        """The app's request URL (Events API, interactivity and slash commands alike)."""
        return self.link.app_url

    @app_url.setter
    def app_url(self, url: str | None) -> None:
        self.link.app_url = url

    @property
    def signing_secret(self) -> str:
        """The secret every request to the app is signed with."""
        return self.link.signing_secret

    @signing_secret.setter
    def signing_secret(self, secret: str) -> None:
        self.link.signing_secret = secret

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on ``host:port`` (0: any free port); returns the base URL, ending in ``/api/``."""
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self.api.handle)
        app.router.add_get("/socket-mode", self.socket.handle)
        app.router.add_post("/commands/{team}/{n}/{key}", self.api.response_url)
        app.router.add_routes(control_routes(self))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.origin = f"http://{host}:{self._runner.addresses[0][1]}"
        self.base_url = f"{self.origin}/api/"
        return self.base_url

    async def stop(self) -> None:
        """End the simulated slowness, close the sockets and the server."""
        self.api.closing.set()
        await self.socket.close()
        await self.link.close()
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SlackSandbox:
        await self.start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.stop()

    def add_team(self, team_id: str = "T0SANDBOX", name: str = "Sandbox Shop", bot_token: str | None = None) -> str:
        """Install the app in a workspace, with its bot user; returns the bot token (a fresh ``xoxb-`` if None)."""
        return self.workspace.add_team(team_id, name, bot_token)

    def add_user(
        self,
        team_id: str,
        user_id: str,
        *,
        name: str = "",
        real_name: str = "",
        email: str | None = None,
        is_bot: bool = False,
    ) -> None:
        """Add a member to a workspace."""
        name = name or user_id.lower()
        self.workspace.add_user(User(user_id, team_id, name, real_name or name, email, is_bot))

    def add_channel(self, team_id: str, channel_id: str, name: str = "") -> None:
        """Add a public channel (``C...``) the bot can post to, by id or by name."""
        self.workspace.channels[(self.workspace.team(team_id).id, channel_id)] = name or channel_id.lower()

    def deactivate(self, team_id: str, user_id: str) -> None:
        """Deactivate a user: conversations.open answers ``user_disabled``; users.info shows ``deleted: true``.

        Posts to the user's existing DM still succeed, as on Slack (slackapi/python-slack-sdk issue #1156).
        """
        self.workspace.user(team_id, user_id).deleted = True

    def revoke(self, team_id: str, error: str = "account_inactive") -> None:
        """The team's bot tokens so far stop working: every call with one answers ``error`` (``account_inactive``:
        the app was uninstalled or the workspace deactivated; or ``token_revoked``, ``invalid_auth``...). Slack
        tells the app nothing: see :meth:`uninstall`. Installing again (:meth:`add_team`, an OAuth code) gives a
        new token that works."""
        self.workspace.team(team_id)
        for token, team in self.workspace.tokens.items():
            if team == team_id:
                self.workspace.revoked.setdefault(token, error)

    async def uninstall(self, team_id: str, error: str = "account_inactive") -> list[int]:
        """The workspace uninstalls the app: its tokens are revoked (:meth:`revoke`) and, as Slack does, the app
        gets ``tokens_revoked`` and ``app_uninstalled`` events (when it can be reached); their HTTP statuses."""
        self.revoke(team_id, error)
        if not (self.app_url or self.socket.connected):
            return []
        return [(await self.link.deliver("events_api", event))[0] for event in self.payloads.uninstalled(team_id)]

    def oauth_code(self, team_id: str = "T0SANDBOX", user_id: str = "U0INSTALLER") -> str:
        """A one-time OAuth code for installing into the team (added if new), for oauth.v2.access."""
        if team_id not in self.workspace.teams:
            self.add_team(team_id, f"Sandbox {team_id}")
        return self.methods.oauth_code(team_id, user_id)

    def fail_next(
        self,
        method: str | None,
        *,
        error: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (None: any) with a 429, a 5xx or an ``ok: false`` error."""
        self.misfortune.queue(method, failure(error, status, retry_after), times)

    def fault_next(self, method: str | None, fault: Fault, *, times: int = 1) -> None:
        """The next ``times`` calls of ``method`` (None: any) meet ``fault``: ``timeout`` (carried out after
        ``timeout_delay``, or at :meth:`finish_late_calls`), ``disconnect`` (dropped, not carried out), ``lost``
        (carried out, the answer dropped) or ``5xx``."""
        self.misfortune.queue_fault(method, fault, times)

    def finish_late_calls(self) -> None:
        """Carry out now the calls a timeout fault holds back (a test need not wait ``timeout_delay``)."""
        self.api.finish_late_calls()

    def messages(self, channel_id: str) -> list[SlackMessage]:
        """The bot's messages in a channel, in order."""
        return [message for message in self.transcripts.get(channel_id, []) if message.from_bot]

    def dm(self, team_id: str, user_id: str) -> list[SlackMessage]:
        """The bot's messages in a user's DM, in order."""
        return self.messages(self.dm_channel(team_id, user_id))

    def dm_channel(self, team_id: str, user_id: str) -> str:
        """The id of the DM channel between the bot and a user (stable per team and user; opens nothing)."""
        return self.workspace.dms.get((team_id, user_id)) or slack_id("D", team_id, user_id)

    async def open_app_home(self, team_id: str, user_id: str) -> tuple[int, Any]:
        """The user opens the app's Home tab: an ``app_home_opened`` event; the app's answer."""
        return await self.link.deliver("events_api", self.payloads.app_home_opened(team_id, user_id))

    async def user_sends(self, team_id: str, user_id: str, text: str) -> tuple[int, Any]:
        """The user writes to the app in their DM: a ``message`` event (``channel_type: im``); the app's answer."""
        return await self.link.deliver("events_api", self.payloads.message(team_id, user_id, text))

    async def thread_reply(
        self, team_id: str, user_id: str, channel_id: str, thread_ts: str, text: str
    ) -> tuple[int, Any]:
        """A member replies in a thread of a public channel (the staff answering a hand-off); the app's answer."""
        return await self.link.deliver(
            "events_api", self.payloads.thread_reply(team_id, user_id, channel_id, thread_ts, text)
        )

    async def slash_command(
        self, team_id: str, user_id: str, command: str = "/shop", text: str = ""
    ) -> tuple[int, Any]:
        """The user runs a slash command; what the app posts to its response_url lands in ``responses``, and what
        the user is shown (that, or an answer in the ack) in ``ephemeral``."""
        payload = self.payloads.slash_command(team_id, user_id, command, text)
        status, body = await self.link.deliver("slash_commands", payload)
        if status == 200 and isinstance(body, dict):  # an answer in the ack itself: the user sees it at once
            self.workspace.answer(team_id, user_id, payload["channel_id"], body)
        return status, body

    async def press(
        self,
        team_id: str,
        user_id: str,
        message: SlackMessage | None,
        action_id: str,
        value: str | None = None,
        *,
        view: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        """The user presses a button of a message (as it is now) or of a view: ``block_actions``; the app's answer."""
        if message is not None:
            message = self.workspace.find(message.channel, message.ts) or message
        payload = self.payloads.block_actions(team_id, user_id, message, action_id, value, view)
        return await self.link.deliver("interactive", payload)

    async def post(
        self,
        body: bytes | str | dict[str, Any],
        *,
        content_type: str = "application/json",
        timestamp: int | None = None,
        signature: str | None = None,
        sign: bool = True,
    ) -> tuple[int, Any]:
        """POST any body to the app over HTTP (forged, replayed or sample payloads), signed unless told not to."""
        return await self.link.post(
            body, content_type=content_type, timestamp=timestamp, signature_=signature, sign=sign
        )


async def serve_slack(port: int, spec: Path | None, *, host: str = "127.0.0.1", **options: Any) -> None:
    """Run a sandbox with one team on ``host:port`` until cancelled, printing how to reach it."""
    sandbox = SlackSandbox(spec=spec, **options)
    url = await sandbox.start(host, port)
    token = sandbox.add_team()
    print(
        f"Slack Web API sandbox at {url} (team T0SANDBOX, bot token {token}, app token {sandbox.app_token}, "
        f"signing secret {sandbox.signing_secret}); its users are played at {sandbox.origin}/sandbox; Ctrl+C stops it",
        flush=True,
    )
    try:
        await asyncio.Event().wait()
    finally:
        await sandbox.stop()
