"""Simulated customers, for the demo and for rehearsals: they follow the shop's links, have blocked the bot, and
read the messages they get; a reader may open the message's link (or press its button), press "Not now", write
back, unsubscribe, block the bot or buy, some time after the message arrived.

They act only through the sandboxes' chats (:mod:`chatcast.playground`), as people do: a press or a word reaches
the real bots, a link opened is a browser's request to the link (the tracked redirect, when the message's links
are tracked), a blocked bot answers the next send with the platform's 403. A purchase is an order stored and
credited as the shop's orders webhook does it (:func:`storage.orders.upsert_order`, then attribution), dated when
the customer bought. Every choice is drawn from the seed, the customer and the message, never from the order in
which they come: the same seed on the same data does the same.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp

from bots.inbound.links import make_token
from bots.sandbox.rig import SNOOZE, Press
from campaigns.results.attribution import attribute
from chatcast.playground import LINK_SECRET, Playground
from storage.models import ChannelIdentity, Customer
from storage.orders import upsert_order
from storage.rehearsals import Sent

REPLY = "Do you have these in size 42?"


@dataclass(frozen=True)
class Behaviour:
    """How likely each thing a customer does is (a share of those who could), and how soon readers act."""

    blocked_before: float = 0.03  # had blocked the bot before the campaign: its first message finds out
    read: float = 1.0  # reads a message they got
    click: float = 1 / 6  # a reader opens the message's link, or else presses its button (not Not now or Unsubscribe)
    snooze: float = 0.0  # a reader presses "Not now", where the message has it
    buy_after_click: float = 0.0  # a reader who pressed buys
    buy: float = 0.0  # a reader who did not press buys (the message's link, or the shop)
    reply: float = 0.0  # a reader writes back
    stop: float = 0.0  # a reader unsubscribes ("stop")
    block: float = 0.0  # a reader blocks the bot: the next message finds out
    within: timedelta = timedelta(hours=12)  # readers act within this long of the message


DEMO = Behaviour(snooze=0.1)  # the demo, on the wall clock: readers open links and press buttons, nothing more
REHEARSAL = Behaviour(read=0.7, buy_after_click=0.25, buy=0.02, reply=0.02, stop=0.01, block=0.01, snooze=0.05)
BROWSER = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36"


@dataclass(frozen=True, order=True)
class Reaction:
    """Something a customer does about a message they got, and when."""

    at: datetime
    kind: str  # click, snooze, reply, stop, block, buy
    message: Sent = field(compare=False)


@dataclass(frozen=True)
class Shop:
    """What customers buy: (sku, price, currency) of the products for sale, the code they use."""

    products: Sequence[tuple[str, float, str]] = ()
    code: str | None = None


class Shoppers:
    """The simulated customers of one run."""

    def __init__(self, play: Playground, behaviour: Behaviour, seed: int, shop: Shop | None = None) -> None:
        self.play, self.behaviour, self.seed, self.shop = play, behaviour, seed, shop or Shop()
        self.done: Counter[str] = Counter()  # what they did, by kind

    def draw(self, *key: object) -> random.Random:
        """The random choices of one customer about one thing."""
        return random.Random(":".join(map(str, (self.seed, *key))))

    async def opt_in(self, limit: int = 40) -> int:
        """Shop customers without consent follow the shop's link, from a new chat: each channel in turn."""
        quiet = await Customer.filter(opted_in_at=None).order_by("id").limit(limit).values_list("external_id", "name")
        rigs = list(self.play.rigs.values())
        for n, (external_id, name) in enumerate(quiet):
            token = make_token(str(external_id), LINK_SECRET)
            first = str(name).split(" ")[0] or "Friend"
            await rigs[n % len(rigs)].join(n, token, first, str(name))
        await self.play.inbound.reached("start", len(quiet))
        return len(quiet)

    async def block_some(self) -> int:
        """Some customers have blocked the bot or left the workspace since they opted in; how many."""
        blocked = 0
        for channel, address in await ChannelIdentity.filter(reachable=True).values_list("channel", "address"):
            if self.draw("blocked", channel, address).random() < self.behaviour.blocked_before:
                blocked += self._block(str(channel), str(address))
        return blocked

    def reactions(self, messages: Iterable[Sent]) -> list[Reaction]:
        """What the customers will do about ``messages``, each at its moment."""
        b, out = self.behaviour, []
        for m in messages:
            rng = self.draw(m.customer_id, m.step)
            if rng.random() >= b.read:
                continue
            at = m.sent_at + b.within * rng.random()
            clicked = rng.random() < b.click and (self._links(m) or self._button(m) is not None)
            kinds = ["click"] if clicked else []
            if not clicked and rng.random() < b.snooze and self._button(m, SNOOZE) is not None:
                kinds.append("snooze")
            kinds += [k for k, p in (("reply", b.reply), ("stop", b.stop), ("block", b.block)) if rng.random() < p]
            if rng.random() < (b.buy_after_click if clicked else b.buy) and self.shop.products:
                kinds.append("buy")
            out += [Reaction(at + timedelta(minutes=n), kind, m) for n, kind in enumerate(kinds)]
        return sorted(out)

    async def perform(self, reactions: Sequence[Reaction]) -> None:
        """Do ``reactions`` (now, whatever their moments), and wait until the bots have handled them."""
        inbound = self.play.inbound
        before, heard = inbound.total, 0  # a chat's "stop" is a stop or words, as the channel has it: count them all
        for r in reactions:
            if r.kind == "click" and self._links(r.message):
                if not await self._open(r.message):
                    continue
            elif r.kind in ("click", "snooze"):
                if not await self._press(r.message, SNOOZE if r.kind == "snooze" else None):
                    continue
                heard += 1
            elif r.kind in ("reply", "stop"):
                await self._say(r.message, REPLY if r.kind == "reply" else "stop")
                heard += 1
            elif r.kind == "block":
                self._block(r.message.channel, r.message.address)
            elif r.kind == "buy":
                await self._buy(r)
            else:
                continue
            self.done[r.kind] += 1
        await inbound.reached(None, before + heard)

    def _block(self, channel: str, address: str) -> int:
        rig = self.play.rigs.get(channel)
        return int(rig is not None and rig.block(address))

    def _button(self, m: Sent, action: str | None = None) -> Press | None:
        """The press of the message's button for ``action`` (None: its first that is neither Unsubscribe nor Not
        now), as its chat shows it."""
        rig = self.play.rigs.get(m.channel)
        return rig.button(m.address, m.message_id, action) if rig is not None else None

    def _links(self, m: Sent) -> list[str]:
        """The message's tracked links (its link buttons' first, then its text's): only those lead to the
        playground's redirect; any other address is the world's, which a simulated reader never reaches."""
        rig = self.play.rigs.get(m.channel)
        found = rig.links(m.address, m.message_id) if rig is not None else []
        return [url for url in found if url.startswith(self.play.links.prefix)]

    async def _press(self, m: Sent, action: str | None = None) -> bool:
        press = self._button(m, action)
        if press is None:
            return False
        await self.play.rigs[m.channel].press(m.address, m.message_id, press)
        return True

    async def _open(self, m: Sent) -> bool:
        """The reader opens the message's first link in their browser, which follows it to the redirect: whether
        the link answered (a tracked link records the click before it answers; the shop's page is not fetched)."""
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as browser,
            browser.get(self._links(m)[0], headers={"User-Agent": BROWSER}, allow_redirects=False) as answer,
        ):
            return answer.status in (301, 302, 303, 307, 308)

    async def _say(self, m: Sent, text: str) -> None:
        await self.play.rigs[m.channel].say(m.address, text)

    async def _buy(self, r: Reaction) -> None:
        """An order dated at the reaction, stored and credited as the orders webhook does."""
        m, rng = r.message, self.draw("buy", r.message.customer_id, r.message.step)
        sku, price, currency = rng.choice(list(self.shop.products))
        order = {"order_id": f"R-{m.delivery_id}", "customer_id": m.external_id, "ordered_at": r.at.isoformat(),
                 "status": "paid", "currency": currency, "discount_code": self.shop.code,
                 "lines": [{"sku": sku, "quantity": 1, "unit_price": price}]}  # fmt: skip
        await attribute(await upsert_order(order))
