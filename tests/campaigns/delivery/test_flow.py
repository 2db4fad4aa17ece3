"""The dispatcher's flow, on SQLite and PostgreSQL: continuous sending (a hanging request holds up only its own
row), one chat's messages in the order they were queued, and a stop that lets what flies land and gives the
rest back. A scripted channel plays the platform: each send waits until the test lets it go, or fails as told."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from campaigns.delivery.dispatcher import Dispatcher
from campaigns.ports import ChannelLimits, OutboundMessage, SendReceipt, TransientChannelError
from storage.models import Delivery
from tests.fakes.clock import Clock
from tests.fakes.dispatch_worker import NO_LIMITS, add_campaign, add_customers, add_deliveries

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
LIMITS = ChannelLimits(4096, 1024, 64, 30.0, 1.0)
pytestmark = pytest.mark.usefixtures("database")


class Scripted:
    """A channel whose sends to the addresses in ``held`` wait until released; ``failing`` fail once, 5xx-like."""

    name = "telegram"
    limits = LIMITS

    def __init__(self, held: set[str] = frozenset(), failing: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.held, self.failing = set(held), set(failing)
        self.release = asyncio.Event()
        self.started: list[str] = []  # (address:text) as each request went out
        self.sent: list[str] = []
        self.waiting = asyncio.Event()  # set once a held send is waiting
        self.progress = asyncio.Event()  # set at every completed send

    async def send(self, message: OutboundMessage) -> SendReceipt:
        said = f"{message.address}:{message.text}"
        self.started.append(said)
        if message.address in self.failing:
            self.failing.discard(message.address)
            raise TransientChannelError("502 Bad Gateway")
        if message.address in self.held:
            self.waiting.set()
            await self.release.wait()
        self.sent.append(said)
        self.progress.set()
        return SendReceipt((str(len(self.sent)),), datetime.now(UTC), message.address)

    async def until(self, predicate: Callable[[], bool]) -> None:
        while not predicate():
            self.progress.clear()
            await asyncio.wait_for(self.progress.wait(), 10)


def make(channel: Scripted, clock: Clock[datetime], **options: Any) -> Dispatcher:
    options = {"worker": "w1", "rates": NO_LIMITS, "clock": clock, "sleep": clock.sleep} | options
    return Dispatcher({"telegram": channel}, **options)


async def test_a_hanging_request_holds_up_only_its_own_row() -> None:
    chats = [str(7000 + i) for i in range(40)]
    customers = await add_customers("telegram", chats)
    rows = await add_deliveries(await add_campaign(), "telegram", list(zip(customers, chats, strict=True)))
    channel = Scripted(held={"7000"})
    dispatcher = make(channel, Clock(T0), batch=8)  # a window of 8: the 39 others need several refills
    drain = asyncio.create_task(dispatcher.drain())
    await channel.until(lambda: len(channel.sent) == 39)  # all the others went while the first one hangs
    assert (await Delivery.get(id=rows[0])).status == "sending"  # in flight, and only it
    assert await Delivery.filter(status="sent").count() == 39
    channel.release.set()
    stats = await asyncio.wait_for(drain, 10)
    assert stats.sent == 40 and channel.sent[-1].startswith("7000:")


async def test_a_hung_request_past_its_deadline_is_unknown_and_never_resent() -> None:
    (customer,) = await add_customers("telegram", ["7100"])
    (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "7100")])
    channel = Scripted(held={"7100"})
    stats = await make(channel, Clock(T0), send_deadline=0.05).drain()
    found = await Delivery.get(id=row)
    assert found.status == "unknown" and "no answer within" in (found.error or "")
    assert stats.unknown == 1 and channel.started == ["7100:Spring sale: 20% off until Sunday"]


async def test_one_chats_messages_go_in_the_order_queued_even_when_the_first_is_retried() -> None:
    (customer,) = await add_customers("telegram", ["7200"])
    campaign = await add_campaign()
    first = await add_deliveries(campaign, "telegram", [(customer, "7200")], step="a", text="shipped")
    second = await add_deliveries(campaign, "telegram", [(customer, "7200")], step="b", text="delayed")
    third = await add_deliveries(campaign, "telegram", [(customer, "7200")], step="c", text="delivered")
    channel = Scripted(failing={"7200"})  # the first attempt of the first message meets a 502
    clock = Clock(T0)
    stats = await make(channel, clock).drain()
    assert channel.sent == ["7200:shipped", "7200:delayed", "7200:delivered"]
    assert stats.sent == 3 and clock.slept  # the later ones waited for the retry, whose backoff passed
    assert [r.status for r in await Delivery.filter(id__in=first + second + third).order_by("id")] == ["sent"] * 3


async def test_a_stop_lets_the_request_in_flight_land_and_gives_the_rest_back() -> None:
    chats = [str(7300 + i) for i in range(6)]
    customers = await add_customers("telegram", chats)
    rows = await add_deliveries(await add_campaign(), "telegram", list(zip(customers, chats, strict=True)))
    channel = Scripted(held={"7300"})
    stop = asyncio.Event()
    # two sends a second overall (a window of two): the first flies (and hangs), the second waits its turn, claimed
    dispatcher = make(channel, Clock(T0), rates={"telegram": 2.0, "telegram/chat": 1000.0})
    drain = asyncio.create_task(dispatcher.drain(stop=stop))
    await asyncio.wait_for(channel.waiting.wait(), 10)
    assert await Delivery.filter(status="claimed").count() == 1
    stop.set()
    channel.release.set()
    stats = await asyncio.wait_for(drain, 10)
    assert channel.sent == ["7300:Spring sale: 20% off until Sunday"]  # what flew landed, and nothing else went
    found = {r.id: r for r in await Delivery.filter(id__in=rows)}
    assert found[rows[0]].status == "sent"
    assert {found[i].status for i in rows[1:]} == {"queued"}  # given back, their claims not counted as attempts
    assert {found[i].attempts for i in rows[1:]} == {0}
    assert stats.released == 1 and await Delivery.filter(status__in=["claimed", "sending"]).count() == 0
