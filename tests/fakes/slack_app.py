"""The real slack-bolt app on loopback for the Slack tests: the engine behind it, watched, and the customer its
events make."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bots.inbound.acts import Inbound
from bots.slack.app import SlackBot
from bots.slack.channel import address
from bots.slack.sandbox.server import SlackSandbox
from campaigns.ports import InboundEvent, Reply
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
