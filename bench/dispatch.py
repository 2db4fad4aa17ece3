"""End-to-end dispatch: claim, send through ``TelegramChannel`` to the Bot API sandbox in another process, record.

    python bench/dispatch.py                          # SQLite: 20,000 rows, limits off; then 20 s at 30/s
    python bench/dispatch.py --rows 5000 --limited-seconds 10 --batch 128
    python bench/dispatch.py --backends sqlite,postgres --postgres-url postgres://postgres@127.0.0.1:5432/postgres

Two runs per backend, each on a fresh database and a fresh sandbox (``chatcast sandbox telegram``, its own
process):

* unlimited: the platform limits off on both sides (as with paid broadcasts): deliveries/s of ``drain()``
  over ``--rows`` queued rows to distinct chats. Target: >= 1,000/s on SQLite in one process.
* limited: the sandbox enforces Telegram's 30 messages/s (and 1/s per chat) and answers 429 past it; the
  dispatcher keeps the channel's own limits. Target: the achieved rate within 5% of 30/s, and no 429.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/segments.py must not shadow the package
from results import record  # noqa: E402

TOKEN = "123456:SANDBOX"
TEXT = "Spring sale: 20% off everything until Sunday. Tap below to see the offers & pick yours!"
BUTTONS = [{"text": "Shop now", "url": "https://shop.example/spring"}, {"text": "Stop", "action": "stop"}]
FIRST_CHAT = 100_000_000
TARGET, LIMIT, TOLERANCE = 1000.0, 30.0, 0.05


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def sandbox(rate_limits: bool, log: Path) -> Iterator[str]:
    """A Telegram sandbox in its own process; its base URL; killed at the end."""
    port = free_port()
    args = [sys.executable, "-c", "from chatcast.cli import main; main()", "sandbox", "telegram"]
    args += ["--port", str(port), "--token", TOKEN] + (["--rate-limits"] if rate_limits else [])
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the sandbox exited:\n{log.read_text(errors='replace')}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise SystemExit("the sandbox did not start within 60 s")
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def too_many(url: str) -> int:
    """How many 429s the sandbox answered."""
    with urllib.request.urlopen(f"{url}/sandbox", timeout=30) as response:
        summary = json.load(response)
    return sum(1 for _, code, _ in summary["errors"] if code == 429)


@contextlib.asynccontextmanager
async def database(backend: str, folder: Path, pg_url: str) -> AsyncIterator[str]:
    """A fresh, migrated, connected database on ``backend``; its URL."""
    import asyncpg

    from storage import db

    if backend == "sqlite":
        url = f"sqlite://{folder / f'bench-{uuid.uuid4().hex[:6]}.sqlite3'}"
    else:
        name = f"chatcast_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(pg_url.replace("postgres://", "postgresql://", 1))
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = pg_url.rsplit("/", 1)[0] + "/" + name
    await db.upgrade(url)
    await db.connect(url)
    try:
        yield url
    finally:
        await db.close()
        if backend != "sqlite":
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


async def seed(rows: int) -> None:
    """A running campaign with ``rows`` queued deliveries to distinct chats."""
    from datetime import UTC, datetime

    from storage.models import Campaign, ChannelIdentity, Customer, Delivery

    now = datetime.now(UTC)
    ids = range(1, rows + 1)
    await Customer.bulk_create([Customer(id=i, external_id=f"c{i}", opted_in_at=now) for i in ids], batch_size=2000)
    chats = [str(FIRST_CHAT + i) for i in ids]
    await ChannelIdentity.bulk_create(
        [ChannelIdentity(customer_id=i, channel="telegram", address=a) for i, a in zip(ids, chats, strict=True)],
        batch_size=2000,
    )
    campaign = await Campaign.create(key="bench", yaml="", yaml_hash="", status="running")
    common = {"campaign_id": campaign.id, "step": "s1", "channel": "telegram", "text": TEXT, "buttons": BUTTONS}
    await Delivery.bulk_create(
        [Delivery(customer_id=i, address=a, status="queued", **common) for i, a in zip(ids, chats, strict=True)],
        batch_size=2000,
    )


async def bare(url: str, rows: int, concurrency: int) -> float:
    """The ceiling on this machine: bare aiogram ``send_message`` calls (the same text and keyboard, ``concurrency``
    in flight) to the same sandbox, no database; sends/s."""
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    from bots.telegram.app import build_bot
    from chatcast.engine import tuned_gc

    bot = build_bot(TOKEN, api_url=url, timeout=30)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Shop now", url="https://shop.example/spring")],
            [InlineKeyboardButton(text="Stop", callback_data="a:1:s1:stop")],
        ]
    )
    chats = iter(range(rows))

    async def worker() -> None:
        for i in chats:
            await bot.send_message(FIRST_CHAT + 10 * rows + i, TEXT, reply_markup=markup)

    try:
        with tuned_gc():
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return rows / (time.perf_counter() - started)
    finally:
        await bot.session.close()


async def run(backend: str, limited: bool, rows: int, batch: int, folder: Path, pg_url: str) -> dict[str, Any]:
    """One timed drain; its figures."""
    from bots.telegram.app import build_bot
    from bots.telegram.channel import TelegramChannel
    from campaigns.delivery.dispatcher import Dispatcher
    from chatcast.engine import tuned_gc
    from storage import outbox

    rates = None if limited else {"telegram": 0.0, "telegram/chat": 0.0}
    with sandbox(limited, folder / f"sandbox-{backend}-{limited}.log") as url:
        async with database(backend, folder, pg_url):
            await seed(rows)
            bot = build_bot(TOKEN, api_url=url, timeout=30)
            dispatcher = Dispatcher({"telegram": TelegramChannel(bot)}, worker="bench", batch=batch, rates=rates)
            try:
                with tuned_gc():
                    cpu, started = time.process_time(), time.perf_counter()
                    stats = await dispatcher.drain()
                    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            finally:
                await bot.session.close()
            counts = await outbox.campaign_counts(1)
        ceiling = None if limited else await bare(url, rows, batch)
        return {
            "seconds": seconds,
            "cpu": cpu,
            "stats": stats,
            "counts": counts,
            "429s": too_many(url),
            "bare": ceiling,
        }


def main() -> None:
    """Run both measurements on each backend and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000, help="rows of the unlimited run")
    parser.add_argument("--limited-seconds", type=float, default=20.0, help="length of the 30/s run")
    parser.add_argument("--batch", type=int, default=128, help="rows claimed per batch (and sends in flight)")
    parser.add_argument("--backends", default="sqlite", help="comma-separated: sqlite, postgres")
    default_pg = os.environ.get("CHATCAST_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--postgres-url", default=default_pg, help="a server to create a scratch database on")
    args = parser.parse_args()
    limited_rows = round(LIMIT * args.limited_seconds)
    print(
        f"{args.rows:,} rows unlimited, {limited_rows} rows at {LIMIT:g}/s; batch {args.batch}; {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="chatcast-dispatch-") as tmp:
        for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
            for limited, rows in ((False, args.rows), (True, limited_rows)):
                r = asyncio.run(run(backend, limited, rows, args.batch, Path(tmp), args.postgres_url))
                rate, s = r["stats"].sent / r["seconds"], r["stats"]
                print(
                    f"{backend:<8} {'30/s' if limited else 'no limits':<9} sent {s.sent:>6,} in {r['seconds']:6.2f} s "
                    f"= {rate:8,.1f}/s  (client CPU {r['cpu']:.1f} s; failed {s.failed}, requeued {s.requeued}, "
                    f"429s {r['429s']}, rows {r['counts']})"
                )
                if limited:
                    ok = abs(rate - LIMIT) <= LIMIT * TOLERANCE and r["429s"] == 0
                    print(f"  target: within 5% of {LIMIT:g}/s with no 429: {'met' if ok else 'NOT met'}")
                    record(
                        "dispatch",
                        f"rate-limited send ({backend})",
                        round(rate, 1),
                        "msg/s",
                        f"{LIMIT:g}/s +-5%, no 429",
                        ok,
                    )
                else:
                    print(
                        f"  bare aiogram send_message to the same sandbox (no database, same text and keyboard):"
                        f" {r['bare']:,.1f}/s; the engine reaches {rate / r['bare']:.0%} of it"
                    )
                    record(
                        "dispatch",
                        f"unlimited send ({backend})",
                        round(rate),
                        "msg/s",
                        f">= {TARGET:,.0f}/s" if backend == "sqlite" else "",
                        rate >= TARGET if backend == "sqlite" else None,
                    )
                    record("dispatch", f"bare aiogram to the same sandbox ({backend})", round(r["bare"]), "msg/s")
                    if backend == "sqlite":
                        print(f"  target: >= {TARGET:,.0f}/s on SQLite: {'met' if rate >= TARGET else 'NOT met'}")


if __name__ == "__main__":
    main()
