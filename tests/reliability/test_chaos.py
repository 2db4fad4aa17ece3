"""Chaos: ``chatcast serve`` processes - each the scheduler (it holds the lease) and a dispatcher - SIGKILLed at
random moments while a broadcast goes out, on SQLite and PostgreSQL, each restarted in its place; at the end one
more process of the same name recovers and drains.

No chat may get the message twice, every row ends final, and unknown rows are at most the kills times the batch in
flight. (A lone dispatcher killed many times: tests/campaigns/delivery/test_crash.py; the scheduler's lease passing to a
surviving worker: tests/campaigns/delivery/test_scale.py.) ``CHATCAST_RELIABILITY=long`` kills ten times as often.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from storage.models import Delivery
from tests.fakes.dispatch_worker import TOKEN, add_campaign, add_customers, add_deliveries
from tests.fakes.environment import LONG
from tests.fakes.sandboxes import CountingSandbox

pytestmark = pytest.mark.slow

WORKER = Path(__file__).resolve().parents[1] / "fakes" / "dispatch_worker.py"
KILLS = 20 if LONG else 2
ROWS = 3000 if LONG else 400
BATCH = 64  # serve's dispatcher batch
REPORT: dict[str, object] = {}


def _env(database: str, sandbox: CountingSandbox, folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATCAST_")}
    return env | {
        "CHATCAST_DATABASE_URL": database, "CHATCAST_DATA_DIR": str(folder), "CHATCAST_TELEGRAM_BOT_TOKEN": TOKEN,
        "CHATCAST_TELEGRAM_API_URL": sandbox.base_url, "CHATCAST_TELEGRAM_RATE_PER_SECOND": "2000",
        "CHATCAST_TELEGRAM_CHAT_RATE_PER_SECOND": "2000", "CHATCAST_SEGMENTS_FILE": str(folder / "none.yaml"),
        "CHATCAST_FEEDBACK_AFTER_DAYS": "",
    }  # fmt: skip


async def _serve_until_killed(sandbox: CountingSandbox, env: dict[str, str], log: Path, mark: int) -> None:
    """One ``serve`` life, SIGKILLed once ``mark`` messages are out."""
    with open(log, "ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chatcast", "serve", "--role", "all", "--port", "0", "--worker", "chaos",
            env=env, stdout=out, stderr=out,
        )  # fmt: skip
    exited = asyncio.ensure_future(proc.wait())
    reached = sandbox.reached(mark)
    done, _ = await asyncio.wait({exited, reached}, timeout=180, return_when=asyncio.FIRST_COMPLETED)
    if reached not in done:
        if exited not in done:
            proc.kill()
        raise AssertionError(f"serve ended or stalled before message {mark}:\n{log.read_text()[-3000:]}")
    proc.send_signal(signal.SIGKILL)
    assert await exited == -signal.SIGKILL


async def test_killed_serve_processes_never_send_twice_and_lose_nothing(database: str, tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    chats = [str(50_000_000 + n) for n in range(ROWS)]
    customers = await add_customers("telegram", chats, first_id=50_000_000)
    campaign = await add_campaign("chaos")
    await add_deliveries(campaign, "telegram", list(zip(customers, chats, strict=True)))
    log = tmp_path / "serve.log"
    async with CountingSandbox() as sandbox:
        env = _env(database, sandbox, tmp_path)
        span = max(1, ROWS // (KILLS + 1))
        for _ in range(KILLS):
            await _serve_until_killed(sandbox, env, log, sandbox.delivered + rng.randint(1, span))
        drain = await asyncio.create_subprocess_exec(
            sys.executable, str(WORKER), database, sandbox.base_url, "--worker", "chaos", "--batch", str(BATCH),
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(drain.communicate(), 180)
        assert drain.returncode == 0, output.decode()[-3000:]
        per_chat = Counter({int(c): len(sandbox.sent(int(c))) for c in chats})
    statuses = Counter(await Delivery.filter(campaign_id=campaign).values_list("status", flat=True))
    note = f"seed {seed}, {KILLS} kills: {dict(statuses)}"
    assert max(per_chat.values()) == 1, note  # no chat got the message twice
    assert set(statuses) <= {"sent", "unknown"} and sum(statuses.values()) == ROWS, note  # nothing lost
    assert statuses["unknown"] <= KILLS * BATCH, note
    assert sum(per_chat.values()) >= statuses["sent"]
    REPORT[database.split(":")[0]] = {"kills": KILLS, "rows": ROWS} | dict(statuses)
    print(f"\nchaos: {REPORT}")
