"""The chat platforms on loopback, for the demo and for rehearsals: both sandboxes, the real bots wired to them, and
a web server where the bots hear what simulated customers do in their chats.

The Telegram Bot API and Slack Web API sandboxes (:mod:`bots.sandbox`) start on 127.0.0.1, and the bots are built
with the sandboxes' tokens and URLs only, whatever tokens the settings or the database hold: nothing reaches a
real platform. Every Slack workspace the shop's customers are in is installed in the sandbox (each with a token
of its own), with those customers as its members. A press or a word in a chat travels as on the real platforms:
the sandbox posts it to the bots' routes here (Telegram's webhook with its secret, Slack's requests signed), and
the real aiogram and slack-bolt handlers hand it to the engine's :class:`~bots.inbound.acts.Inbound`, which
records it at the time of the ``clock`` it is given (a rehearsal's simulated one).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bots.inbound.acts import Inbound
from bots.slack.app import SlackConfig, build_slack
from bots.slack.channel import parse_address, shared_session
from bots.slack.installations import workspace_key
from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.app import add_webhook, build_bot, build_dispatcher, register_webhook
from bots.telegram.channel import TelegramChannel
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns.ports import Channel, ChannelError, InboundEvent, InboundHandler, Reply, Responder
from campaigns.timing.clock import Clock, wall_clock
from storage.models import ChannelIdentity
from storage.rehearsals import Sent

LINK_SECRET = "playground-link-secret"
HOOK_SECRET = "playground-webhook-secret"
SIGNING_SECRET = "playground-signing-secret"


class Tally:
    """The engine's inbound handler, counting what it handled so a caller can await Slack's (acked first) work."""

    def __init__(self, inner: InboundHandler) -> None:
        self.inner = inner
        self.counts: dict[str, int] = {}
        self._changed = asyncio.Condition()

    async def handle(self, event: InboundEvent) -> Reply | None:
        """Hand on; count the event's kind once handled."""
        try:
            return await self.inner.handle(event)
        finally:
            async with self._changed:
                self.counts[event.kind] = self.counts.get(event.kind, 0) + 1
                self._changed.notify_all()

    @property
    def total(self) -> int:
        """Events handled so far, of every kind."""
        return sum(self.counts.values())

    async def reached(self, kind: str | None, count: int) -> None:
        """Wait (at most half a minute) until ``count`` events of ``kind`` (None: of any kind) were handled."""
        async with asyncio.timeout(30), self._changed:
            await self._changed.wait_for(lambda: (self.counts.get(kind, 0) if kind else self.total) >= count)


class SandboxWorkspaces:
    """The Slack installations of the sandbox's workspaces, in memory (a :class:`campaigns.ports.WorkspaceStore`):
    the bots never read the shop's own installations, whose tokens are real."""

    def __init__(self) -> None:
        self.data: dict[str, dict[str, Any]] = {}

    async def save(self, channel: str, workspace: str, data: dict[str, Any]) -> None:
        """Keep ``data`` for the workspace."""
        self.data[workspace] = dict(data)

    async def load(self, channel: str, workspace: str) -> dict[str, Any] | None:
        """The workspace's installation, or None."""
        found = self.data.get(workspace)
        return dict(found) if found is not None else None

    async def delete(self, channel: str, workspace: str) -> None:
        """Forget the workspace."""
        self.data.pop(workspace, None)


@dataclass
class Playground:
    """The running sandboxes, the engine's channels through them, and the inbound handler the bots call."""

    telegram: TelegramSandbox
    slack: SlackSandbox
    inbound: Tally
    channels: dict[str, Channel]
    workspaces: SandboxWorkspaces

    def add_slack_team(self, team_id: str, name: str) -> None:
        """Install the app in one more sandbox workspace (with a token of its own)."""
        key = workspace_key(None, team_id)
        if key not in self.workspaces.data:
            token = self.slack.add_team(team_id, name=name)
            self.workspaces.data[key] = {"app_id": "A0PLAYGROUND", "team_id": team_id, "bot_token": token,
                                         "user_id": "U0INSTALLER"}  # fmt: skip

    def delivered(self, messages: Iterable[Sent]) -> dict[str, tuple[int, int]]:
        """Per channel: how many of ``messages`` its sandbox shows in their chat, of how many."""
        counts: dict[str, tuple[int, int]] = {}
        for m in messages:
            found, sent = counts.get(m.channel, (0, 0))
            counts[m.channel] = (found + self.shows(m), sent + 1)
        return dict(sorted(counts.items()))

    def shows(self, m: Sent) -> bool:
        """Whether the sent message is in its customer's chat, by the id the platform gave it."""
        if m.channel == "telegram" and m.address.lstrip("-").isdigit() and m.message_id.isdigit():
            return any(x.message_id == int(m.message_id) for x in self.telegram.sent(int(m.address)))
        if m.channel == "slack" and ":" in m.address:
            channel, _, ts = m.message_id.partition(":")
            return any(x.ts == ts and x.channel == channel for x in self.slack.dm(*m.address.split(":", 1)))
        return False


async def slack_members() -> dict[str, list[str]]:
    """The shop's Slack customers, by workspace: the users of every Slack chat it knows."""
    members: dict[str, list[str]] = {}
    for address in await ChannelIdentity.filter(channel="slack").values_list("address", flat=True):
        try:
            team, user = parse_address(str(address))
        except ChannelError:
            continue  # not an address the channel could send to either
        members.setdefault(team, []).append(user)
    return members


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@asynccontextmanager
async def playground(
    *, shop_name: str, clock: Clock = wall_clock, responder: Responder | None = None, teams: Iterable[str] = ()
) -> AsyncIterator[Playground]:
    """Both sandboxes and the bots, for the block: the shop's Slack workspaces and ``teams`` installed, the
    customers' words and presses handled on ``clock``, their words answered by ``responder``."""
    inbound = Tally(Inbound(LINK_SECRET, clock, responder=responder))
    async with (
        TelegramSandbox() as telegram,
        SlackSandbox(signing_secret=SIGNING_SECRET) as slack,
        shared_session() as session,
    ):
        workspaces = SandboxWorkspaces()
        bot = build_bot(telegram.token, api_url=telegram.base_url, timeout=10)
        config = SlackConfig(signing_secret=SIGNING_SECRET, api_url=slack.base_url, shop_name=shop_name)
        slack_bot = build_slack(config, inbound, workspaces, session=session)
        channels: dict[str, Channel] = {"telegram": TelegramChannel(bot), "slack": slack_bot.channel}
        play = Playground(telegram, slack, inbound, channels, workspaces)
        members = await slack_members()
        for team in sorted({*members, *teams}):
            play.add_slack_team(team, shop_name)
            for user in members.get(team, []):
                slack.add_user(team, user)
        app = web.Application()
        add_webhook(app, bot, build_dispatcher(inbound), HOOK_SECRET)
        slack_bot.add_routes(app)
        runner, root = await _serve(app)
        try:
            await register_webhook(bot, f"{root}/telegram/webhook", HOOK_SECRET)
            slack.app_url = f"{root}/slack/events"
            yield play
        finally:
            await runner.cleanup()
            await bot.session.close()
