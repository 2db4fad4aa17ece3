"""Faults on purpose: a broadcast through a Bot API sandbox that answers 20% of calls with a 429, a 5xx, a timeout
(the call carried out late) or a dropped connection; Redis away under the shared rate limits; every PostgreSQL
connection killed mid-broadcast, as a server restart does to its clients.

In every case: each chat gets the message at most once, every row ends final (sent, or unknown where the
platform may have carried the call out, or failed after its retries), and unknown rows are no more than the
ambiguous faults. ``CHATCAST_RELIABILITY=long`` sends ten times as many.
"""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bots.telegram.app import build_bot
from bots.telegram.channel import TelegramChannel
from bots.telegram.sandbox.server import TelegramSandbox
from campaigns.delivery.dispatcher import Dispatcher
from campaigns.delivery.limits import FALLBACK_RATE, SharedThrottle
from campaigns.ports import OutboundMessage, SendReceipt
from storage import outbox
from storage.models import Delivery
from tests.fakes.dispatch_worker import add_campaign, add_customers, add_deliveries
from tests.fakes.environment import LONG, PG_URL

ROWS = 1000 if LONG else 100
RATES = {"telegram": 1000.0, "telegram/chat": 1000.0}
FINAL = {"sent", "unknown", "failed", "skipped"}
REPORT: dict[str, object] = {}


async def _broadcast(rows: int, first_chat: int) -> list[str]:
    chats = [str(first_chat + n) for n in range(rows)]
    customers = await add_customers("telegram", chats, first_id=first_chat)
    await add_deliveries(await add_campaign(), "telegram", list(zip(customers, chats, strict=True)))
    return chats


def _check(sandbox: TelegramSandbox, chats: list[str], statuses: Counter[str]) -> Counter[int]:
    per_chat = Counter({int(c): len(sandbox.sent(int(c))) for c in chats})
    assert max(per_chat.values()) <= 1, "a chat got the message twice"
    assert set(statuses) <= FINAL and sum(statuses.values()) == len(chats), statuses
    return per_chat


@pytest.mark.slow
async def test_a_broadcast_through_429s_5xx_timeouts_and_disconnects_at_20_percent(database: str) -> None:
    # the client's timeout is long enough that only an injected timeout trips it, even on a loaded machine
    async with TelegramSandbox(fault_rate=0.2, fault="mixed", timeout_delay=3.0, seed=7) as sandbox:
        bot = build_bot(sandbox.token, api_url=sandbox.base_url, timeout=2.0)
        chats = await _broadcast(ROWS, 40_000_000)
        dispatcher = Dispatcher({"telegram": TelegramChannel(bot)}, worker="faults", rates=RATES, backoff_base=0.05,
                                backoff_max=0.2, max_attempts=8)  # fmt: skip
        await dispatcher.drain()
        await bot.session.close()
        statuses = Counter(await Delivery.all().values_list("status", flat=True))
        per_chat = _check(sandbox, chats, statuses)
        ambiguous = sandbox.faults.get("timeout", 0) + sandbox.faults.get("disconnect", 0)
        assert sum(sandbox.faults.values()) >= ROWS // 10  # the faults happened
        assert statuses["unknown"] <= ambiguous  # only a call that may have been carried out is left unknown
        assert statuses["sent"] >= ROWS - ambiguous - statuses["failed"] and statuses["failed"] <= ROWS // 50
        sent_ids = set(await Delivery.filter(status="sent").values_list("address", flat=True))
        assert all(per_chat[int(chat)] == 1 for chat in sent_ids)  # every row marked sent was delivered
        REPORT["faults"] = dict(sandbox.faults) | dict(statuses)


@pytest.mark.slow
async def test_without_redis_the_shared_limits_fail_safe_slower_never_faster(database: str) -> None:
    async with TelegramSandbox() as sandbox:
        bot = build_bot(sandbox.token, api_url=sandbox.base_url, timeout=5)
        chats = await _broadcast(4, 41_000_000)
        dispatcher = Dispatcher(
            {"telegram": TelegramChannel(bot)}, worker="no-redis", shared_limits="redis://127.0.0.1:1/0"
        )
        stats = await dispatcher.drain()
        await bot.session.close()
        throttle = dispatcher.throttles["telegram"]
        assert isinstance(throttle, SharedThrottle)
        assert stats.sent == 4 and throttle.fallbacks == 4  # every send paced locally while Redis was away
        assert throttle.fallback.overall_rate == FALLBACK_RATE <= 1.0 < 30  # far under the bot's 30/s
        _check(sandbox, chats, Counter(await Delivery.all().values_list("status", flat=True)))


class Killer:
    """The Telegram channel, killing every connection of the test database after its ``after``-th send."""

    def __init__(self, inner: TelegramChannel, database: str, after: int) -> None:
        self.inner, self.name, self.limits = inner, inner.name, inner.limits
        self.database, self.after, self.sends, self.killed = database.rsplit("/", 1)[1], after, 0, 0
        self.done = asyncio.Event()

    async def send(self, message: OutboundMessage) -> SendReceipt:
        receipt = await self.inner.send(message)
        self.sends += 1
        if self.sends == self.after:
            self.killed = await self.strike()
            self.done.set()
        return receipt

    async def strike(self) -> int:
        """Kill the database's connections; how many."""
        admin = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1))
        killed: int = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            self.database,
        )
        await admin.close()
        return killed


async def test_every_database_connection_killed_mid_broadcast(database: str) -> None:
    if not database.startswith("postgres"):
        pytest.skip("kills PostgreSQL backends (SQLite has no server to lose)")
    async with TelegramSandbox() as sandbox:
        bot = build_bot(sandbox.token, api_url=sandbox.base_url, timeout=5)
        chats = await _broadcast(ROWS, 42_000_000)
        channel = Killer(TelegramChannel(bot), database, after=ROWS // 4)
        stop = asyncio.Event()
        dispatcher = Dispatcher({"telegram": channel}, worker="pg-restart", rates=RATES, poll_interval=0.05, batch=16)
        running = asyncio.create_task(dispatcher.run(stop))
        await asyncio.wait_for(channel.done.wait(), 60)
        dispatcher.idle.clear()
        await asyncio.wait_for(dispatcher.idle.wait(), 60)  # the loop got its database back and ran dry
        stop.set()
        stats = await asyncio.wait_for(running, 60)
        # the claim timeout, at once: in flight -> unknown, claimed but never sent -> released, and sent now
        await outbox.recover(older_than=datetime.now(UTC))
        await Dispatcher({"telegram": TelegramChannel(bot)}, worker="after", rates=RATES).drain()
        await bot.session.close()
        statuses = Counter(await Delivery.all().values_list("status", flat=True))
        _check(sandbox, chats, statuses)
        assert channel.killed >= 1 and statuses["unknown"] <= dispatcher.batch  # at most the batch in flight
        assert statuses["sent"] >= ROWS - dispatcher.batch
        REPORT["database"] = {"connections_killed": channel.killed, "database_errors": stats.database_errors} | dict(
            statuses
        )


class Restarter(Killer):
    """The Telegram channel, restarting the PostgreSQL server itself after its ``after``-th send."""

    async def strike(self) -> int:
        """Restart the server; 1 when it restarted."""
        version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
        proc = await asyncio.create_subprocess_exec(
            "pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        return int(await proc.wait() == 0)


@pytest.mark.slow
@pytest.mark.skipif(not LONG, reason="restarts the machine's PostgreSQL server: long form only")
async def test_the_postgresql_server_restarted_mid_broadcast(database: str) -> None:
    if not database.startswith("postgres") or not Path("/etc/postgresql").is_dir() or not shutil.which("pg_ctlcluster"):
        pytest.skip("needs a local PostgreSQL cluster this test may restart (pg_ctlcluster)")
    async with TelegramSandbox() as sandbox:
        bot = build_bot(sandbox.token, api_url=sandbox.base_url, timeout=5)
        chats = await _broadcast(ROWS, 43_000_000)
        channel = Restarter(TelegramChannel(bot), database, after=ROWS // 4)
        stop = asyncio.Event()
        dispatcher = Dispatcher({"telegram": channel}, worker="pg-restart", rates=RATES, poll_interval=0.05, batch=16)
        running = asyncio.create_task(dispatcher.run(stop))
        await asyncio.wait_for(channel.done.wait(), 120)
        assert channel.killed == 1, "pg_ctlcluster restart failed"
        dispatcher.idle.clear()
        await asyncio.wait_for(dispatcher.idle.wait(), 120)
        stop.set()
        stats = await asyncio.wait_for(running, 60)
        await outbox.recover(older_than=datetime.now(UTC))  # as above: the released rows are sent afterwards
        await Dispatcher({"telegram": TelegramChannel(bot)}, worker="after", rates=RATES).drain()
        await bot.session.close()
        statuses = Counter(await Delivery.all().values_list("status", flat=True))
        _check(sandbox, chats, statuses)
        assert statuses["unknown"] <= dispatcher.batch and statuses["sent"] >= ROWS - dispatcher.batch
        REPORT["server_restart"] = {"database_errors": stats.database_errors} | dict(statuses)


def test_the_fault_figures() -> None:
    print(f"\nfaults: {REPORT}")
