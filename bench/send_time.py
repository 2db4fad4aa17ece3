"""Fitting best send times: 1,000,000 customers and 10,000,000 engagement events with a planted favourite hour.

    python bench/send_time.py                         # the fit from arrays, then from SQLite and PostgreSQL
    python bench/send_time.py --customers 100000 --events 1000000 --backends sqlite

Two measures, said plainly:
- **arrays**: the model's core (:class:`segments.sendtime.SendTimeModel`) on numpy arrays of events in memory,
  as the database path gets them: sort by customer, convert UTC minutes to local hours of the week (six zones,
  DST included), count, blend with the persona priors, pick each customer's hour. Timed: all of that.
  Memory: the process's peak RSS, which includes the generated events.
- **database** (each backend): ``chatcast sendtime fit`` (:func:`segments.sendtime_fit.fit_send_times`) on the
  same sizes loaded into the database by bulk SQL (customers in UTC there; their planted hour in UTC): read
  every chunk's customers and events, fit, write a million ``send_time`` rows. Timed: the fit; the load is not.
  Memory: peak RSS of a child process that only fits.

Each customer has a planted hour of the week; 60% of the events fall on it (in random weeks of the past year)
and the rest anywhere. The share of customers whose fitted hour is the planted one is printed. Targets: <= 60 s,
peak memory <= 1 GB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/segments.py must not shadow the package
from results import record  # noqa: E402

from segments.sendtime import HOURS, SendTimeModel, local_week_hours, minutes_since_epoch, utc_offsets  # noqa: E402

PG_URL = os.environ.get("CHATCAST_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday
ZONES = [None, "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "America/Sao_Paulo"]
PERSONAS = 5
PLANTED_SHARE = 0.6
CHUNK = 50_000


def peak_mb() -> float:
    """This process's peak resident memory, in MB: VmHWM where /proc has it (Linux carries ru_maxrss over a
    fork and exec, so a child of the 600 MB generating parent would report the parent's peak), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic(customers: int, events: int, seed: int = 7) -> dict[str, np.ndarray]:
    """Customers (persona, zone, planted hour) and events (owner, UTC minute, weight), deterministic."""
    rng = np.random.default_rng(seed)
    planted = rng.integers(0, HOURS, customers, dtype=np.int16)
    zone = rng.integers(0, len(ZONES), customers, dtype=np.int8)
    persona = rng.integers(1, PERSONAS + 1, customers, dtype=np.int16)
    owner = rng.integers(0, customers, events, dtype=np.int32)
    hit = rng.random(events, dtype=np.float32) < PLANTED_SHARE
    hour = np.where(hit, planted[owner], rng.integers(0, HOURS, events, dtype=np.int16))
    monday = minutes_since_epoch(NOW) // 60  # local wall hours since the epoch of this Monday 00:00
    local = (monday - rng.integers(1, 52, events) * HOURS + hour) * 60 + rng.integers(0, 60, events)
    minute = local.copy()
    zones = [ZoneInfo(z) if z else None for z in ZONES]
    for code, tz in enumerate(zones):
        if tz is not None:  # local -> UTC with the offset at that wall time (off by one only at a DST change)
            mask = zone[owner] == code
            minute[mask] -= utc_offsets(local[mask] // 60, tz) // 60
    weight = rng.choice(np.array([1, 2, 3], dtype=np.int8), events, p=[0.3, 0.5, 0.2])
    return {"planted": planted, "zone": zone, "persona": persona, "owner": owner, "minute": minute, "weight": weight}


def fit_arrays(data: dict[str, np.ndarray]) -> np.ndarray:
    """The timed core: each customer's best hour from the event arrays, a chunk of customers at a time."""
    customers = len(data["planted"])
    order = np.argsort(data["owner"], kind="stable")
    owner = data["owner"][order].astype(np.int64)
    minute, weight = data["minute"][order], data["weight"][order]
    del order
    zones = [ZoneInfo(z) if z else None for z in ZONES]
    model = SendTimeModel(PERSONAS)
    starts = list(range(0, customers, CHUNK))
    bounds = np.searchsorted(owner, [*starts, customers])
    for i, start in enumerate(starts):
        ids = np.arange(start, min(start + CHUNK, customers), dtype=np.int64)
        events = slice(bounds[i], bounds[i + 1])
        local = local_week_hours(minute[events], data["zone"][owner[events]].astype(np.int64), zones)
        model.add(ids, data["persona"][ids], owner[events], local, weight[events].astype(np.float64))
    best = np.empty(customers, dtype=np.int16)
    for fitted in model.fit():
        best[fitted.customers] = fitted.hours
    return best


def bench_arrays(customers: int, events: int) -> None:
    started = time.perf_counter()
    data = synthetic(customers, events)
    print(f"arrays: generated {customers:,} customers and {events:,} events in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    best = fit_arrays(data)
    seconds, memory = time.perf_counter() - started, peak_mb()
    right = float(np.mean(best == data["planted"]))
    print(f"arrays: fitted in {seconds:.2f}s, peak RSS {memory:,.0f} MB, planted hour found for {right:.1%}")
    record("send_time", f"fit {customers:,} customers, {events:,} events (arrays)", round(seconds, 2), "s",
           "<= 60 s", seconds <= 60)  # fmt: skip
    record("send_time", "peak memory (arrays, generation included)", round(memory), "MB", "<= 1024 MB", memory <= 1024)
    record("send_time", "planted hour found (arrays)", round(right * 100, 1), "%")


async def load(url: str, customers: int, events: int) -> None:
    """Customers (persona, UTC) and their engagement events, by bulk SQL; planted hour = (id * 37) % 168."""
    from storage import db
    from storage.sql import execute

    async with db.database(url):
        pg = url.startswith("postgres")
        series = "generate_series(CAST(1 AS BIGINT), {n}) AS g(n)" if pg else (
            "(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {n}) SELECT n FROM s) AS g"
        )  # fmt: skip
        personas = "'p' || (n % 5)"
        await execute(
            "INSERT INTO customer (id, external_id, name, language, tags, attributes, created_at, persona)"
            f" SELECT n, 'c' || n, '', 'en', '[]', '{{}}', '2026-01-01 00:00:00+00:00', {personas}"
            f" FROM {series.format(n=customers)}"
        )
        monday = minutes_since_epoch(NOW) * 60
        # event n: customer (n * 7919) % C + 1, whose events are n0 + j * C: those with j % 10 < 6 at the planted
        # hour, the rest at (n * 31) % 168; a past week
        owner = f"((n * 7919) % {customers} + 1)"
        hour = f"CASE WHEN (n / {customers}) % 10 < 6 THEN ({owner} * 37) % 168 ELSE (n * 31) % 168 END"
        epoch = f"{monday} - (1 + n % 51) * 604800 + ({hour}) * 3600 + (n % 3600)"
        at = f"to_timestamp({epoch})" if pg else f"strftime('%Y-%m-%d %H:%M:%S+00:00', {epoch}, 'unixepoch')"
        kind = "CASE n % 7 WHEN 0 THEN 'replied' WHEN 1 THEN 'read' ELSE 'clicked' END"
        await execute(
            f"INSERT INTO event (type, customer_id, at, data) SELECT {kind}, {owner}, {at}, '{{}}'"
            f" FROM {series.format(n=events)}"
        )
        if pg:
            await execute("ANALYZE")


async def fit_db(url: str) -> tuple[float, float, int]:
    """The timed fit through the database; seconds, the share of planted hours found, customers fitted."""
    from segments.sendtime_fit import fit_send_times
    from storage import db
    from storage.sql import fetch

    async with db.database(url):
        started = time.perf_counter()
        report = await fit_send_times([f"p{i}" for i in range(5)], now=NOW, shop_zone=ZoneInfo("UTC"))
        seconds = time.perf_counter() - started
        (right,) = await fetch(
            "SELECT AVG(CASE WHEN hour = (customer_id * 37) % 168 THEN 1.0 ELSE 0 END) FROM send_time"
        )
    return seconds, float(right[0]), report.customers


def child(url: str) -> None:
    seconds, right, customers = asyncio.run(fit_db(url))
    print(f"{seconds} {right} {customers} {peak_mb()}")


def bench_database(backend: str, customers: int, events: int, folder: Path) -> None:
    from storage import db

    url = (
        f"sqlite://{folder / 'send_time.sqlite3'}"
        if backend == "sqlite"
        else PG_URL.rsplit("/", 1)[0] + "/bench_send_time"
    )
    if backend == "postgres":
        import asyncpg

        async def fresh() -> None:
            conn = await asyncpg.connect(PG_URL.replace("postgres://", "postgresql://", 1))
            await conn.execute("DROP DATABASE IF EXISTS bench_send_time WITH (FORCE)")
            await conn.execute("CREATE DATABASE bench_send_time")
            await conn.close()

        asyncio.run(fresh())
    asyncio.run(db.upgrade(url))
    started = time.perf_counter()
    asyncio.run(load(url, customers, events))
    print(f"{backend}: loaded {customers:,} customers and {events:,} events in {time.perf_counter() - started:.0f}s")
    out = subprocess.run([sys.executable, __file__, "--child", url], capture_output=True, text=True, check=True)
    seconds, right, fitted, memory = (float(x) for x in out.stdout.split()[-4:])
    print(f"{backend}: fitted {int(fitted):,} customers in {seconds:.1f}s, peak RSS {memory:,.0f} MB,"
          f" planted hour found for {right:.1%}")  # fmt: skip
    label = f"fit {customers:,} customers, {events:,} events ({backend})"
    record("send_time", label, round(seconds, 1), "s", "<= 60 s", seconds <= 60)
    record("send_time", f"peak memory ({backend})", round(memory), "MB", "<= 1024 MB", memory <= 1024)


def main() -> None:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--backends", default="sqlite,postgres", help="databases to fit from ('' for arrays only)")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    bench_arrays(args.customers, args.events)
    with tempfile.TemporaryDirectory(prefix="chatcast-bench-send-time-") as tmp:
        for backend in (b.strip() for b in args.backends.split(",") if b.strip()):
            bench_database(backend, args.customers, args.events, Path(tmp))


if __name__ == "__main__":
    main()
