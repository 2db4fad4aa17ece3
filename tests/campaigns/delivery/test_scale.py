"""Scale-out on PostgreSQL and Redis: three ``chatcast serve --role worker`` processes send one campaign to a
Telegram sandbox that enforces the Bot API's 30 messages a second; one worker is SIGKILLed midway.

No chat may receive the message twice, the sandbox may answer no 429 (the workers share the bot's limit in
Redis), every row ends final, and only the killed worker's batch in flight may be unknown. One of the workers
holds the scheduler lease; killing it hands the lease on (its housekeeping then expires the dead claims).
``CHATCAST_SCALE_ROWS`` makes the run longer (10000: about six minutes at 30/s).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from storage.models import Delivery
from tests.fakes.dispatch_worker import TOKEN, add_campaign, add_customers, add_deliveries
from tests.fakes.environment import REDIS_URL, redis_up
from tests.fakes.sandboxes import CountingSandbox

pytestmark = pytest.mark.slow

ROWS = int(os.environ.get("CHATCAST_SCALE_ROWS", "600"))
WORKERS = 3
FIRST_CHAT = 20_000_000
RATE = 30


async def worker(n: int, database: str, api_url: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "CHATCAST_DATABASE_URL": database,
        "CHATCAST_TELEGRAM_BOT_TOKEN": TOKEN,
        "CHATCAST_TELEGRAM_API_URL": api_url,
        "CHATCAST_REDIS_URL": REDIS_URL,
        "CHATCAST_CLAIM_TIMEOUT_SECONDS": "15",  # longer than a batch takes
        "CHATCAST_HOUSEKEEPING_SECONDS": "1",
        "CHATCAST_SEGMENTS_FILE": str(log.parent / "no-segments.yaml"),
    }
    with open(log, "ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-c", "from chatcast.cli import main; main()",
            "serve", "--role", "worker", "--port", "0", "--worker", f"worker-{n}",
            env=env, stdout=out, stderr=out,
        )  # fmt: skip


async def all_final(campaign: int, within: float) -> dict[str, int]:
    """Poll the outbox (another process's work: there is no event to await) until no row is left to send."""
    async with asyncio.timeout(within):
        while True:
            statuses = Counter(await Delivery.filter(campaign_id=campaign).values_list("status", flat=True))
            if not statuses.keys() & {"queued", "claimed", "sending"}:  # a dead worker's claims come back too
                return dict(statuses)
            await asyncio.sleep(0.5)


async def test_three_workers_share_the_limit_and_survive_a_kill(database: str, tmp_path: Path) -> None:
    if not database.startswith("postgres"):
        pytest.skip("scale-out runs on PostgreSQL (SKIP LOCKED claims); SQLite serves one process")
    if not redis_up():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    chats = [str(FIRST_CHAT + i) for i in range(ROWS)]
    customers = await add_customers("telegram", chats)
    campaign = await add_campaign()
    await add_deliveries(campaign, "telegram", list(zip(customers, chats, strict=True)))
    log = tmp_path / "workers.log"
    async with CountingSandbox(rate_limits=True, global_per_second=RATE, chat_per_second=1) as sandbox:
        procs = [await worker(n, database, sandbox.base_url, log) for n in range(WORKERS)]
        try:
            await asyncio.wait_for(sandbox.reached(ROWS // 3), 120 + ROWS / RATE)
            procs[0].send_signal(signal.SIGKILL)
            assert await procs[0].wait() == -signal.SIGKILL
            statuses = await all_final(campaign, 120 + ROWS / RATE)
        finally:
            for proc in procs[1:]:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
            codes = [await asyncio.wait_for(proc.wait(), 60) for proc in procs[1:]]
        output = log.read_text(errors="replace")
        assert codes == [0] * (WORKERS - 1), output[-3000:]
        received = {chat: len(sandbox.sent(int(chat))) for chat in chats}
        too_many = [e for e in sandbox.errors if e[1] == 429]
        assert sandbox.violations == []
    note = f"{statuses}; {len(too_many)} 429s"
    assert max(received.values()) == 1, note  # no chat got the message twice
    assert too_many == [], note  # three processes kept one bot's 30/s between them
    assert set(statuses) <= {"sent", "unknown"}, note
    assert statuses.get("unknown", 0) <= RATE, note  # at most the killed worker's batch (a second's worth)
    assert statuses.get("unknown", 0) > 0 or sum(received.values()) == ROWS, note
    rows = dict(await Delivery.filter(campaign_id=campaign).values_list("address", "status"))
    assert all(received[chat] == 1 for chat, status in rows.items() if status == "sent"), note
    unknown_delivered = sum(received.values()) - statuses["sent"]  # the kill came after these went out
    assert 0 <= unknown_delivered <= statuses.get("unknown", 0) and sandbox.delivered == sum(received.values()), note
    holders = re.findall(r"scheduler lease taken by (worker-\d)", output)
    assert holders, output[-3000:]  # a worker ran the scheduler (whose housekeeping expired the dead claims)
    if holders[0] == "worker-0":  # the killed worker held the lease: another took it over
        assert len(holders) >= 2 and holders[1] != "worker-0", holders
