"""Segments refresh time and peak memory: 1,000,000 customers and 3,000,000 orders on SQLite and PostgreSQL.

    python bench/segments.py                       # the full run (loading the data takes several minutes)
    python bench/segments.py --customers 20000 --orders 60000 --backends sqlite

Loads the data of ``bench/import.py`` with the real CLI (``chatcast import ...``), then times, each in a child
process of its own (so the peak memory printed is that process's maximum resident set size):

* a full refresh (features, RFM scores, personas of every customer) on an empty features table;
* the same full refresh again, as a nightly run finds it (features and personas already there);
* an incremental refresh after 1,000 new orders of existing customers.

On PostgreSQL the peak memory is the Python process's; the server's own memory is not counted. The
PostgreSQL database (``chatcast_bench_segments`` unless ``CHATCAST_BENCH_SEGMENTS_POSTGRES_URL`` names
another) is created afresh and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/segments.py must not shadow the package
from results import record  # noqa: E402

PG_URL = os.environ.get(
    "CHATCAST_BENCH_SEGMENTS_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/chatcast_bench_segments"
)
SEGMENTS = ROOT / "examples" / "shop" / "segments.yaml"
AS_OF = datetime(2026, 1, 1, tzinfo=UTC)  # the generated orders run from 2024-01-01 to late November 2025
NEW_ORDERS = 1000
TARGETS = {"full": (60.0, 500.0), "incremental": (1.0, None)}
STEPS = ("changes", "features", "rfm", "personas")


def _bench_import() -> Any:
    """The ``bench/import.py`` module (``import`` is a keyword, hence importlib)."""
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        return importlib.import_module("import")
    finally:
        sys.path.remove(str(ROOT / "bench"))


def _generator() -> Callable[..., dict[str, Path]]:
    """``generate`` from ``bench/import.py``."""
    generate: Callable[..., dict[str, Path]] = _bench_import().generate
    return generate


def new_orders(path: Path, customers: int, count: int = NEW_ORDERS, products: int = 1000) -> Path:
    """Write ``count`` new one-line orders of existing customers, in the month before ``AS_OF``."""
    write: Callable[..., Path] = _bench_import().write_orders
    return write(
        path,
        count,
        customers,
        products,
        random.Random(11),
        lambda r: AS_OF - timedelta(seconds=r.randint(60, 30 * 86400)),
        prefix="N",
    )


def run_child(args: list[str], env: dict[str, str], log: Path) -> tuple[float, float, str]:
    """Run one command (output to ``log``); return its wall time, peak RSS in MB and output."""
    started = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    output = log.read_text(errors="replace")
    if status != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    return seconds, usage.ru_maxrss / 1024, output


def _admin_url(url: str) -> tuple[str, str]:
    """The maintenance database's URL (asyncpg spelling) and the bench database's name."""
    base, name = url.replace("postgres://", "postgresql://", 1).rsplit("/", 1)
    return f"{base}/postgres", name.split("?", 1)[0]


async def _connect(url: str) -> Any:
    """An asyncpg connection to ``url`` (tortoise's ``postgres://`` spelling accepted)."""
    import asyncpg  # type: ignore[import-untyped]

    return await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))


async def _recreate_postgres(url: str, drop_only: bool = False) -> None:
    admin, name = _admin_url(url)
    if name in ("test", "postgres"):
        raise SystemExit(f"refusing to drop the database {name!r}: name a database of the benchmark's own")
    conn = await _connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def _autovacuum(url: str) -> str:
    """The server's ``autovacuum`` setting: where it is off, only the importer's own ANALYZE keeps statistics."""
    conn = await _connect(url)
    try:
        return str(await conn.fetchval("SHOW autovacuum"))
    finally:
        await conn.close()


async def _child_refresh(url: str, segments: Path, as_of: datetime, incremental: bool) -> dict[str, Any]:
    from segments import definitions
    from segments.refresh import refresh
    from storage import db

    defs = definitions.load(segments)
    async with db.database(url):
        started = time.perf_counter()
        report = await refresh(defs, dialect=db.dialect(), as_of=as_of, incremental=incremental)
        wall = time.perf_counter() - started
    return {
        "incremental": report.incremental,
        "customers": report.customers,
        "changed": report.changed,
        "seconds": report.seconds,
        "wall": wall,
    }


def measure(url: str, segments: Path, as_of: datetime, incremental: bool, log: Path) -> dict[str, Any]:
    """Run one refresh in a child process; its report, wall times and peak memory."""
    args = [sys.executable, __file__, "--child-refresh", url, "--segments", str(segments), "--as-of", as_of.isoformat()]
    if incremental:
        args.append("--incremental")
    seconds, peak, output = run_child(args, {**os.environ}, log)
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"the refresh printed no report:\n{output}")
    result: dict[str, Any] = json.loads(lines[-1])
    result.update(process=seconds, peak=peak)
    return result


def load(backend: str, url: str, files: dict[str, Path], rows: dict[str, int], folder: Path) -> None:
    """Create the schema and import the generated files with the CLI."""
    env = {**os.environ, "CHATCAST_DATABASE_URL": url, "COLUMNS": "200"}
    cli = [sys.executable, "-m", "chatcast"]
    run_child([*cli, "db", "upgrade"], env, folder / "child.log")
    for kind in ("products", "customers", "orders"):
        seconds, peak, output = run_child([*cli, "import", kind, str(files[kind])], env, folder / "child.log")
        first = output.strip().splitlines()[0] if output.strip() else ""
        print(f"{backend}: imported {rows[kind]:,} {kind} in {seconds:.0f}s, peak {peak:.0f} MB  ({first})")


def bench(backend: str, url: str, args: argparse.Namespace, files: dict[str, Path], folder: Path) -> list[tuple]:
    """Load one backend and time its refreshes; the table rows."""
    rows = {"products": 1000, "customers": args.customers, "orders": args.orders}
    load(backend, url, files, rows, folder)
    log = folder / "refresh.log"
    results = []
    for label, incremental in (("full refresh", False), ("full refresh again", False)):
        print(f"{backend}: {label} ...")
        results.append((backend, label, "full", measure(url, args.segments, AS_OF, incremental, log)))
        print(f"    {_line(results[-1][3])}")
    extra = new_orders(folder / "new_orders.csv", args.customers)
    env = {**os.environ, "CHATCAST_DATABASE_URL": url, "COLUMNS": "200"}
    seconds, _, _ = run_child([sys.executable, "-m", "chatcast", "import", "orders", str(extra)], env, log)
    print(f"{backend}: imported {NEW_ORDERS:,} new orders in {seconds:.1f}s; incremental refresh ...")
    label = f"incremental after {NEW_ORDERS:,} orders"
    results.append((backend, label, "incremental", measure(url, args.segments, AS_OF, True, log)))
    print(f"    {_line(results[-1][3])}")
    return results


def _line(r: dict[str, Any]) -> str:
    steps = ", ".join(f"{k} {v:.2f}s" for k, v in r["seconds"].items())
    return (
        f"{r['customers']:,} customers, {r['changed']:,} personas changed, {r['wall']:.2f}s ({steps});"
        f" process {r['process']:.1f}s, peak {r['peak']:.0f} MB"
    )


def report(results: list[tuple], notes: list[str]) -> None:
    """Print the table, the targets and the notes."""
    print()
    head = f"{'backend':<9} {'step':<30} {'customers':>10} {'changed':>9} {'seconds':>8}"
    head += f" {'process s':>9} {'peak MB':>8}"
    print(head + "".join(f" {s:>9}" for s in STEPS) + "  target")
    for backend, label, kind, r in results:
        most_s, most_mb = TARGETS[kind]
        ok = r["wall"] <= most_s and (most_mb is None or r["peak"] <= most_mb)
        target = f"<= {most_s:g} s" + (f", <= {most_mb:g} MB" if most_mb else "") + (" ok" if ok else " MISSED")
        print(
            f"{backend:<9} {label:<30} {r['customers']:>10,} {r['changed']:>9,} {r['wall']:>8.2f}"
            f" {r['process']:>9.1f} {r['peak']:>8.0f}"
            + "".join(f" {r['seconds'].get(s, 0.0):>9.2f}" for s in STEPS)
            + f"  {target}"
        )
        record("segments", f"{label} ({backend})", round(r["wall"], 2), "s", f"<= {most_s:g} s", r["wall"] <= most_s)
        if most_mb:
            record(
                "segments",
                f"{label} peak memory ({backend})",
                round(r["peak"]),
                "MB",
                f"<= {most_mb:g} MB",
                r["peak"] <= most_mb,
            )
    print(
        "seconds: refresh() wall time in the child; process s: the child's whole run (start, schema check,"
        " refresh); peak MB: the child's max RSS (on PostgreSQL the server's memory is not counted)."
    )
    for note in notes:
        print(note)


def main() -> None:
    """Generate the data, load it on each backend, time the refreshes, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=3_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--segments", type=Path, default=SEGMENTS, help="the segments YAML file")
    parser.add_argument("--child-refresh", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--incremental", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--as-of", type=datetime.fromisoformat, default=AS_OF, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # this file is bench/segments.py: keep its folder off the path so ``segments`` is the package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
    sys.path.insert(0, str(ROOT))
    if args.child_refresh:
        result = asyncio.run(_child_refresh(args.child_refresh, args.segments, args.as_of, args.incremental))
        print(json.dumps(result))
        return
    generate = _generator()
    results: list[tuple] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="chatcast-bench-segments-") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        files = generate(folder, args.customers, args.orders)
        print(f"generated {args.customers:,} customers and {args.orders:,} orders in {time.perf_counter() - t:.0f}s")
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results += bench(backend, f"sqlite://{folder / 'bench.sqlite3'}", args, files, folder)
                for leftover in folder.glob("bench.sqlite3*"):
                    leftover.unlink()
            elif backend == "postgres":
                asyncio.run(_recreate_postgres(PG_URL))
                try:
                    results += bench(backend, PG_URL, args, files, folder)
                    if (autovacuum := asyncio.run(_autovacuum(PG_URL))) != "on":
                        notes.append(
                            f"postgres: autovacuum is {autovacuum}; the statistics are the importer's own ANALYZE"
                        )
                finally:
                    asyncio.run(_recreate_postgres(PG_URL, drop_only=True))
            else:
                raise SystemExit(f"unknown backend {backend!r}: sqlite or postgres")
    report(results, notes)


if __name__ == "__main__":
    main()
