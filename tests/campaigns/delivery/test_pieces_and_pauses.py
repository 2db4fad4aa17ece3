"""Resumable pieces and rate-limit pauses per target, through the dispatcher, the real adapters and the sandboxes,
on a fake clock: a 429 on piece k of n resends only pieces k..n; a 429 pauses the chat or workspace it concerns
while the channel's other targets keep flowing; with Redis, every worker heeds the pause."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.channel import SlackChannel, build_client, shared_session
from bots.slack.sandbox.server import SlackSandbox
from bots.telegram.app import build_bot
from bots.telegram.channel import TelegramChannel, pieces
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.delivery.limits import SharedThrottle
from campaigns.ports import Channel, OutboundMessage
from storage import outbox
from storage.models import Delivery
from tests.fakes.clock import Clock
from tests.fakes.dispatch_worker import NO_LIMITS, add_campaign, add_customers, add_deliveries
from tests.fakes.environment import REDIS_URL, redis_up

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
LONG = "\n\n".join(f"Part {n}. " + "Spring is here and so is the sale. " * 100 for n in range(3))  # 3 pieces


@pytest.fixture
def clock() -> Clock[datetime]:
    return Clock(T0)


@pytest.fixture
def make(clock: Clock[datetime]) -> Callable[..., Dispatcher]:
    def build(channels: dict[str, Channel], **options: Any) -> Dispatcher:
        options = {"worker": "w1", "rates": NO_LIMITS, "clock": clock, "sleep": clock.sleep} | options
        return Dispatcher(channels, rng=random.Random(7), **options)

    return build


@pytest.fixture
async def per_chat(telegram_spec: Path, clock: Clock[datetime]) -> AsyncIterator[TelegramSandbox]:
    """The Bot API sandbox answering 429 past Telegram's one message a second per chat, on the test's clock."""
    seconds = lambda: (clock.now - T0).total_seconds()  # noqa: E731
    async with TelegramSandbox(spec=telegram_spec, rate_limits=True, clock=seconds) as sandbox:
        yield sandbox
        assert sandbox.violations == [], sandbox.violations


def unique_team() -> str:
    """A workspace id no other test (or earlier run) has paused in the shared Redis."""
    return "T" + secrets.token_hex(5).upper()


@pytest.fixture
async def workspaces(slack_sandbox: SlackSandbox) -> AsyncIterator[tuple[SlackChannel, str, str]]:
    """The Slack channel with two workspaces, A and B, each with its own client; (channel, team A, team B)."""
    teams = unique_team(), unique_team()
    tokens = {team: slack_sandbox.add_team(team, f"Shop {team}") for team in teams}
    async with shared_session(timeout=5) as session:
        clients = {
            team: build_client(token, base_url=slack_sandbox.base_url, session=session)
            for team, token in tokens.items()
        }

        async def client(team_id: str) -> AsyncWebClient:
            return clients[team_id]

        yield SlackChannel(client), *teams


async def slack_rows(sandbox: SlackSandbox, team: str, users: list[str], first_id: int, **fields: Any) -> list[int]:
    """One row to each user of ``team`` (added to the sandbox), in a campaign of its own."""
    for user in users:
        sandbox.add_user(team, user)
    customers = await add_customers("slack", [f"{team}:{u}" for u in users], first_id=first_id)
    campaign = await add_campaign(f"c{first_id}")
    return await add_deliveries(campaign, "slack", [(c, f"{team}:{u}") for c, u in zip(customers, users, strict=True)])


async def test_a_429_on_piece_k_of_n_resends_only_pieces_k_to_n(
    database: str, per_chat: TelegramSandbox, clock: Clock[datetime], make: Any
) -> None:
    bot = build_bot(per_chat.token, api_url=per_chat.base_url, timeout=5)
    customers = await add_customers("telegram", ["7101", "7102"])
    campaign = await add_campaign()
    (long_row,) = await add_deliveries(campaign, "telegram", [(customers[0], "7101")], text=LONG)
    (short_row,) = await add_deliveries(campaign, "telegram", [(customers[1], "7102")])
    try:
        stats = await make({"telegram": TelegramChannel(bot)}).drain()
    finally:
        await bot.session.close()
    chat = per_chat.sent(7101)
    expected = [piece.text for piece in pieces(OutboundMessage("7101", LONG))]
    # pieces 2 and 3 each met the chat's limit once, and went on the next attempt: every piece once, in order
    assert [m.text for m in chat] == expected and stats.rate_limited == 2 and stats.sent == 2
    row = await Delivery.get(id=long_row)
    assert row.status == "sent" and row.attempts == 1  # a 429 is not the message's attempt
    assert row.pieces == [str(m.message_id) for m in chat] and row.provider_message_id == str(chat[0].message_id)
    assert row.sent_at == T0 + timedelta(seconds=2)
    # the 429s were the chat's: the other chat's message went out at once, during the pause
    assert (await Delivery.get(id=short_row)).sent_at == T0 and len(per_chat.sent(7102)) == 1


class SlowSecondMessage(TelegramSandbox):
    """Carries out every call, but answers the second sendMessage only once ``release`` is set: the bot has given
    up waiting by then, as over a connection that hung after the request went out."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.release, self.messages = asyncio.Event(), 0

    async def call(self, method: str, params: dict[str, Any], *, form: bool = False) -> tuple[int, dict[str, Any]]:
        answer = await super().call(method, params, form=form)
        if method == "sendMessage":
            self.messages += 1
            if self.messages == 2:
                await self.release.wait()
        return answer


async def test_a_piece_that_may_have_gone_leaves_the_row_unknown_with_the_pieces_known_sent(
    database: str, telegram_spec: Path, make: Any
) -> None:
    async with SlowSecondMessage(spec=telegram_spec) as sandbox:
        bot = build_bot(sandbox.token, api_url=sandbox.base_url, timeout=0.2)
        (customer,) = await add_customers("telegram", ["7201"])
        (row,) = await add_deliveries(await add_campaign(), "telegram", [(customer, "7201")], text=LONG)
        try:
            dispatcher = make({"telegram": TelegramChannel(bot)})
            stats = await dispatcher.drain()
            sandbox.release.set()
            assert (await dispatcher.drain()).sent == 0  # never resent: at most once
        finally:
            sandbox.release.set()
            await bot.session.close()
        first, second = sandbox.sent(7201)
        after = await Delivery.get(id=row)
        assert after.status == "unknown" and stats.unknown == 1 and "may have been delivered" in (after.error or "")
        assert after.pieces == [str(first.message_id)]  # piece 1 is known sent; piece 2 may have been
        assert second.text == pieces(OutboundMessage("7201", LONG))[1].text
        assert sandbox.violations == []


async def test_a_429_from_workspace_a_does_not_slow_workspace_b(
    database: str,
    slack_sandbox: SlackSandbox,
    workspaces: tuple[SlackChannel, str, str],
    clock: Clock[datetime],
    make: Any,
) -> None:
    channel, team_a, team_b = workspaces
    a_rows = await slack_rows(slack_sandbox, team_a, ["U0A1", "U0A2", "U0A3"], 1)
    b_rows = await slack_rows(slack_sandbox, team_b, ["U0B1", "U0B2", "U0B3"], 10)
    slack_sandbox.fail_next("chat.postMessage", status=429, retry_after=30)
    dispatcher = make({"slack": channel}, batch=1)
    assert await dispatcher.run_once() == 1  # A's first row meets the 429: workspace A pauses for 30 s
    dispatcher.batch = 10
    stats = await dispatcher.drain()  # one batch: A's other rows and all of B's
    sent_at = {d.id: d.sent_at for d in await Delivery.filter(id__in=a_rows + b_rows)}
    assert {sent_at[i] for i in b_rows} == {T0}  # B's messages went out at once, during A's pause
    assert all(sent_at[i] == T0 + timedelta(seconds=30) for i in a_rows)  # A's, once it ended
    assert clock.slept == [30.0] and stats.rate_limited == 1 and stats.waits == 2 and stats.sent == 6
    for team, users in ((team_a, ["U0A1", "U0A2", "U0A3"]), (team_b, ["U0B1", "U0B2", "U0B3"])):
        assert all(len(slack_sandbox.dm(team, user)) == 1 for user in users)
    assert {d.attempts for d in await Delivery.filter(id__in=a_rows)} == {1}  # a pause is no one's attempt


async def test_two_workers_share_a_pause_through_redis(
    database: str,
    slack_sandbox: SlackSandbox,
    workspaces: tuple[SlackChannel, str, str],
    clock: Clock[datetime],
    make: Any,
) -> None:
    if not redis_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    channel, team_a, team_b = workspaces
    (first,) = await slack_rows(slack_sandbox, team_a, ["U0A1"], 1)
    (second,) = await slack_rows(slack_sandbox, team_a, ["U0A2"], 2)
    (other,) = await slack_rows(slack_sandbox, team_b, ["U0B1"], 3)
    one = make({"slack": channel}, worker="one", batch=1, shared_limits=REDIS_URL)
    two = make({"slack": channel}, worker="two", shared_limits=REDIS_URL)
    slack_sandbox.fail_next("chat.postMessage", status=429, retry_after=30)
    try:
        assert await one.run_once() == 1  # worker one meets the 429 for workspace A
        stats = await two.drain(wait=False)  # worker two knows of it only through Redis
        assert stats.sent == 1 and stats.waits == 1 and slack_sandbox.dm(team_a, "U0A2") == []
        assert slack_sandbox.dm(team_b, "U0B1") and (await Delivery.get(id=other)).status == "sent"
        held = await Delivery.get(id=second)
        assert held.status == "queued" and held.next_attempt_at == T0 + timedelta(seconds=30)
        assert await outbox.next_due(clock.now, ["slack"]) == T0 + timedelta(seconds=30)
        clock.now = T0 + timedelta(seconds=30)  # the pause is over, for both
        assert (await two.drain()).sent == 3  # its totals: B's message, then both of A's
        assert [len(slack_sandbox.dm(team_a, user)) for user in ("U0A1", "U0A2")] == [1, 1]
        assert {d.status for d in await Delivery.filter(id__in=[first, second, other])} == {"sent"}
    finally:
        await one.close()
        await two.close()
        redis = Redis.from_url(REDIS_URL)
        await redis.delete(f"chatcast:slack:pause:{team_a}", f"chatcast:slack:pause:{team_b}")
        await redis.aclose()


async def test_pauses_in_redis_expire_and_a_shorter_one_never_cuts_a_longer_one_short(clock: Clock[datetime]) -> None:
    if not redis_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    name = "test" + secrets.token_hex(4)  # a channel of its own: its whole-channel pause reaches no other test
    one, two = (SharedThrottle(name, None, None, REDIS_URL, clock=clock, sleep=clock.sleep) for _ in range(2))
    redis = Redis.from_url(REDIS_URL)
    try:
        await one.pause(12)  # the whole channel
        await one.pause(40, "T0A")
        await two.pause(5, "T0A")  # a shorter pause of another worker does not end the longer one early
        assert await two.held_until("T0A") == T0 + timedelta(seconds=40) and await two.held_until("T0B") is None
        assert await two.acquire("T0B:U1") == 1 and clock.slept == [12.0]  # the channel's pause, waited out
        for key in (f"chatcast:{name}:pause", f"chatcast:{name}:pause:T0A"):
            assert 0 < await redis.pttl(key) <= 100_000  # gone from Redis a minute after the pause ends
        clock.now = T0 + timedelta(seconds=40)
        assert await one.held_until("T0A") is None and await two.acquire("T0A:U1") == 0
    finally:
        await redis.delete(f"chatcast:{name}:pause", f"chatcast:{name}:pause:T0A")
        await redis.aclose()
        await one.close()
        await two.close()
