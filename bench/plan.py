"""Planning time and peak memory: a campaign over 1,000,000 customers on SQLite and PostgreSQL.

    python bench/plan.py                                   # 1,000,000 customers, 1,000,000 orders, both databases
    python bench/plan.py --customers 50000 --orders 50000 --backends sqlite

Loads the shop of ``bench/import.py`` with the real CLI (``chatcast import ...``), then in bulk SQL: chat
identities (telegram for three customers in four, a fiftieth of them unreachable; slack for one in three),
opt-outs (one in seventeen opted out after opting in) and personas (a direct ``UPDATE`` by customer id, not a
segments refresh: a refresh is ``bench/segments.py``'s subject). Then times, in a child process of its own
(so the peak memory printed is that process's maximum resident set size), ``register()`` and ``plan()`` of
a campaign over every persona but ``vip``, less a segment of recent buyers, 10% holdout, two variants, on
telegram then slack; and a re-plan of it, which must add nobody. ``--all-eligible`` is the worst case: every
customer opted in and on telegram, no exclusions, so every customer becomes a row. Targets: plan <= 30 s and <= 500 MB.
On PostgreSQL the server's own memory is not counted; its database (``chatcast_bench_plan`` unless
``CHATCAST_BENCH_PLAN_POSTGRES_URL`` names another) is created afresh and dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.append(str(ROOT / "bench"))  # after the project: bench/segments.py must not shadow the package
from results import record  # noqa: E402

PG_URL = os.environ.get("CHATCAST_BENCH_PLAN_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/chatcast_bench_plan")
AS_OF = datetime(2025, 12, 1, tzinfo=UTC)  # the generated orders run to late November 2025
TARGET_SECONDS, TARGET_MB = 30.0, 500.0
DEFINITIONS = """
personas:
  - {id: vip, description: d, tone: t, when: {orders_count: {gte: 10}}}
  - {id: new, description: d, tone: t, when: {orders_count: 1}}
  - {id: lapsed, description: d, tone: t, when: {days_since_last_order: {gte: 180}}}
  - {id: everyone, description: d, tone: t}
segments:
  - {id: recent_buyers, description: bought in the last month, when: {orders_count: {gte: 1, within: 30 days}}}
"""
CAMPAIGN = """
id: bench-plan
name: Planning benchmark
channels: [telegram, slack]
audience: AUDIENCE
message: {brief: Say hello., template: "Hello {{ customer.first_name }}"}
variants: [{id: short, weight: 1}, {id: long, weight: 1}]
"""
AUDIENCE = "{exclude_personas: [vip], exclude_segments: [recent_buyers], holdout: 0.1}"
SETUP = [  # the default: a realistic mix
    "INSERT INTO channel_identity (customer_id, channel, address, reachable, linked_at)"
    " SELECT id, 'telegram', 'tg' || CAST(id AS TEXT), id % 50 <> 0, {now} FROM customer WHERE id % 4 <> 0",
    "INSERT INTO channel_identity (customer_id, channel, address, reachable, linked_at)"
    " SELECT id, 'slack', 'T1/U' || CAST(id AS TEXT), TRUE, {now} FROM customer WHERE id % 3 = 0",
    "UPDATE customer SET opted_out_at = {now} WHERE id % 17 = 0 AND opted_in_at IS NOT NULL",
    "UPDATE customer SET persona = CASE id % 10 WHEN 0 THEN 'vip' WHEN 1 THEN 'new' WHEN 2 THEN 'lapsed'"
    " WHEN 3 THEN 'lapsed' ELSE 'everyone' END",
]
ALL_ELIGIBLE = [  # --all-eligible, the worst case: every customer opted in, on telegram, and not excluded
    "INSERT INTO channel_identity (customer_id, channel, address, reachable, linked_at)"
    " SELECT id, 'telegram', 'tg' || CAST(id AS TEXT), TRUE, {now} FROM customer",
    "UPDATE customer SET opted_in_at = {now}, persona = 'everyone'",
]


def _bench_segments() -> Any:
    """``bench/segments.py`` (its loader, child runner and PostgreSQL set-up), under a name of its own."""
    spec = importlib.util.spec_from_file_location("bench_segments", ROOT / "bench" / "segments.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _setup(url: str, everyone: bool) -> dict[str, int]:
    """Identities, opt-outs and personas in bulk SQL; the counts that result."""
    from storage import db
    from storage.bulk import analyze
    from storage.sql import execute, fetch

    async with db.database(url, upgrade_schema=False):
        now = "CURRENT_TIMESTAMP" if db.dialect() == "postgres" else "strftime('%Y-%m-%d %H:%M:%f+00:00', 'now')"
        for sql in ALL_ELIGIBLE if everyone else SETUP:
            await execute(sql.format(now=now))
        await analyze(["customer", "channel_identity"])
        rows = await fetch("SELECT channel, COUNT(*) FROM channel_identity GROUP BY channel ORDER BY channel")
        return {str(k): int(v) for k, v in rows}


async def _child_plan(url: str, everyone: bool, write: bool) -> dict[str, Any]:
    from ruamel.yaml import YAML

    from campaigns.audience.planner import plan, register
    from campaigns.file.definition import Campaign
    from segments.definitions import parse
    from storage import db
    from storage.sql import fetch

    text = CAMPAIGN.replace("AUDIENCE", "{holdout: 0.1}" if everyone else AUDIENCE)
    campaign = Campaign.model_validate(YAML(typ="safe").load(text))
    defs = parse(DEFINITIONS)
    out: dict[str, Any] = {}
    async with db.database(url, upgrade_schema=False):
        started = time.perf_counter()
        campaign_id = await register(campaign, text)
        result = await plan(campaign, campaign_id, defs, as_of=AS_OF)
        out["seconds"] = time.perf_counter() - started
        out["result"] = result.__dict__
        started = time.perf_counter()
        again = await plan(campaign, campaign_id, defs, as_of=AS_OF)
        out["replan_seconds"], out["replan_added"] = time.perf_counter() - started, again.planned + again.holdout
        out["rows"] = int((await fetch("SELECT COUNT(*) FROM delivery"))[0][0])
        if write:
            out["write"] = await _write(campaign, campaign_id, defs)
    return out


async def _write(campaign: Any, campaign_id: int, defs: Any) -> dict[str, Any]:
    """Write every planned row with the OpenAI writer in persona mode, the API answered by the tests' fake (an
    httpx transport, no network); the model calls made against the distinct (persona, variant, language)."""
    from campaigns.content.compose import write_copy
    from campaigns.content.writer import CopyWriter, OpenAIWriter
    from storage.sql import fetch
    from tests.fakes.openai_api import FakeOpenAI, draft

    text = "{{ customer.first_name }}, spring is here at {{ shop }}. {{ unsubscribe }}"
    fake = FakeOpenAI(default=lambda request: draft(text))
    writer = CopyWriter(OpenAIWriter(fake.client(), "gpt-4o-mini"), mode="persona", store=None)
    started = time.perf_counter()
    result = await write_copy(campaign, campaign_id, defs, writer, as_of=AS_OF, batch=5000)
    seconds = time.perf_counter() - started
    groups = await fetch(
        "SELECT COUNT(*) FROM (SELECT DISTINCT d.persona, d.variant, c.language FROM delivery d"
        " JOIN customer c ON c.id = d.customer_id WHERE d.status = 'queued') AS g"
    )
    return {
        "seconds": seconds,
        "written": result.written,
        "by_source": result.by_source,
        "calls": writer.stats.calls,
        "requests": len(fake.requests),
        "briefs": len(result.briefs),
        "groups": int(groups[0][0]),
    }


def bench(backend: str, url: str, args: argparse.Namespace, files: dict[str, Path], folder: Path) -> dict[str, Any]:
    """Load one backend, set it up, and plan in a child; the figures."""
    helper = _bench_segments()
    helper.load(backend, url, files, {"products": 1000, "customers": args.customers, "orders": args.orders}, folder)
    started = time.perf_counter()
    identities = asyncio.run(_setup(url, args.all_eligible))
    took = time.perf_counter() - started
    print(f"{backend}: identities {identities}, opt-outs and personas set by SQL in {took:.0f}s")
    child = [sys.executable, __file__, "--child-plan", url, *(["--all-eligible"] if args.all_eligible else [])]
    child += [] if args.write else ["--no-write"]
    seconds, peak, output = helper.run_child(child, {**os.environ}, folder / "plan.log")
    lines = [line for line in output.splitlines() if line.startswith("{")]
    if not lines:
        raise SystemExit(f"the plan printed no report:\n{output}")
    figures: dict[str, Any] = json.loads(lines[-1])
    figures.update(process=seconds, peak=peak)
    return figures


def report(backend: str, f: dict[str, Any]) -> None:
    """Print one backend's figures against the targets."""
    r = f["result"]
    ok = f["seconds"] <= TARGET_SECONDS and f["peak"] <= TARGET_MB
    print(
        f"{backend}: plan {f['seconds']:.1f}s (re-plan {f['replan_seconds']:.1f}s, added {f['replan_added']}),"
        f" process {f['process']:.1f}s, peak {f['peak']:.0f} MB"
        f" -> target <= {TARGET_SECONDS:g} s, <= {TARGET_MB:g} MB: {'ok' if ok else 'MISSED'}"
    )
    print(
        f"    audience {r['audience']:,}: excluded {r['excluded']:,}, no consent {r['no_consent']:,},"
        f" unreachable {r['unreachable']:,}, planned {r['planned']:,}, holdout {r['holdout']:,}"
        f" (delivery rows {f['rows']:,})"
    )
    print(f"    channels {r['channels']}, variants {r['variants']}, personas {r['personas']}")
    record(
        "plan",
        f"plan {r['audience']:,} customers ({backend})",
        round(f["seconds"], 1),
        "s",
        f"<= {TARGET_SECONDS:g} s",
        f["seconds"] <= TARGET_SECONDS,
    )
    record(
        "plan", f"plan peak memory ({backend})", round(f["peak"]), "MB", f"<= {TARGET_MB:g} MB", f["peak"] <= TARGET_MB
    )
    if w := f.get("write"):
        same = w["calls"] == w["briefs"] == w["groups"]
        print(
            f"    write (OpenAI writer, persona mode): {w['written']:,} rows in {w['seconds']:.1f}s"
            f" ({w['written'] / max(w['seconds'], 1e-9):,.0f} rows/s), {w['by_source']};"
            f" model calls {w['calls']} for {w['groups']} persona x variant x language groups:"
            f" {'ok' if same else 'MISSED'}"
        )


def main() -> None:
    """Generate the shop, load it on each backend, time the plan, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--all-eligible", action="store_true", help="everyone opted in, reachable, not excluded")
    parser.add_argument(
        "--write", action=argparse.BooleanOptionalAction, default=True, help="then write the copy in persona mode"
    )
    parser.add_argument("--child-plan", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    # bench/segments.py would shadow the ``segments`` package: keep this folder off the path
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
    sys.path.insert(0, str(ROOT))
    if args.child_plan:
        print(json.dumps(asyncio.run(_child_plan(args.child_plan, args.all_eligible, args.write))))
        return
    helper = _bench_segments()
    with tempfile.TemporaryDirectory(prefix="chatcast-bench-plan-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        files = helper._generator()(folder, args.customers, args.orders)
        took = time.perf_counter() - started
        print(f"generated {args.customers:,} customers and {args.orders:,} orders in {took:.0f}s")
        results = []
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results.append((backend, bench(backend, f"sqlite://{folder / 'bench.sqlite3'}", args, files, folder)))
            elif backend == "postgres":
                asyncio.run(helper._recreate_postgres(PG_URL))
                try:
                    results.append((backend, bench(backend, PG_URL, args, files, folder)))
                finally:
                    asyncio.run(helper._recreate_postgres(PG_URL, drop_only=True))
            else:
                raise SystemExit(f"unknown backend {backend!r}: sqlite or postgres")
    print()
    for backend, figures in results:
        report(backend, figures)


if __name__ == "__main__":
    main()
