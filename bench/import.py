"""Import throughput and peak memory: 1,000,000 customers and 3,000,000 orders into SQLite and PostgreSQL.

    python bench/import.py                       # the full run (a few minutes)
    python bench/import.py --customers 100000 --orders 300000 --after-send 300000 --backends sqlite

Each import runs in a child process (``chatcast import ...``, the real CLI), so the peak memory printed is
that process's own maximum resident set size. Then a campaign message is sent to every customer (written straight
into the database) and ``--after-send`` more orders, placed in the week after it, are imported: each is credited
to the campaign as the import goes (set-based, batch by batch), and the same file imported again credits nothing.
Also prints a raw tortoise ``bulk_create`` of customers on SQLite for comparison (plain inserts: no parsing,
validation, upsert or error reporting).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/segments.py must not shadow the package
from results import record  # noqa: E402

PG_URL = os.environ.get("CHATCAST_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
ZONES = ["Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "UTC"]
LANGS = ["en", "de", "fr", "es", "pt-BR", "ja"]


def generate(folder: Path, customers: int, orders: int, products: int = 1000) -> dict[str, Path]:
    """Write the three CSV files, deterministically; orders have one line each."""
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    files = {k: folder / f"{k}.csv" for k in ("products", "customers", "orders")}
    with open(files["products"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sku", "name", "category", "price", "stock"])
        for i in range(products):
            w.writerow(
                [f"P{i:05d}", f"Product {i}", f"cat-{i % 20}", f"{rng.uniform(2, 300):.2f}", rng.randint(0, 500)]
            )
    with open(files["customers"], "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["external_id", "name", "email", "language", "timezone", "country", "opted_in_at"])
        for i in range(customers):
            opted = (start + timedelta(minutes=i)).isoformat() if i % 3 else ""
            w.writerow([f"C{i:07d}", f"Customer {i}", f"c{i}@example.com", LANGS[i % 6], ZONES[i % 6], "GB", opted])
    write_orders(
        files["orders"], orders, customers, products, rng, lambda r: start + timedelta(seconds=r.randint(0, 60_000_000))
    )
    return files


def write_orders(
    path: Path,
    count: int,
    customers: int,
    products: int,
    rng: random.Random,
    when: Callable[[random.Random], datetime],
    prefix: str = "O",
) -> Path:
    """Write ``count`` one-line paid orders of random customers and products, at the times ``when`` draws."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["order_id", "customer_id", "ordered_at", "sku", "quantity", "unit_price", "status"])
        for i in range(count):
            at = when(rng)
            w.writerow(
                [
                    f"{prefix}{i:08d}",
                    f"C{rng.randrange(customers):07d}",
                    at.isoformat(),
                    f"P{rng.randrange(products):05d}",
                    rng.randint(1, 3),
                    f"{rng.uniform(2, 300):.2f}",
                    "paid",
                ]
            )
    return path


def run_child(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run one command; return its wall time and peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    output = proc.stdout.read().decode() if proc.stdout else ""
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    lines = output.strip().splitlines()
    for line in lines[:1] + [line for line in lines[1:] if "credit" in line]:  # the summary, and any credits
        print("   ", line)
    return seconds, usage.ru_maxrss / 1024


async def _reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def _send_to_everyone(url: str, at: datetime) -> None:
    """A campaign with a 7-day window, its message sent to every customer at ``at``: one statement."""
    from storage import db
    from storage.bulk import analyze
    from storage.models import Campaign
    from storage.sql import Params, execute

    async with db.database(url):
        yaml = "id: bench-sale\nname: Bench sale\nchannels: [telegram]\nmessage: {brief: b, template: t}\n"
        campaign = await Campaign.create(key="bench-sale", name="Bench sale", yaml=yaml + "attribution_days: 7\n",
                                         yaml_hash="", status="running")  # fmt: skip
        q = Params(db.dialect())
        sent = q.moment(at)
        await execute(
            "INSERT INTO delivery (campaign_id, step, customer_id, channel, buttons, status, attempts, sent_at,"
            f" created_at) SELECT {int(campaign.id)}, 'main', id, 'telegram', '[]', 'sent', 0, {sent}, {sent}"
            " FROM customer",
            q.values,
        )
        # a shop's PostgreSQL analyzes a table this size by itself (autovacuum), as its campaigns go out
        await analyze(["campaign", "delivery"])


async def _raw_bulk_create(n: int, folder: Path) -> float:
    from storage import db
    from storage.models import Customer

    url = f"sqlite://{folder / 'raw.sqlite3'}"
    async with db.database(url):
        started = time.perf_counter()
        for base in range(0, n, 5000):
            await Customer.bulk_create(
                [Customer(external_id=f"R{i}", name=f"Customer {i}") for i in range(base, min(n, base + 5000))]
            )
        return n / (time.perf_counter() - started)


def main() -> None:
    """Generate the data, import it on each backend, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=3_000_000)
    parser.add_argument("--after-send", type=int, default=300_000, help="orders imported after a campaign's send")
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    with tempfile.TemporaryDirectory(prefix="chatcast-bench-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        files = generate(folder, args.customers, args.orders)
        send = datetime(2026, 1, 1, tzinfo=UTC)  # after every generated order
        files["after"] = write_orders(
            folder / "after.csv", args.after_send, args.customers, 1000, random.Random(8),
            lambda r: send + timedelta(seconds=r.randint(1, 7 * 86400)), prefix="S",
        )  # fmt: skip
        print(f"generated {args.customers:,} customers and {args.orders:,} orders in {time.perf_counter() - t:.0f}s")
        results = []
        for backend in args.backends.split(","):
            url = f"sqlite://{folder / 'bench.sqlite3'}" if backend == "sqlite" else PG_URL
            if backend == "postgres":
                asyncio.run(_reset_postgres(url))
            env = {**os.environ, "CHATCAST_DATABASE_URL": url, "COLUMNS": "200"}
            cli = [sys.executable, "-m", "chatcast"]
            run_child([*cli, "db", "upgrade"], env)
            for kind, rows in (("products", 1000), ("customers", args.customers), ("orders", args.orders)):
                print(f"{backend}: importing {kind} ...")
                seconds, peak = run_child([*cli, "import", kind, str(files[kind])], env)
                results.append((backend, kind, rows, seconds, peak))
            if args.after_send:
                asyncio.run(_send_to_everyone(url, send))
                for label in ("credited", "again"):
                    print(f"{backend}: importing orders after the send ({label}) ...")
                    seconds, peak = run_child([*cli, "import", "orders", str(files["after"])], env)
                    results.append((backend, f"orders {label}", args.after_send, seconds, peak))
        raw = asyncio.run(_raw_bulk_create(min(args.customers, 200_000), folder))
    print()
    print(f"{'backend':<10} {'kind':<16} {'rows':>10} {'seconds':>8} {'rows/s':>9} {'peak MB':>8}")
    for backend, kind, rows, seconds, peak in results:
        print(f"{backend:<10} {kind:<16} {rows:>10,} {seconds:>8.1f} {rows / seconds:>9,.0f} {peak:>8.0f}")
        rate = rows / seconds
        target = "" if kind == "products" else ">= 30,000 rows/s"  # 1,000 products time the CLI's start-up
        met = rate >= 30_000 if target else None
        record("import", f"{kind}, {rows:,} rows ({backend})", round(rate), "rows/s", target, met)
        record("import", f"{kind} peak memory ({backend})", round(peak), "MB", "<= 300 MB", peak <= 300)
    print(f"raw tortoise bulk_create of customers on SQLite (no upsert, no validation): {raw:,.0f} rows/s")


if __name__ == "__main__":
    main()
