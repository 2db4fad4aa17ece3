"""Refreshing features and personas: all customers, or only those touched since the last refresh.

A refresh runs in one transaction: features, RFM scores, then personas by one ``CASE`` over the personas
in order (the first rule that holds wins; the catch-all is the ``ELSE``). A customer whose persona changes
gets a ``persona_changed`` event (from, to) for reports. Watermarks (the highest customer, order and event
ids seen) tell an incremental refresh which customers new rows touched; the last ``as_of`` tells it whose words
entered or left ``sentiment_30d``'s window since (a customer whose negative words age out matches no longer).
The definitions used are kept with the personas they assigned (:mod:`segments.saved`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from segments import features, saved
from segments.compiler import FROM, Compiler
from segments.definitions import Definitions
from storage import state
from storage.sql import BaseDBAsyncClient, Params, execute, fetch, script, transaction

WATERMARK_KEY = "segments.watermark"
PERSONA_EVENT = "persona_changed"


@dataclass
class RefreshReport:
    """What a refresh did, and how long each step took."""

    incremental: bool
    customers: int = 0
    changed: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def persona_case(defs: Definitions, compiler: Compiler) -> str:
    """The SQL ``CASE`` that picks each customer's persona."""
    arms = [f"WHEN {compiler.rule(p.when)} THEN {compiler.params.text(p.id)}" for p in defs.personas if p.when]
    return (
        f"CASE {' '.join(arms)} ELSE {compiler.params.text(defs.personas[-1].id)} END"
        if arms
        else (compiler.params.text(defs.personas[-1].id))
    )


async def _max_ids(conn: BaseDBAsyncClient) -> dict[str, int]:
    rows = await fetch(
        'SELECT (SELECT COALESCE(MAX(id), 0) FROM customer), (SELECT COALESCE(MAX(id), 0) FROM "order"),'
        " (SELECT COALESCE(MAX(id), 0) FROM event), (SELECT COALESCE(MAX(id), 0) FROM feedback)",
        connection=conn,
    )
    return {
        "customer": int(rows[0][0]),
        "order": int(rows[0][1]),
        "event": int(rows[0][2]),
        "feedback": int(rows[0][3]),
    }


def _moved(p: Params, before: datetime | None, as_of: datetime) -> str:
    """The customers with feedback or rated messages that entered or left the sentiment window between the last
    refresh's ``as_of`` and this one's (none on a first refresh)."""
    if before is None:
        return ""
    span = timedelta(days=features.SENTIMENT_DAYS)
    start, end = min(before, as_of), max(before, as_of)
    spans = [(start - span, end - span), (start, end)]  # aged out (or back in); said since (or unsaid)
    out = ""
    for low, high in spans:
        a, b = p.moment(low), p.moment(high)
        out += (
            f" UNION SELECT customer_id FROM feedback WHERE at > {a} AND at <= {b}"
            " UNION SELECT customer_id FROM chat_message WHERE role = 'customer' AND sentiment IS NOT NULL"
            f" AND at > {a} AND at <= {b}"
        )
    return out


async def _touch(
    conn: BaseDBAsyncClient, dialect: str, since: dict[str, int], before: datetime | None, as_of: datetime
) -> int:
    """Fill the ``touched`` table with the customers new customers, orders, feedback and events concern (opening
    or resolving a complaint is an event), and those whose words moved in or out of the sentiment window."""
    p = Params(dialect)
    await execute(
        "INSERT INTO touched (id)"
        f" SELECT id FROM customer WHERE id > {p.add(since['customer'])}"
        f' UNION SELECT customer_id FROM "order" WHERE id > {p.add(since["order"])} AND customer_id IS NOT NULL'
        f" UNION SELECT customer_id FROM feedback WHERE id > {p.add(since.get('feedback', 0))}"
        f" UNION SELECT customer_id FROM event WHERE id > {p.add(since['event'])}"
        f" AND customer_id IS NOT NULL AND type <> {p.text(PERSONA_EVENT)}{_moved(p, before, as_of)}",
        p.values,
        connection=conn,
    )
    if dialect == "postgres":
        # a fresh temporary table has no statistics: without them the planner expects thousands of rows and
        # scans whole tables instead of looking the touched customers up by index
        await script("ANALYZE touched", conn)
    return int((await fetch("SELECT COUNT(*) FROM touched", connection=conn))[0][0])


async def assign_personas(
    conn: BaseDBAsyncClient, defs: Definitions, dialect: str, as_of: datetime, now: datetime, touched: bool
) -> tuple[int, int]:
    """Assign personas (all customers or the touched ones); return (customers assigned, personas changed)."""
    p = Params(dialect)
    # a few touched customers: per-customer index lookups beat scanning whole tables for each subquery
    compiler = Compiler(p, as_of, correlated=touched)
    scope = " WHERE c.id IN (SELECT id FROM touched)" if touched else ""
    await script("DROP TABLE IF EXISTS persona_new", conn)
    await script("CREATE TEMPORARY TABLE persona_new (id BIGINT PRIMARY KEY, persona VARCHAR(64) NOT NULL)", conn)
    assigned = await execute(
        f"INSERT INTO persona_new (id, persona) SELECT c.id, {persona_case(defs, compiler)} FROM {FROM}{scope}",
        p.values,
        connection=conn,
    )
    if dialect == "postgres":
        await script("ANALYZE persona_new", conn)  # without statistics the joins below scan every customer
    data = (
        "jsonb_build_object('from', c.persona, 'to', n.persona)"
        if dialect == "postgres"
        else "json_object('from', c.persona, 'to', n.persona)"
    )
    q = Params(dialect)
    changed = await execute(
        f"INSERT INTO event (type, customer_id, at, data) SELECT {q.text(PERSONA_EVENT)}, c.id, {q.moment(now)},"
        f" {data} FROM persona_new n JOIN customer c ON c.id = n.id"
        " WHERE c.persona IS NOT NULL AND c.persona <> n.persona",
        q.values,
        connection=conn,
    )
    u = Params(dialect)
    await execute(
        f"UPDATE customer SET persona = persona_new.persona, persona_at = {u.moment(now)}"
        " FROM persona_new WHERE customer.id = persona_new.id",
        u.values,
        connection=conn,
    )
    await script("DROP TABLE persona_new", conn)
    return assigned, changed


async def refresh(
    defs: Definitions,
    *,
    dialect: str,
    as_of: datetime | None = None,
    incremental: bool = False,
    on_step: Callable[[str], None] | None = None,
) -> RefreshReport:
    """Recompute features and RFM and assign personas; ``incremental`` limits it to touched customers."""
    now = datetime.now(UTC)
    as_of = as_of or now
    report = RefreshReport(incremental=incremental)
    step = on_step or (lambda _: None)
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        report.seconds[name] = time.perf_counter() - clock
        clock = time.perf_counter()
        step(name)

    async with transaction() as conn:
        marks = await _max_ids(conn)
        since = await state.get(WATERMARK_KEY, conn) if incremental else None
        report.incremental = touched = since is not None
        if touched and dialect == "postgres":
            # small, indexed work: compiling it to machine code (JIT) would cost more than running it
            await script("SET LOCAL jit = off", conn)
        if touched:
            await script("DROP TABLE IF EXISTS touched", conn)
            await script("CREATE TEMPORARY TABLE touched (id BIGINT PRIMARY KEY)", conn)
            last = (since or {}).get("as_of")
            before = datetime.fromisoformat(last) if isinstance(last, str) else None
            await _touch(conn, dialect, {k: int(v) for k, v in dict((since or {})["ids"]).items()}, before, as_of)
        lap("changes")
        await features.recompute(conn, dialect, now, touched, as_of)
        lap("features")
        await features.refresh_rfm(conn, touched)
        lap("rfm")
        report.customers, report.changed = await assign_personas(conn, defs, dialect, as_of, now, touched)
        lap("personas")
        if touched:
            await script("DROP TABLE touched", conn)
        elif dialect == "postgres":
            # every row changed: stale statistics (persona all NULL after an import) would mislead the planner
            await script("ANALYZE customer_features, customer", conn)
        await state.put(WATERMARK_KEY, {"ids": marks, "as_of": as_of.isoformat()}, conn)
        await saved.save(defs, conn, at=now)  # what validate and launch check campaigns against, by default
    return report
