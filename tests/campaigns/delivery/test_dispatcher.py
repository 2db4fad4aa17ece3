"""The dispatcher through the real adapters to the Telegram and Slack sandboxes, on a fake clock (no real backoff)."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.channel import SlackChannel, build_client, shared_session
from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.app import build_bot
from bots.telegram.channel import TelegramChannel
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.ports import Channel, ChannelLimits, OutboundMessage, SendReceipt
from storage import outbox
from storage.models import Campaign, ChannelIdentity, Customer, Delivery, Event
from tests.fakes.clock import Clock
from tests.fakes.dispatch_worker import NO_LIMITS, add_campaign, add_customers, add_deliveries

TEAM = "T0SHOP"
T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock[datetime]:
    """Time that moves only when the dispatcher sleeps on it."""
    return Clock(T0)


@pytest.fixture
async def slack_channel(slack_sandbox: SlackSandbox) -> AsyncIterator[SlackChannel]:
    token = slack_sandbox.add_team(TEAM, "Sandbox Shop")
    async with shared_session(timeout=5) as session:
        client = build_client(token, base_url=slack_sandbox.base_url, session=session)

        async def clients(team_id: str) -> AsyncWebClient:
            return client

        yield SlackChannel(clients)


@pytest.fixture
def make(clock: Clock[datetime]) -> Callable[..., Dispatcher]:
    def build(channels: dict[str, Channel], **options: Any) -> Dispatcher:
        options = {"worker": "w1", "rates": NO_LIMITS, "clock": clock, "sleep": clock.sleep} | options
        return Dispatcher(channels, rng=random.Random(7), **options)

    return build


def chats(n: int, first: int = 1001) -> list[str]:
    return [str(first + i) for i in range(n)]


async def statuses(ids: list[int]) -> list[str]:
    found = dict(await Delivery.filter(id__in=ids).values_list("id", "status"))
    return [found[i] for i in ids]


async def test_each_row_is_delivered_once_through_telegram_and_slack(
    database: str,
    telegram_sandbox: TelegramSandbox,
    telegram_bot: Bot,
    slack_sandbox: SlackSandbox,
    slack_channel: SlackChannel,
    make: Any,
    clock: Clock[datetime],
) -> None:
    users = [f"U0USER{i:04d}" for i in range(5)]
    for user in users:
        slack_sandbox.add_user(TEAM, user)
    tg = await add_customers("telegram", chats(7))
    sl = await add_customers("slack", [f"{TEAM}:{u}" for u in users], first_id=100)
    campaign = await add_campaign()
    tg_rows = await add_deliveries(campaign, "telegram", list(zip(tg, chats(7), strict=True)))
    sl_rows = await add_deliveries(campaign, "slack", [(c, f"{TEAM}:{u}") for c, u in zip(sl, users, strict=True)])
    dispatcher = make({"telegram": TelegramChannel(telegram_bot), "slack": slack_channel}, batch=3)
    stats = await dispatcher.drain()
    assert stats.sent == 12 and stats.failed == stats.unknown == stats.skipped == 0
    assert await statuses(tg_rows + sl_rows) == ["sent"] * 12
    for chat in chats(7):
        (message,) = telegram_sandbox.sent(int(chat))
        assert message.text == "Spring sale: 20% off until Sunday" and message.reply_markup is not None
    for user in users:
        (message,) = slack_sandbox.dm(TEAM, user)
        assert message.blocks[-1]["type"] == "actions"
    row = await Delivery.get(id=tg_rows[0])
    assert row.provider_message_id and row.sent_at and row.attempts == 1 and row.claimed_by == "w1"
    assert row.sent_at == clock.now  # the dispatcher's clock says when (a rehearsal's simulated one), not the adapter's
    assert (await Campaign.get(id=campaign)).status == "done"
    assert (await make({"telegram": TelegramChannel(telegram_bot), "slack": slack_channel}).drain()).sent == 0
    assert sum(len(telegram_sandbox.sent(int(c))) for c in chats(7)) == 7


async def test_a_429_holds_the_channel_then_the_row_goes(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, clock: Clock[datetime], make: Any
) -> None:
    customers = await add_customers("telegram", chats(4))
    rows = await add_deliveries(await add_campaign(), "telegram", list(zip(customers, chats(4), strict=True)))
    telegram_sandbox.fail_next(429, "Too Many Requests: retry after 7", retry_after=7)
    start = clock.now
    stats = await make({"telegram": TelegramChannel(telegram_bot)}).drain()
    assert await statuses(rows) == ["sent"] * 4 and stats.rate_limited == 1 and stats.requeued == 1
    assert clock.now - start >= timedelta(seconds=7) and all(len(telegram_sandbox.sent(int(c))) == 1 for c in chats(4))
    assert {r.attempts for r in await Delivery.filter(id__in=rows)} == {1}  # a 429 is not the message's attempt


async def test_slack_429_waits_too(
    database: str, slack_sandbox: SlackSandbox, slack_channel: SlackChannel, make: Any
) -> None:
    slack_sandbox.add_user(TEAM, "U0ANN0001")
    (customer,) = await add_customers("slack", [f"{TEAM}:U0ANN0001"])
    rows = await add_deliveries(await add_campaign(), "slack", [(customer, f"{TEAM}:U0ANN0001")])
    slack_sandbox.fail_next("chat.postMessage", status=429, retry_after=30)
    stats = await make({"slack": slack_channel}).drain()
    assert (
        await statuses(rows) == ["sent"] and stats.rate_limited == 1 and len(slack_sandbox.dm(TEAM, "U0ANN0001")) == 1
    )


async def test_server_errors_back_off_with_jitter_then_succeed(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, clock: Clock[datetime], make: Any
) -> None:
    (customer,) = await add_customers("telegram", ["2001"])
    (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "2001")])
    telegram_sandbox.fail_next(502, "Bad Gateway")
    telegram_sandbox.fail_next(500, "Internal Server Error")
    started = time.monotonic()
    stats = await make({"telegram": TelegramChannel(telegram_bot)}, backoff_base=10).drain()
    assert time.monotonic() - started < 5  # the backoff ran on the fake clock
    delivered = await Delivery.get(id=row)
    assert delivered.status == "sent" and delivered.attempts == 3 and stats.requeued == 2
    assert 5 <= clock.slept[0] <= 10 and 10 <= clock.slept[1] <= 20  # equal jitter: half to all of 10 * 2**(n-1)
    assert len(telegram_sandbox.sent(2001)) == 1


async def test_a_drain_that_does_not_wait_leaves_the_retry_to_its_moment(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, clock: Clock[datetime], make: Any
) -> None:
    """A rehearsal's clock moves only between its moments: the drain returns, and the retry is due later."""
    (customer,) = await add_customers("telegram", ["2003"])
    (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "2003")])
    telegram_sandbox.fail_next(502, "Bad Gateway")
    dispatcher = make({"telegram": TelegramChannel(telegram_bot)}, backoff_base=10)
    stats = await dispatcher.drain(wait=False)
    waiting = await Delivery.get(id=row)
    assert stats.requeued == 1 and clock.slept == [] and waiting.status == "queued" and waiting.next_attempt_at
    assert await outbox.next_due(clock.now, ["telegram"]) == waiting.next_attempt_at > clock.now
    clock.now = waiting.next_attempt_at
    assert (await dispatcher.drain(wait=False)).sent == 1 and len(telegram_sandbox.sent(2003)) == 1


async def test_transient_errors_give_up_after_max_attempts(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, make: Any
) -> None:
    (customer,) = await add_customers("telegram", ["2002"])
    (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "2002")])
    for _ in range(3):
        telegram_sandbox.fail_next(502, "Bad Gateway")
    stats = await make({"telegram": TelegramChannel(telegram_bot)}, max_attempts=3).drain()
    delivered = await Delivery.get(id=row)
    assert delivered.status == "failed" and delivered.attempts == 3 and "gave up after 3" in (delivered.error or "")
    assert stats.failed == 1 and telegram_sandbox.sent(2002) == []


async def test_a_timeout_is_unknown_and_never_retried(database: str, make: Any) -> None:
    async with TelegramSandbox(fault_rate=1.0, fault="timeout", timeout_delay=0.3) as slow:
        bot = build_bot(slow.token, api_url=slow.base_url, timeout=0.1)
        (customer,) = await add_customers("telegram", ["2003"])
        (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "2003")])
        dispatcher = make({"telegram": TelegramChannel(bot)})
        assert await dispatcher.run_once() == 1
        slow.fault_rate = 0.0
        await dispatcher.drain()
        await bot.session.close()
        row_after = await Delivery.get(id=row)
        # the slow server carries out the call late: a retry would send it twice; at most once, so unknown
        assert row_after.status == "unknown" and row_after.attempts == 1 and len(slow.sent(2003)) <= 1
        assert "may have been delivered" in (row_after.error or "")


async def test_an_unreachable_customer_is_skipped_everywhere_on_that_channel(
    database: str,
    telegram_sandbox: TelegramSandbox,
    telegram_bot: Bot,
    slack_sandbox: SlackSandbox,
    slack_channel: SlackChannel,
    make: Any,
) -> None:
    slack_sandbox.add_user(TEAM, "U0BOB0001")
    slack_sandbox.deactivate(TEAM, "U0BOB0001")
    tg = await add_customers("telegram", ["3001", "3002"])
    (sl,) = await add_customers("slack", [f"{TEAM}:U0BOB0001"], first_id=50)
    telegram_sandbox.block(3001, "not_found")  # a chat that is gone, not a person who left: unreachable, not opted out
    first, second = await add_campaign("a"), await add_campaign("b")
    rows = await add_deliveries(first, "telegram", list(zip(tg, ["3001", "3002"], strict=True)))
    rows += await add_deliveries(first, "slack", [(sl, f"{TEAM}:U0BOB0001")])
    later = await add_deliveries(second, "telegram", [(tg[0], "3001")], due_at=datetime(2025, 5, 2, tzinfo=UTC))
    stats = await make({"telegram": TelegramChannel(telegram_bot), "slack": slack_channel}).drain()
    assert await statuses(rows + later) == ["skipped", "sent", "skipped", "skipped"]
    notes = {d.customer_id: d.note for d in await Delivery.filter(status="skipped")}
    assert notes == {tg[0]: "unreachable", sl: "deactivated"}  # Bob's account is gone: opted out (test_blocked.py)
    identities = {i.address: i for i in await ChannelIdentity.all()}
    assert not identities["3001"].reachable and "chat not found" in (identities["3001"].last_error or "")
    assert not identities[f"{TEAM}:U0BOB0001"].reachable and identities["3002"].reachable
    assert stats.skipped == 3 and telegram_sandbox.sent(3001) == [] and slack_sandbox.dm(TEAM, "U0BOB0001") == []


async def test_a_permanent_error_fails_the_row(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, make: Any
) -> None:
    (customer,) = await add_customers("telegram", ["4001"])
    (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "4001")])
    telegram_sandbox.fail_next(400, "Bad Request: message is too long")
    stats = await make({"telegram": TelegramChannel(telegram_bot)}).drain()
    delivered = await Delivery.get(id=row)
    assert delivered.status == "failed" and "too long" in (delivered.error or "") and stats.failed == 1


async def test_a_migrated_chat_is_followed(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, make: Any
) -> None:
    (customer,) = await add_customers("telegram", ["-4002"])
    (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "-4002")])
    telegram_sandbox.migrate(-4002, -1004002)
    await make({"telegram": TelegramChannel(telegram_bot)}).drain()
    delivered = await Delivery.get(id=row)
    assert delivered.status == "sent" and delivered.address == "-1004002" and len(telegram_sandbox.sent(-1004002)) == 1
    assert await ChannelIdentity.filter(address="-1004002", customer_id=customer).exists()


async def test_an_opt_out_after_planning_takes_effect(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, make: Any
) -> None:
    customers = await add_customers("telegram", ["5001", "5002"])
    rows = await add_deliveries(await add_campaign(), "telegram", list(zip(customers, ["5001", "5002"], strict=True)))
    await Customer.filter(id=customers[0]).update(opted_out_at=datetime.now(UTC))
    stats = await make({"telegram": TelegramChannel(telegram_bot)}).drain()
    assert await statuses(rows) == ["skipped", "sent"] and stats.skipped == 1 and telegram_sandbox.sent(5001) == []
    assert (await Delivery.get(id=rows[0])).note == "opted_out"


@pytest.mark.parametrize("status", ["paused", "cancelled", "draft", "planned"])
async def test_only_running_campaigns_are_sent(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, make: Any, status: str
) -> None:
    (customer,) = await add_customers("telegram", ["6001"])
    rows = await add_deliveries(await add_campaign(status=status), "telegram", [(customer, "6001")])
    assert (await make({"telegram": TelegramChannel(telegram_bot)}).drain()).sent == 0
    assert await statuses(rows) == ["queued"] and telegram_sandbox.sent(6001) == []


async def test_rows_not_yet_due_wait(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, clock: Clock[datetime], make: Any
) -> None:
    customers = await add_customers("telegram", ["6101", "6102"])
    campaign = await add_campaign()
    soon = await add_deliveries(campaign, "telegram", [(customers[0], "6101")], due_at=clock.now)
    later = await add_deliveries(campaign, "telegram", [(customers[1], "6102")], due_at=clock.now + timedelta(hours=1))
    await make({"telegram": TelegramChannel(telegram_bot)}).drain()
    assert await statuses(soon + later) == ["sent", "queued"]
    assert await outbox.next_due(clock.now, ["telegram"]) == clock.now + timedelta(hours=1)
    assert (await Campaign.get(id=campaign)).status == "running"


async def test_the_error_ceiling_pauses_a_runaway_campaign(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, make: Any
) -> None:
    customers = await add_customers("telegram", chats(60, first=7001))
    campaign = await add_campaign()
    rows = await add_deliveries(campaign, "telegram", list(zip(customers, chats(60, first=7001), strict=True)))
    for _ in range(12):
        telegram_sandbox.fail_next(400, "Bad Request: can't parse entities")
    stats = await make({"telegram": TelegramChannel(telegram_bot)}, batch=10, error_min=20).drain()
    assert (await Campaign.get(id=campaign)).status == "paused" and stats.paused == [campaign]
    counts = await outbox.campaign_counts(campaign)
    assert counts["failed"] == 12 and counts["sent"] == 8 and counts["queued"] == 40
    (event,) = await Event.filter(type="campaign_paused")
    assert event.campaign_id == campaign and "12 of 20" in str(event.data["reason"])
    assert len(rows) == 60


async def test_leftovers_of_a_dead_worker_in_flight_become_unknown_and_the_rest_are_released(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, clock: Clock[datetime], make: Any
) -> None:
    customers = await add_customers("telegram", chats(8, first=8001))
    campaign = await add_campaign()
    pairs = list(zip(customers, chats(8, first=8001), strict=True))
    flying = await add_deliveries(campaign, "telegram", pairs[:2], status="sending", claimed_by="w1")
    waiting = await add_deliveries(campaign, "telegram", pairs[2:3], status="claimed", claimed_by="w1", attempts=1)
    old = clock.now - timedelta(hours=1)
    theirs = await add_deliveries(campaign, "telegram", pairs[3:5], step="s0", status="sending", claimed_by="w9",
                                  claimed_at=old)  # fmt: skip
    their_waiting = await add_deliveries(campaign, "telegram", pairs[5:6], step="s0", status="claimed",
                                         claimed_by="w9", claimed_at=old, attempts=1)  # fmt: skip
    queued = await add_deliveries(campaign, "telegram", pairs[6:])
    stats = await make({"telegram": TelegramChannel(telegram_bot)}).drain()  # w1's next life
    assert stats.unknown == 2 and stats.released == 1 and stats.sent == 3
    assert await statuses(flying + waiting + queued) == ["unknown", "unknown", "sent", "sent", "sent"]
    assert await statuses(theirs + their_waiting) == ["sending", "sending", "claimed"]  # w9's: not w1's to judge
    assert await outbox.recover(older_than=clock.now - timedelta(minutes=5)) == outbox.Recovered(1, 2)
    assert await statuses(theirs + their_waiting) == ["unknown", "unknown", "queued"]
    assert all(telegram_sandbox.sent(int(c)) == [] for c in chats(2, first=8001) + chats(2, first=8004))
    assert (await Campaign.get(id=campaign)).status == "running"  # finished by the next drain, not this one
    await make({"telegram": TelegramChannel(telegram_bot)}).drain()
    assert await statuses(their_waiting) == ["sent"] and len(telegram_sandbox.sent(8006)) == 1
    assert (await Delivery.get(id=their_waiting[0])).attempts == 1  # the claim that never sent was not an attempt


async def test_two_dispatchers_at_once_never_send_a_row_twice(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, make: Any
) -> None:
    addresses = chats(400, first=9001)
    customers = await add_customers("telegram", addresses)
    campaign = await add_campaign()
    await add_deliveries(campaign, "telegram", list(zip(customers, addresses, strict=True)))
    both_claimed = asyncio.Barrier(2)

    class Meeting:
        """Telegram, except that each dispatcher's first send waits until the other has claimed rows too: both
        then send side by side, whichever one the scheduler happened to run first."""

        def __init__(self) -> None:
            self.inner, self.met = TelegramChannel(telegram_bot), False
            self.name, self.limits = self.inner.name, self.inner.limits

        async def send(self, message: OutboundMessage) -> SendReceipt:
            if not self.met:
                self.met = True
                async with asyncio.timeout(60):  # the other never claiming anything fails here, not hangs
                    await both_claimed.wait()
            return await self.inner.send(message)

    one = make({"telegram": Meeting()}, worker="one", batch=16)
    two = make({"telegram": Meeting()}, worker="two", batch=16)
    first, second = await asyncio.gather(one.drain(), two.drain())
    assert first.sent + second.sent == 400 and first.sent and second.sent
    assert all(len(telegram_sandbox.sent(int(a))) == 1 for a in addresses)
    workers = Counter(await Delivery.filter(status="sent").values_list("claimed_by", flat=True))
    assert workers["one"] == first.sent and workers["two"] == second.sent


async def test_the_channel_rate_is_kept(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot, make: Any
) -> None:
    addresses = chats(12, first=9501)
    customers = await add_customers("telegram", addresses)
    await add_deliveries(await add_campaign(), "telegram", list(zip(customers, addresses, strict=True)))
    dispatcher = make({"telegram": TelegramChannel(telegram_bot)}, rates={"telegram": 40.0})  # per chat: Telegram's 1/s
    started = time.monotonic()
    assert (await dispatcher.drain()).sent == 12
    assert time.monotonic() - started >= 0.2  # 4 at once, then 8 at 40/s


async def test_the_service_loop_stops_when_told(
    database: str, telegram_sandbox: TelegramSandbox, telegram_bot: Bot
) -> None:
    (customer,) = await add_customers("telegram", ["9901"])
    (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "9901")])
    inner, sent = TelegramChannel(telegram_bot), asyncio.Event()

    class Noting:
        name, limits = inner.name, inner.limits

        async def send(self, message: OutboundMessage) -> SendReceipt:
            receipt = await inner.send(message)
            sent.set()
            return receipt

    dispatcher = Dispatcher({"telegram": Noting()}, worker="svc", rates=NO_LIMITS, poll_interval=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(dispatcher.run(stop))
    await asyncio.wait_for(sent.wait(), 5)
    stop.set()
    stats = await asyncio.wait_for(task, 5)
    assert stats.sent == 1 and (await Delivery.get(id=row)).status == "sent"


class BrokenChannel:
    """An adapter with a bug: its send raises an error outside the channel error tree."""

    name = "telegram"
    limits = ChannelLimits(4096, None, None, 30.0, 1.0)

    async def send(self, message: OutboundMessage) -> SendReceipt:
        raise KeyError("chat_id")


async def test_an_adapters_bug_is_logged_with_its_traceback(
    database: str, make: Any, caplog: pytest.LogCaptureFixture
) -> None:
    (customer,) = await add_customers("telegram", ["2004"])
    (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "2004")])
    with caplog.at_level("ERROR", logger="campaigns.delivery.dispatcher"):
        assert await make({"telegram": BrokenChannel()}).run_once() == 1
    (record,) = [r for r in caplog.records if "unexpected" in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is KeyError
    assert "KeyError: 'chat_id'" in caplog.text and "Traceback" in caplog.text
    assert (await Delivery.get(id=row)).status == "unknown"  # it may have gone out: never sent twice
