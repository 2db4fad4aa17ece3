"""The chat platforms on loopback, for the demo and for rehearsals: every registered channel's rig (its sandbox
and the real bot wired to it) and a web server where the bots hear what simulated customers do in their chats.

The sandboxes (``bots/<channel>/sandbox/``) start on 127.0.0.1, and the bots are built with the sandboxes' tokens
and URLs only, whatever tokens the settings or the database hold: nothing reaches a real platform. The same web
server plays ``serve``'s redirect of tracked links (:mod:`chatcast.links`): a dispatcher given
:attr:`Playground.links` sends campaign links that lead there, and a customer who opens one is a click. Each rig is
given the chats of its channel the shop already knows, so its sandbox has them. A press or a word in a chat
travels as on the real platforms: the sandbox posts it to the bots' routes here (a webhook with its secret,
signed requests), and the real handlers hand it to the engine's :class:`~bots.inbound.acts.Inbound`, which
records it at the time of the ``clock`` it is given (a rehearsal's simulated one).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from bots.inbound.acts import Inbound
from bots.registry import CHANNELS
from bots.sandbox.rig import Rig, RigWiring
from campaigns.delivery.links import LinkTokens, TrackedLinks
from campaigns.ports import Channel, InboundEvent, InboundHandler, Reply, Responder
from campaigns.timing.clock import Clock, wall_clock
from chatcast.links import add_link_routes
from storage.models import ChannelIdentity
from storage.rehearsals import Sent

LINK_SECRET = "playground-link-secret"


class Tally:
    """The engine's inbound handler, counting what it handled so a caller can await work a bot acked first."""

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


@dataclass
class Playground:
    """The running rigs (by channel, in the registry's order), the engine's channels through them, the inbound
    handler the bots call, and the tracked links that lead to the playground's redirect (for the dispatcher)."""

    rigs: dict[str, Rig]
    inbound: Tally
    links: TrackedLinks

    @property
    def channels(self) -> dict[str, Channel]:
        """The engine's channels, through the sandboxes."""
        return {name: rig.channel for name, rig in self.rigs.items()}

    def delivered(self, messages: Iterable[Sent]) -> dict[str, tuple[int, int]]:
        """Per channel: how many of ``messages`` its sandbox shows in their chat, of how many."""
        counts: dict[str, tuple[int, int]] = {}
        for m in messages:
            found, sent = counts.get(m.channel, (0, 0))
            counts[m.channel] = (found + self.shows(m), sent + 1)
        return dict(sorted(counts.items()))

    def shows(self, m: Sent) -> bool:
        """Whether the sent message is in its customer's chat, by the id the platform gave it."""
        rig = self.rigs.get(m.channel)
        return rig is not None and rig.shows(m.address, m.message_id)


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@asynccontextmanager
async def playground(
    *, shop_name: str, clock: Clock = wall_clock, responder: Responder | None = None
) -> AsyncIterator[Playground]:
    """Every channel's sandbox and bot, for the block, with the shop's chats of each channel; the customers'
    words and presses handled on ``clock``, their words answered by ``responder``."""
    inbound = Tally(Inbound(LINK_SECRET, clock, responder=responder))
    async with AsyncExitStack() as stack:
        rigs: dict[str, Rig] = {}
        for spec in CHANNELS:
            known = await ChannelIdentity.filter(channel=spec.name).values_list("address", flat=True)
            wiring = RigWiring(inbound, shop_name, tuple(str(a) for a in known))
            rigs[spec.name] = await stack.enter_async_context(spec.rig(wiring))
        app = web.Application()
        for rig in rigs.values():
            rig.add_routes(app)
        tokens = LinkTokens(LINK_SECRET)
        add_link_routes(app, tokens, clock)  # a customer opening a link is heard at the clock's time too
        runner, root = await _serve(app)
        try:
            for rig in rigs.values():
                await rig.connect(root)
            yield Playground(rigs, inbound, TrackedLinks(tokens, root))
        finally:
            await runner.cleanup()
