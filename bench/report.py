"""The campaign report over a million deliveries and 300,000 events, and the overview of 200 campaigns, on SQLite
and on PostgreSQL.

    python bench/report.py                     # 1,000,000 deliveries, 300,000 events, both databases
    python bench/report.py --rows 200000 --backends sqlite

One campaign: 1,000,000 customers and deliveries (two steps, two variants, five personas, two channels; 5%
held out, some failed, unknown and skipped), then 300,000 events (200,000 link clicks over three links, 50,000
replies, 40,000 credited conversions in three currencies, a tenth of them later cancelled, 10,000 opt-outs) and
60,000 orders, loaded by bulk SQL; then 199 smaller campaigns (1,000 deliveries each, every tenth with a holdout).
Timed, after the database's statistics are current: the whole report of the big campaign
(``campaigns.results.report.build``: funnel, customers, days, links, A/B, lift, statistics) and the overview of
all 200 (``campaigns.results.report.overview``). Targets: <= 2 s each, on each database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/segments.py must not shadow the package
import dispatch as dispatch_bench  # noqa: E402
from results import record  # noqa: E402

TARGET = 2.0  # seconds, for the report and for the overview
PG_URL = os.environ.get("CHATCAST_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def _series(backend: str, rows: int) -> str:
    if backend == "postgres":
        return f"generate_series(1, {rows}) AS g(n)"
    return f"(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) SELECT n FROM s) AS g"


async def load(backend: str, rows: int, events: int) -> int:
    """The campaign, its deliveries, events and orders; its id."""
    from storage.models import Campaign
    from storage.sql import execute

    t0 = datetime(2027, 5, 3, 9, tzinfo=UTC)
    yaml = "id: bench\nname: Bench\nattribution_days: 7\n"
    campaign = await Campaign.create(key="bench", name="Bench", yaml=yaml, yaml_hash="h", status="done")
    cid, at = campaign.id, ("$1" if backend == "postgres" else "?1")
    series = _series(backend, rows)
    day = "n % 3"  # three sending days
    if backend == "postgres":
        sent = f"CAST($1 AS TIMESTAMPTZ) + ({day}) * INTERVAL '1 day' + (n % 3600) * INTERVAL '1 second'"
    else:
        sent = f"strftime('%Y-%m-%d %H:%M:%S', ?1, '+' || ({day}) || ' days', '+' || (n % 3600) || ' seconds')"
    await execute(
        "INSERT INTO customer (id, external_id, name, language, tags, attributes, created_at)"
        f" SELECT n, 'c' || n, '', 'en', '[]', '{{}}', {at} FROM {series}",
        [t0],
    )
    status = (
        "CASE WHEN n % 20 = 0 THEN 'holdout' WHEN n % 50 = 1 THEN 'failed' WHEN n % 100 = 3 THEN 'unknown'"
        " WHEN n % 50 = 7 THEN 'skipped' ELSE 'sent' END"
    )
    await execute(
        "INSERT INTO delivery (campaign_id, step, customer_id, channel, address, variant, persona, buttons, status,"
        f" note, attempts, sent_at, created_at) SELECT {cid}, CASE WHEN n % 10 = 9 THEN 'reminder' ELSE 'main' END,"
        " n, CASE WHEN n % 3 = 0 THEN 'slack' ELSE 'telegram' END, CAST(n AS TEXT),"
        " CASE WHEN n % 2 = 0 THEN 'A' ELSE 'B' END, 'p' || (n % 5), '[]', " + status + ","
        " CASE WHEN n % 50 = 7 THEN 'opted_out' ELSE NULL END, 1,"
        f" CASE WHEN {status} = 'sent' THEN {sent} ELSE NULL END, {at} FROM {series}",
        [t0],
    )
    later = (
        "CAST($1 AS TIMESTAMPTZ) + INTERVAL '1 day'"
        if backend == "postgres"
        else "strftime('%Y-%m-%d %H:%M:%S', ?1, '+1 day')"
    )
    clicks, replies, converted, outs = events * 2 // 3, events // 6, events * 2 // 15, events // 30
    total = (
        '\'{"total": \' || (d.customer_id % 90 + 10) || \', "order": "o\' || d.customer_id || \'", "currency": "\''
        " || CASE WHEN d.customer_id % 3 = 0 THEN 'EUR' WHEN d.customer_id % 3 = 1 THEN 'USD' ELSE 'JPY' END || '\"'"
        " || CASE WHEN d.customer_id % 10 = 0 THEN ', \"void\": \"cancelled\"' ELSE '' END || '}'"
    )
    link = '\'{"link": "https://shop.example/\' || (d.customer_id % 3) || \'", "via": "link"}\''
    for kind, count, data in (
        ("clicked", clicks, link),
        ("replied", replies, "'{}'"),
        ("converted", converted, total),
    ):
        step = max(1, rows // count)
        await execute(
            f"INSERT INTO event (type, customer_id, campaign_id, delivery_id, at, data) SELECT '{kind}', d.customer_id,"
            f" {cid}, d.id, {later}, {data if backend == 'sqlite' else f'CAST(({data}) AS JSONB)'} FROM delivery d"
            f" WHERE d.campaign_id = {cid} AND d.customer_id % {step} = 0 AND d.customer_id <= {step * count}",
            [t0],
        )
    await execute(
        f"INSERT INTO event (type, customer_id, at, data) SELECT 'opted_out', n * 97, {later}, '{{}}'"
        f" FROM {series} WHERE n <= {outs} AND n * 97 <= {rows}",
        [t0],
    )
    await execute(
        'INSERT INTO "order" (external_id, customer_id, ordered_at, status, is_return, currency, total)'
        f" SELECT 'o' || n, n, {later}, 'paid', FALSE, 'USD', 50 FROM {series} WHERE n % 17 = 0",
        [t0],
    )
    await small_campaigns(backend, rows, t0)
    await execute("ANALYZE")
    return int(cid)


async def small_campaigns(backend: str, first: int, t0: datetime, count: int = 199, size: int = 1000) -> None:
    """``count`` more campaigns of ``size`` deliveries each (to customers after ``first``), some clicks and
    conversions; every tenth holds 5% out."""
    from storage.models import Campaign
    from storage.sql import execute

    at = "$1" if backend == "postgres" else "?1"
    series = _series(backend, count * size)
    await execute(
        "INSERT INTO customer (id, external_id, name, language, tags, attributes, created_at)"
        f" SELECT {first} + n, 'c' || ({first} + n), '', 'en', '[]', '{{}}', {at} FROM {series}",
        [t0],
    )
    ids = []
    for k in range(count):
        held = "7" if k % 10 == 0 else "0"
        yaml = f"id: small{k}\nname: Small {k}\nattribution_days: 7\n"
        campaign = await Campaign.create(key=f"small{k}", name=f"Small {k}", yaml=yaml, yaml_hash="h", status="done")
        ids.append((int(campaign.id), held))
    low = min(i for i, _ in ids)
    status = f"CASE WHEN {' OR '.join(f'(c = {i} AND n % 20 < {h})' for i, h in ids if h != '0') or '1 = 0'}"
    status += " THEN 'holdout' ELSE 'sent' END"
    if backend == "postgres":
        sent = "CAST($1 AS TIMESTAMPTZ) + (n % 3600) * INTERVAL '1 second'"
    else:
        sent = "strftime('%Y-%m-%d %H:%M:%S', ?1, '+' || (n % 3600) || ' seconds')"
    numbered = f"(SELECT n, {low} + (n - 1) / {size} AS c FROM {series}) AS g"
    await execute(
        "INSERT INTO delivery (campaign_id, step, customer_id, channel, address, variant, persona, buttons, status,"
        f" attempts, sent_at, created_at) SELECT c, 'main', {first} + n, 'telegram', CAST({first} + n AS TEXT), 'A',"
        f" 'p' || (n % 5), '[]', {status}, 1, CASE WHEN {status} = 'sent' THEN {sent} ELSE NULL END, {at}"
        f" FROM {numbered}",
        [t0],
    )
    data = '\'{"total": 40, "currency": "USD", "order": "s\' || d.id || \'"}\''
    for kind, every, payload in (("clicked", 7, "'{}'"), ("converted", 23, data)):
        await execute(
            f"INSERT INTO event (type, customer_id, campaign_id, delivery_id, at, data) SELECT '{kind}', d.customer_id,"
            f" d.campaign_id, d.id, {at}, {payload if backend == 'sqlite' else f'CAST(({payload}) AS JSONB)'}"
            f" FROM delivery d WHERE d.campaign_id >= {low} AND d.status = 'sent' AND d.id % {every} = 0",
            [t0],
        )


async def measure(backend: str, rows: int, events: int, folder: Path) -> dict[str, float]:
    """Load, then time the whole report and the overview."""
    from campaigns.results.report import build, overview
    from storage.models import Campaign, Event

    async with dispatch_bench.database(backend, folder, PG_URL):
        started = time.perf_counter()
        cid = await load(backend, rows, events)
        loaded = time.perf_counter() - started
        row = await Campaign.get(id=cid)
        counted = await Event.all().count()
        started = time.perf_counter()
        report = await build(row, now=datetime(2027, 6, 1, tzinfo=UTC))
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        found = await overview(now=datetime(2027, 6, 1, tzinfo=UTC))
        glance = time.perf_counter() - started
    return {
        "seconds": seconds,
        "overview": glance,
        "campaigns": len(found),
        "loaded": loaded,
        "events": counted,
        "targeted": report.total.targeted,
        "sent": report.total.sent,
        "converted": report.total.converted,
    }


def main() -> None:
    """Run and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="chatcast-bench-report-") as tmp:
        for backend in args.backends.split(","):
            r = asyncio.run(measure(backend, args.rows, args.events, Path(tmp)))
            ok = "met" if r["seconds"] <= TARGET else "NOT met"
            print(
                f"report over {r['targeted']:,} deliveries and {r['events']:,} events ({backend}):"
                f" {r['seconds']:.2f} s ({r['sent']:,} sent, {r['converted']:,} converted; loaded in"
                f" {r['loaded']:.0f} s); target <= {TARGET:g} s: {ok}"
            )
            glance = "met" if r["overview"] <= TARGET else "NOT met"
            print(f"overview of {r['campaigns']} campaigns ({backend}): {r['overview']:.2f} s; target: {glance}")
            record(
                "report",
                f"campaign report, {r['targeted']:,} deliveries, {r['events']:,} events ({backend})",
                round(r["seconds"], 2),
                "s",
                f"<= {TARGET:g} s",
                r["seconds"] <= TARGET,
            )
            record(
                "report",
                f"overview of {r['campaigns']} campaigns ({backend})",
                round(r["overview"], 2),
                "s",
                f"<= {TARGET:g} s",
                r["overview"] <= TARGET,
            )


if __name__ == "__main__":
    main()
