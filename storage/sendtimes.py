"""Queries of the best send time: customers and their engagement read a chunk at a time, fitted hours stored,
and the hours of a campaign step's ``best`` rows grouped for their due times."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime

from storage.db import dialect
from storage.sql import Params, execute, fetch, transaction, values_source


async def customers_after(after: int, limit: int) -> list[tuple[int, str | None, str | None]]:
    """Up to ``limit`` customers with ids above ``after``, in id order: (id, persona, timezone)."""
    q = Params(dialect())
    rows = await fetch(
        f"SELECT id, persona, timezone FROM customer WHERE id > {q.add(after)} ORDER BY id LIMIT {int(limit)}",
        q.values,
    )
    return [(int(r[0]), r[1], r[2]) for r in rows]


async def engagement(after: int, limit: int, since: datetime, weights: Mapping[str, int]) -> list[tuple[int, ...]]:
    """Up to ``limit`` engagement events with ids above ``after``, at or after ``since``, in id order: (event id,
    customer id, minutes since the epoch, the weight of its type), computed by the database so that no timestamp
    is parsed in Python. Read in id order, the table is scanned once, in storage order."""
    q = Params(dialect())
    weight = "CASE e.type " + " ".join(f"WHEN {q.text(k)} THEN {int(w)}" for k, w in weights.items()) + " END"
    # SQLite's planner (without statistics) would take the (type, at) index, then sort: a unary + on those
    # columns leaves it the primary key, in order
    kind, at = "e.type", "e.at"
    if q.dialect == "postgres":
        minute = "CAST(FLOOR(EXTRACT(EPOCH FROM e.at) / 60) AS BIGINT)"
    else:
        minute, kind, at = "CAST(strftime('%s', e.at) AS INTEGER) / 60", "+e.type", "+e.at"
    return await fetch(  # tuples of ints as the driver gives them: no per-row conversion for millions of rows
        f"SELECT e.id, e.customer_id, {minute}, {weight} FROM event e WHERE e.id > {q.add(after)}"
        f" AND e.customer_id IS NOT NULL AND {kind} IN {q.texts(list(weights))} AND {at} >= {q.moment(since)}"
        f" ORDER BY e.id LIMIT {int(limit)}",
        q.values,
    )


async def save(
    first: int, last: int, rows: Sequence[tuple[int, int, str, float]], fitted_at: datetime, *, chunk: int = 50_000
) -> int:
    """Replace the fitted hours of customers ``first``..``last`` with ``rows`` (customer id, hour, source, events),
    in one transaction."""
    async with transaction() as connection:
        q = Params(dialect())
        await execute(
            f"DELETE FROM send_time WHERE customer_id >= {q.add(first)} AND customer_id <= {q.add(last)}",
            q.values,
            connection,
        )
        for start in range(0, len(rows), chunk):
            q = Params(dialect())
            at = q.moment(fitted_at)
            part = rows[start : start + chunk]
            if q.dialect == "postgres":
                source = values_source(q, part, ["bigint", "smallint", "text", "float8"])
                columns = "v.column1, v.column2, v.column3, v.column4"
            else:  # one JSON parameter, unpacked by SQLite: binding four parameters a row costs more than the insert
                source = f"json_each({q.add(json.dumps(part))}) AS v"
                columns = ", ".join(f"json_extract(v.value, '$[{i}]')" for i in range(4))
            await execute(
                f"INSERT INTO send_time (customer_id, hour, source, events, fitted_at) SELECT {columns}, {at}"
                f" FROM {source}",
                q.values,
                connection,
            )
    return len(rows)


async def best_groups(campaign_id: int, step: str) -> list[tuple[str | None, int]]:
    """The (customer timezone, best hour) pairs among the step's planned ``best`` rows of fitted customers."""
    q = Params(dialect())
    rows = await fetch(
        "SELECT DISTINCT c.timezone, s.hour FROM delivery d JOIN customer c ON c.id = d.customer_id"
        " JOIN send_time s ON s.customer_id = d.customer_id"
        f" WHERE d.campaign_id = {q.add(campaign_id)} AND d.step = {q.text(step)} AND d.status = 'planned'"
        " AND d.timing = 'best'",
        q.values,
    )
    return [(r[0], int(r[1])) for r in rows]


async def set_best_due(campaign_id: int, step: str, zone: str | None, hour: int, moment: datetime) -> int:
    """Set ``moment`` on the step's planned ``best`` rows of customers in ``zone`` whose best hour is ``hour``."""
    q = Params(dialect())
    zone_test = "c.timezone IS NULL" if zone is None else f"c.timezone = {q.text(zone)}"
    return await execute(
        f"UPDATE delivery SET due_at = {q.moment(moment)} WHERE campaign_id = {q.add(campaign_id)}"
        f" AND step = {q.text(step)} AND status = 'planned' AND timing = 'best' AND customer_id IN"
        f" (SELECT s.customer_id FROM send_time s JOIN customer c ON c.id = s.customer_id"
        f" WHERE s.hour = {q.add(hour)} AND {zone_test})",
        q.values,
    )


async def unfitted(campaign_id: int, step: str) -> int:
    """The step's planned ``best`` rows whose customer has no fitted hour."""
    q = Params(dialect())
    rows = await fetch(
        f"SELECT COUNT(*) FROM delivery d WHERE d.campaign_id = {q.add(campaign_id)} AND d.step = {q.text(step)}"
        " AND d.status = 'planned' AND d.timing = 'best'"
        " AND NOT EXISTS (SELECT 1 FROM send_time s WHERE s.customer_id = d.customer_id)",
        q.values,
    )
    return int(rows[0][0])
