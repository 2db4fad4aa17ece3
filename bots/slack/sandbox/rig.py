"""Slack's rig for the demo and rehearsals: the sandbox, the real app on its event routes (requests signed),
and the users' hands in their DMs (``TEAM:USER`` is the address).

Every workspace the shop's Slack customers are in is installed in the sandbox, each with a token of its own,
with those customers as its members; new customers join the shop's home workspace. The installations are
kept in memory: the app never reads the shop's own, whose tokens are real.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from aiohttp import web

from bots.sandbox.rig import SNOOZE, STOP, Press, RigWiring, web_addresses
from bots.slack import NAME
from bots.slack.app import SlackBot, SlackConfig, build_slack
from bots.slack.channel import SlackChannel, parse_address, shared_session
from bots.slack.installations import workspace_key
from bots.slack.sandbox.server import SlackSandbox
from bots.slack.sandbox.workspace import SlackMessage
from bots.slack.spec import ROUTES
from campaigns.ports import ChannelError

SIGNING_SECRET = "playground-signing-secret"
HOME_TEAM = "T0SHOP01"  # the workspace new customers join
EVENTS = ROUTES[0]  # the app's route for events, interactivity and commands


class SandboxWorkspaces:
    """The Slack installations of the sandbox's workspaces, in memory (a :class:`campaigns.ports.WorkspaceStore`)."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}
        self.gone: dict[str, str] = {}  # inactive workspace -> why

    async def save(self, channel: str, workspace: str, data: dict[str, Any]) -> None:
        """Keep ``data`` for the workspace: active."""
        self.data[workspace] = dict(data)
        self.gone.pop(workspace, None)

    async def load(self, channel: str, workspace: str) -> dict[str, Any] | None:
        """The workspace's installation, or None (none, or inactive)."""
        found = self.data.get(workspace) if workspace not in self.gone else None
        return dict(found) if found is not None else None

    async def delete(self, channel: str, workspace: str) -> None:
        """Forget the workspace."""
        self.data.pop(workspace, None)
        self.gone.pop(workspace, None)

    async def deactivate(self, channel: str, workspace: str, *, scope: str, reason: str, at: datetime) -> bool:
        """The app is no longer installed there; False if it was inactive already."""
        if workspace in self.gone:
            return False
        self.gone[workspace] = reason
        return True

    async def activate(self, channel: str, workspace: str) -> bool:
        """The app works there again; False if it was not inactive."""
        return self.gone.pop(workspace, None) is not None

    async def inactive(self, channel: str, workspace: str) -> str | None:
        """Why the app is no longer installed there, or None."""
        return self.gone.get(workspace)

    async def inactive_workspaces(self, channel: str) -> list[str]:
        """The workspaces that no longer have the app."""
        return sorted(self.gone)


def _user(address: str) -> tuple[str, str] | None:
    try:
        return parse_address(address)
    except ChannelError:
        return None  # not an address the channel could send to either


class SlackRig:
    """The sandbox and the app, as simulated users use them."""

    name = NAME

    def __init__(self, sandbox: SlackSandbox, app: SlackBot, workspaces: SandboxWorkspaces, shop_name: str) -> None:
        self.sandbox, self.app, self.workspaces, self.shop_name = sandbox, app, workspaces, shop_name
        self.channel: SlackChannel = app.channel

    def add_team(self, team_id: str) -> None:
        """Install the app in one more sandbox workspace (with a token of its own)."""
        key = workspace_key(None, team_id)
        if key not in self.workspaces.data:
            token = self.sandbox.add_team(team_id, name=self.shop_name)
            self.workspaces.data[key] = {"app_id": "A0PLAYGROUND", "team_id": team_id, "bot_token": token,
                                         "user_id": "U0INSTALLER"}  # fmt: skip

    def add_routes(self, app: web.Application) -> None:
        """The app's event routes."""
        self.app.add_routes(app)

    async def connect(self, root: str) -> None:
        """Point the sandbox's request URL at the app's events route."""
        self.sandbox.app_url = root + EVENTS

    async def join(self, n: int, token: str, first_name: str, full_name: str) -> None:
        """A new member of the home workspace runs ``/shop subscribe TOKEN``."""
        self.add_team(HOME_TEAM)
        user = f"U9{n:08d}"
        self.sandbox.add_user(HOME_TEAM, user, name=first_name.lower(), real_name=full_name)
        await self.sandbox.slash_command(HOME_TEAM, user, "/shop", f"subscribe {token}")

    def _message(self, address: str, message_id: str) -> SlackMessage | None:
        user = _user(address)
        channel, _, ts = message_id.partition(":")
        dm = self.sandbox.dm(*user) if user else []
        return next((x for x in dm if x.ts == ts and (not channel or x.channel == channel)), None)

    def shows(self, address: str, message_id: str) -> bool:
        """Whether the DM holds the app's message ``CHANNEL:TS``."""
        channel = message_id.partition(":")[0]
        found = self._message(address, message_id)
        return found is not None and found.channel == channel

    def said(self, address: str) -> list[str]:
        """The app's messages in the DM."""
        user = _user(address)
        return [m.text for m in self.sandbox.dm(*user) if m.from_bot] if user else []

    def button(self, address: str, message_id: str, action: str | None = None) -> Press | None:
        """The message's action button (not a link) for ``action`` (its value ends ``|action``); without one, its
        first that is neither Unsubscribe nor Not now: its action id and value, and the message."""
        message = self._message(address, message_id)
        for b in message.buttons() if message else []:
            value = b.get("value")
            pressed = str(value or "").rsplit("|", 1)[-1]
            if not b.get("url") and (pressed == action if action else pressed not in (STOP, SNOOZE)):
                return Press(str(b["action_id"]), str(value) if value is not None else None, message)
        return None

    def links(self, address: str, message_id: str) -> list[str]:
        """The message's link buttons' addresses, then those in its text."""
        message = self._message(address, message_id)
        if message is None:
            return []
        return [str(b["url"]) for b in message.buttons() if b.get("url")] + web_addresses(html.unescape(message.text))

    async def press(self, address: str, message_id: str, press: Press) -> None:
        """The user presses the button of the message."""
        message = press.message if isinstance(press.message, SlackMessage) else self._message(address, message_id)
        await self.sandbox.press(*parse_address(address), message, press.action, press.value)

    async def say(self, address: str, text: str) -> None:
        """The user writes in the DM."""
        await self.sandbox.user_sends(*parse_address(address), text)

    def block(self, address: str) -> bool:
        """The user's account is deactivated."""
        self.sandbox.deactivate(*parse_address(address))
        return True


@asynccontextmanager
async def open_rig(wiring: RigWiring) -> AsyncIterator[SlackRig]:
    """The sandbox on loopback and an app built with its URL and the sandbox workspaces' tokens only; the
    workspaces of ``wiring.addresses`` installed, with those users as members."""
    async with SlackSandbox(signing_secret=SIGNING_SECRET) as sandbox, shared_session() as session:
        workspaces = SandboxWorkspaces()
        config = SlackConfig(signing_secret=SIGNING_SECRET, api_url=sandbox.base_url, shop_name=wiring.shop_name)
        rig = SlackRig(sandbox, build_slack(config, wiring.inbound, workspaces, session=session), workspaces,
                       wiring.shop_name)  # fmt: skip
        members: dict[str, list[str]] = {}
        for address in wiring.addresses:
            user = _user(address)
            if user is not None:
                members.setdefault(user[0], []).append(user[1])
        for team in sorted(members):
            rig.add_team(team)
            for user_id in members[team]:
                sandbox.add_user(team, user_id)
        yield rig
