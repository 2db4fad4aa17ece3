"""Scheduling figures: how late due rows go out, the follow-up sweep over a million deliveries, and dispatch
throughput with one and two ``serve --role worker`` processes on PostgreSQL.

    python bench/schedule.py                       # all three
    python bench/schedule.py --only firing,sweep --sweep-rows 200000

* firing: ``--firing-rows`` rows due at random moments over ten seconds, a running dispatcher (the service
  loop, SQLite) sending to a channel that only notes the time: the delay from each row's due time to its send,
  p50 and p99 (target: p99 <= 1 s).
* sweep: ``--sweep-rows`` sent deliveries (a tenth clicked, a twentieth bought since), one follow-up
  ``after: 2d, when: [not_clicked]`` with ``stop_when: [purchased]``, swept on SQLite and on PostgreSQL: the
  first sweep, which writes the 900,000 new rows (in slices of 50,000 customers), and the next one, which finds
  nothing new, as every later minute's does (target: <= 5 s).
* workers: ``--worker-rows`` queued rows on PostgreSQL, sent to the Telegram sandbox (its own process,
  limits off) by one, then two ``chatcast serve --role worker`` processes; deliveries/s from the first send to
  the last row final (process start-up not counted).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/segments.py must not shadow the package
import dispatch as dispatch_bench  # noqa: E402
from results import record  # noqa: E402

PG_URL = os.environ.get("CHATCAST_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


class NotingChannel:
    """Sends nothing; notes when each message would have gone."""

    name = "telegram"

    def __init__(self) -> None:
        from campaigns.ports import ChannelLimits

        self.limits = ChannelLimits(4096, None, None, 0, 0)
        self.sent: dict[int, datetime] = {}
        self.expected = 0
        self.all_sent = asyncio.Event()

    async def send(self, message: Any) -> Any:
        from campaigns.ports import SendReceipt

        now = datetime.now(UTC)
        self.sent[int(message.idempotency_key.split(":")[1])] = now
        if len(self.sent) >= self.expected:
            self.all_sent.set()
        return SendReceipt((str(len(self.sent)),), now, message.address)


async def firing(rows: int, folder: Path) -> dict[str, float]:
    """Rows due over ten seconds, sent by the service loop: delays in seconds."""
    from campaigns.delivery.dispatcher import Dispatcher
    from storage.models import Campaign, ChannelIdentity, Customer, Delivery

    async with dispatch_bench.database("sqlite", folder, PG_URL):
        now = datetime.now(UTC)
        ids = range(1, rows + 1)
        await Customer.bulk_create([Customer(id=i, external_id=f"c{i}", opted_in_at=now) for i in ids])
        await ChannelIdentity.bulk_create(
            [ChannelIdentity(customer_id=i, channel="telegram", address=str(i)) for i in ids]
        )
        campaign = await Campaign.create(key="firing", yaml="", yaml_hash="", status="running")
        start = now + timedelta(seconds=3)
        rng = random.Random(1)
        due = {i: start + timedelta(seconds=rng.uniform(0, 10)) for i in ids}
        await Delivery.bulk_create(
            [
                Delivery(id=i, campaign_id=campaign.id, step="s", customer_id=i, channel="telegram", address=str(i),
                         status="queued", text="t", due_at=due[i])
                for i in ids
            ]
        )  # fmt: skip
        channel = NotingChannel()
        channel.expected = rows
        stop = asyncio.Event()
        dispatcher = Dispatcher({"telegram": channel}, worker="firing", rates={"telegram": 0.0, "telegram/chat": 0.0})
        task = asyncio.create_task(dispatcher.run(stop))
        await asyncio.wait_for(channel.all_sent.wait(), 120)
        stop.set()
        await task
    delays = sorted((channel.sent[i] - due[i]).total_seconds() for i in ids)
    return {
        "p50": statistics.median(delays),
        "p99": delays[min(len(delays) - 1, int(len(delays) * 0.99))],
        "max": delays[-1],
    }


SWEEP_YAML = {
    "id": "sweep",
    "name": "Sweep",
    "channels": ["telegram"],
    "message": {"brief": "b", "template": "t"},
    "follow_ups": [
        {"id": "reminder", "after": "2d", "when": ["not_clicked"], "message": {"brief": "b", "template": "t"}}
    ],
    "stop_when": ["purchased"],
}


async def sweep_bench(backend: str, rows: int, folder: Path) -> dict[str, float]:
    """Sent deliveries in bulk SQL, then one sweep: its seconds and rows planned."""
    from campaigns.file.definition import Campaign as CampaignModel
    from campaigns.timing.followups import sweep
    from storage.models import Campaign
    from storage.sql import execute

    async with dispatch_bench.database(backend, folder, PG_URL):
        sent = datetime.now(UTC) - timedelta(days=3)
        campaign = await Campaign.create(key="sweep", yaml="", yaml_hash="", status="running")
        series = (
            f"generate_series(1, {rows}) AS g(n)"
            if backend == "postgres"
            else f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows})"
            " SELECT n FROM s) AS g"
        )
        at = "$1" if backend == "postgres" else "?1"
        started = time.perf_counter()
        await execute(
            "INSERT INTO customer (id, external_id, name, language, tags, attributes, created_at)"
            f" SELECT n, 'c' || n, '', 'en', '[]', '{{}}', {at} FROM {series}",
            [sent],
        )
        await execute(
            "INSERT INTO delivery (campaign_id, step, customer_id, channel, address, buttons, status, attempts,"
            f" sent_at, created_at) SELECT {campaign.id}, 'main', n, 'telegram', CAST(n AS TEXT), '[]', 'sent', 1,"
            f" {at}, {at} FROM {series}",
            [sent],
        )
        later = sent + timedelta(hours=5)
        await execute(
            "INSERT INTO event (type, customer_id, campaign_id, at, data)"
            f" SELECT 'clicked', n, {campaign.id}, {at}, '{{}}' FROM {series} WHERE n % 10 = 0",
            [later],
        )
        await execute(
            'INSERT INTO "order" (external_id, customer_id, ordered_at, status, is_return, currency, total)'
            f" SELECT 'o' || n, n, {at}, 'paid', FALSE, 'EUR', 10 FROM {series} WHERE n % 20 = 0",
            [later],
        )
        if backend == "postgres":
            await execute("ANALYZE")
        loaded = time.perf_counter() - started
        definition = CampaignModel.model_validate(SWEEP_YAML)
        started = time.perf_counter()
        result = await sweep(definition, int(campaign.id), now=datetime.now(UTC))
        seconds = time.perf_counter() - started
        started = time.perf_counter()  # the next minute's sweep: everyone due is planned already
        again = await sweep(definition, int(campaign.id), now=datetime.now(UTC))
        steady = time.perf_counter() - started
    return {
        "seconds": seconds, "planned": result.total, "loaded": loaded, "steady": steady, "again": again.total,
        "slices": result.slices, "longest": result.longest,
    }  # fmt: skip


def workers_bench(count: int, rows: int, folder: Path) -> dict[str, float]:
    """``count`` worker processes draining ``rows`` to the sandbox; deliveries/s from the first send."""

    with dispatch_bench.sandbox(False, folder / f"sandbox-{count}.log") as api:
        name = f"chatcast_bench_sched_{count}_{os.getpid()}"
        url = PG_URL.rsplit("/", 1)[0] + "/" + name
        asyncio.run(_create(name))
        try:
            asyncio.run(_upgrade_and_seed(url, rows))
            env = {**os.environ, "CHATCAST_DATABASE_URL": url, "CHATCAST_TELEGRAM_BOT_TOKEN": dispatch_bench.TOKEN,
                   "CHATCAST_TELEGRAM_API_URL": api, "CHATCAST_TELEGRAM_RATE_PER_SECOND": "100000",
                   "CHATCAST_TELEGRAM_CHAT_RATE_PER_SECOND": "100000",
                   "CHATCAST_SEGMENTS_FILE": str(folder / "none.yaml")}  # fmt: skip
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-c",
                        "from chatcast.cli import main; main()",
                        "serve",
                        "--role",
                        "worker",
                        "--port",
                        "0",
                        "--worker",
                        f"bench-{i}",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for i in range(count)
            ]
            try:
                first, last = asyncio.run(_watch(url, rows))
            finally:
                for proc in procs:
                    proc.terminate()
                for proc in procs:
                    proc.wait(60)
        finally:
            asyncio.run(_create(name, drop=True))
    return {"seconds": last - first, "rate": rows / (last - first)}


async def _create(name: str, drop: bool = False) -> None:
    import asyncpg

    admin = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _upgrade_and_seed(url: str, rows: int) -> None:
    from storage import db

    await db.upgrade(url)
    async with db.database(url, upgrade_schema=False):
        await dispatch_bench.seed(rows)


async def _watch(url: str, rows: int) -> tuple[float, float]:
    """Poll the outbox: when the first row was sent and when every row was final."""
    from storage import db
    from storage.sql import fetch

    first = None
    async with db.database(url, upgrade_schema=False):
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            [(sent, left)] = await fetch(
                "SELECT COUNT(*) FILTER (WHERE status = 'sent'),"
                " COUNT(*) FILTER (WHERE status IN ('queued', 'sending')) FROM delivery"
            )
            now = time.perf_counter()
            if first is None and sent:
                first = now
            if first is not None and not left:
                return first, now
            await asyncio.sleep(0.05)
    raise SystemExit(f"the workers did not finish {rows} rows in ten minutes")


def main() -> None:
    """Run the chosen measurements and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="firing,sweep,workers")
    parser.add_argument("--firing-rows", type=int, default=300)
    parser.add_argument("--sweep-rows", type=int, default=1_000_000)
    parser.add_argument("--worker-rows", type=int, default=10_000)
    args = parser.parse_args()
    parts = set(args.only.split(","))
    with tempfile.TemporaryDirectory(prefix="chatcast-bench-schedule-") as tmp:
        folder = Path(tmp)
        if "firing" in parts:
            f = asyncio.run(firing(args.firing_rows, folder))
            ok = "met" if f["p99"] <= 1.0 else "NOT met"
            print(f"firing delay, {args.firing_rows} rows due over 10 s (SQLite, service loop): p50 {f['p50']:.3f} s,"
                  f" p99 {f['p99']:.3f} s, max {f['max']:.3f} s; target p99 <= 1 s: {ok}")  # fmt: skip
            record("schedule", "firing delay p99 (SQLite)", round(f["p99"], 3), "s", "<= 1 s", f["p99"] <= 1.0)
        if "sweep" in parts:
            for backend in ("sqlite", "postgres"):
                s = asyncio.run(sweep_bench(backend, args.sweep_rows, folder))
                ok = "met" if s["seconds"] <= 5.0 else "NOT met"
                steady = "met" if s["steady"] <= 5.0 else "NOT met"
                print(f"follow-up sweep over {args.sweep_rows:,} sent deliveries ({backend}): the sweep that plans"
                      f" {s['planned']:,} new rows {s['seconds']:.2f} s in {s['slices']} slices (longest"
                      f" {s['longest']:.2f} s; loaded in {s['loaded']:.0f} s), target <= 5 s: {ok}; every later"
                      f" sweep, nothing new: {s['steady']:.2f} s ({s['again']} planned),"
                      f" target <= 5 s: {steady}")  # fmt: skip
                what = f"follow-up sweep planning {s['planned']:,} rows ({backend})"
                record("schedule", what, round(s["seconds"], 2), "s", "<= 5 s", s["seconds"] <= 5.0)
                record("schedule", f"each later follow-up sweep over {args.sweep_rows:,} ({backend})",
                       round(s["steady"], 2), "s", "<= 5 s", s["steady"] <= 5.0)  # fmt: skip
        if "workers" in parts:
            for count in (1, 2):
                w = workers_bench(count, args.worker_rows, folder)
                print(f"dispatch, {count} worker process{'es' if count > 1 else ''} on PostgreSQL, unlimited sandbox:"
                      f" {args.worker_rows:,} rows in {w['seconds']:.1f} s = {w['rate']:,.0f}/s")  # fmt: skip
                record("schedule", f"dispatch, {count} worker process(es), PostgreSQL", round(w["rate"]), "msg/s")


if __name__ == "__main__":
    main()
