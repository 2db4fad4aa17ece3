"""The real slack-bolt app on loopback for the Slack tests: the engine behind it, watched, and the customer its
events make."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime

import aiohttp
from aiohttp import web

from bots.inbound.acts import Inbound
from bots.slack.app import SlackBot
from bots.slack.channel import address
from bots.slack.sandbox.server import SlackSandbox
from campaigns.ports import InboundEvent, Reply
from storage.installations import InstallationStore
from storage.models import ChannelIdentity, Customer

LINK = "link-secret"
TEAM, USER = "T0SHOP", "U0MIA"


class Watched:
    """The real engine, and a queue of the events it finished handling (what a test awaits)."""

    def __init__(self) -> None:
        self.inner = Inbound(link_secret=LINK)
        self.handled: asyncio.Queue[InboundEvent] = asyncio.Queue()

    async def handle(self, event: InboundEvent) -> Reply | None:
        try:
            return await self.inner.handle(event)
        finally:
            self.handled.put_nowait(event)

    async def next(self) -> InboundEvent:
        return await asyncio.wait_for(self.handled.get(), 10)


class WatchedInstallations(InstallationStore):
    """The installations in the database, and the workspaces the app marks inactive, in order: Slack's
    ``app_uninstalled`` and ``tokens_revoked`` are acknowledged first and handled after, so a test awaits them."""

    def __init__(self) -> None:
        self.marked: asyncio.Queue[str] = asyncio.Queue()

    async def deactivate(self, channel: str, workspace: str, *, scope: str, reason: str, at: datetime) -> bool:
        try:
            return await super().deactivate(channel, workspace, scope=scope, reason=reason, at=at)
        finally:
            self.marked.put_nowait(workspace)

    async def next_mark(self) -> str:
        """The next workspace marked inactive (once marked)."""
        return await asyncio.wait_for(self.marked.get(), 10)


async def serve(bot: SlackBot, sandbox: SlackSandbox) -> web.AppRunner:
    """The app's HTTP routes on 127.0.0.1, made the sandbox's app URL; the runner to clean up."""
    app = web.Application()
    bot.add_routes(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    sandbox.app_url = f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    return runner


async def customer(team: str = TEAM, user: str = USER) -> Customer:
    """The customer behind a Slack user."""
    identity = await ChannelIdentity.get(channel="slack", address=address(team, user)).prefetch_related("customer")
    return identity.customer


def subscribed(c: Customer) -> bool:
    """Whether the customer's latest consent is an opt-in."""
    return c.opted_in_at is not None and (c.opted_out_at is None or c.opted_in_at > c.opted_out_at)


async def install(sandbox: SlackSandbox, root: str, team: str) -> None:
    """A workspace admin's browser going through the app's install page and Slack's redirect."""
    async with aiohttp.ClientSession() as browser:
        async with browser.get(f"{root}/slack/install") as page:
            assert page.status == 200
            state = re.search(r"state=([^&\"']+)", await page.text())
            assert state is not None
            cookie = page.cookies["slack-app-oauth-state"]
        # the state cookie is Secure (the install page is served over https in production): hand it on as is
        params = {"code": sandbox.oauth_code(team), "state": state[1]}
        headers = {"Cookie": f"{cookie.key}={cookie.value}"}
        async with browser.get(f"{root}/slack/oauth_redirect", params=params, headers=headers) as done:
            assert done.status == 200, await done.text()
