"""``CustomerFeatures`` recomputed by SQL aggregation, for every customer or for those in ``touched``.

Spend is net of returns (a cancellation takes its amount back; never below zero). RFM scores are quintiles
1-5 among customers with orders: the full refresh computes the cut points and stores them, an incremental
refresh scores the touched customers against the stored ones (so scores stay comparable between full runs).

What customers said: ``sentiment_30d`` is the mean sentiment of their feedback and rated chat messages in the
30 days before ``as_of`` (a message kept as feedback counts once), unset without any; ``open_complaint`` whether
a complaint of theirs is open; ``negative_skus`` the SKUs their negative feedback (any time) was about.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from storage import state
from storage.sql import BaseDBAsyncClient, execute, fetch

RFM_KEY = "segments.rfm_cuts"
SENTIMENT_DAYS = 30
NEGATIVE = -0.05  # VADER's band, as assistant.sentiment.label: below it, feedback is negative
RFM = {  # score column: (value, direction) - a later order and more orders and spend score higher
    "rfm_recency": "last_order_at",
    "rfm_frequency": "orders_count",
    "rfm_monetary": "total_spend",
}


def _scope(column: str, touched: bool) -> str:
    return f" AND {column} IN (SELECT id FROM touched)" if touched else ""


def features_sql(dialect: str, touched: bool) -> str:
    """The ``INSERT ... SELECT`` that writes the features of every customer (or the touched ones)."""
    pg = dialect == "postgres"
    floor = "GREATEST" if pg else "MAX"
    categories = (
        "SELECT o.customer_id, jsonb_agg(DISTINCT p.category ORDER BY p.category) AS cats"
        ' FROM "order" o JOIN order_item i ON i.order_id = o.id JOIN product p ON p.id = i.product_id'
        f" WHERE NOT o.is_return AND p.category <> ''{_scope('o.customer_id', touched)} GROUP BY o.customer_id"
        if pg
        else "SELECT customer_id, json_group_array(category) AS cats FROM (SELECT DISTINCT o.customer_id,"
        ' p.category FROM "order" o JOIN order_item i ON i.order_id = o.id JOIN product p ON p.id = i.product_id'
        f" WHERE NOT o.is_return AND p.category <> ''{_scope('o.customer_id', touched)} ORDER BY 1, 2)"
        " GROUP BY customer_id"
    )
    empty = "'[]'::jsonb" if pg else "'[]'"
    since, until = ("$2", "$3") if pg else ("?2", "?3")
    words = (
        "SELECT m.customer_id, m.sentiment AS score FROM chat_message m WHERE m.role = 'customer'"
        f" AND m.sentiment IS NOT NULL AND m.at > {since} AND m.at <= {until}{_scope('m.customer_id', touched)}"
        " AND NOT EXISTS (SELECT 1 FROM feedback b WHERE b.customer_id = m.customer_id AND b.at = m.at)"
        f" UNION ALL SELECT b.customer_id, b.sentiment FROM feedback b WHERE b.at > {since} AND b.at <= {until}"
        f"{_scope('b.customer_id', touched)}"
    )
    negative = (
        "SELECT b.customer_id, jsonb_agg(DISTINCT s.sku ORDER BY s.sku) AS skus FROM feedback b"
        " CROSS JOIN LATERAL jsonb_array_elements_text(b.products) AS s(sku)"
        f" WHERE b.sentiment <= {NEGATIVE}{_scope('b.customer_id', touched)} GROUP BY b.customer_id"
        if pg
        else "SELECT customer_id, json_group_array(sku) AS skus FROM (SELECT DISTINCT b.customer_id, e.value AS sku"
        f" FROM feedback b, json_each(b.products) e WHERE b.sentiment <= {NEGATIVE}{_scope('b.customer_id', touched)}"
        " ORDER BY 1, 2) GROUP BY customer_id"
    )
    # sums rounded to the stored precision: float addition in another order (another plan) must not move a
    # customer across an RFM cut point
    average = "CAST(o.spend / o.n AS NUMERIC)" if pg else "o.spend / o.n"
    round_sum = "CAST(ROUND(CAST(SUM(total) AS NUMERIC), 4) AS DOUBLE PRECISION)" if pg else "ROUND(SUM(total), 4)"
    return f"""
INSERT INTO customer_features (customer_id, orders_count, returns_count, total_spend, avg_order_value,
    first_order_at, last_order_at, discount_orders, categories, clicks, replies, last_engaged_at,
    sentiment_30d, open_complaint, negative_skus, computed_at)
SELECT c.id, COALESCE(o.n, 0), COALESCE(o.r, 0), COALESCE(o.spend, 0),
    CASE WHEN o.n > 0 THEN ROUND({average}, 4) ELSE 0 END, o.first_at, o.last_at, COALESCE(o.d, 0),
    COALESCE(k.cats, {empty}), COALESCE(e.clicks, 0), COALESCE(e.replies, 0), e.last_at, s.mean,
    EXISTS (SELECT 1 FROM complaint q WHERE q.customer_id = c.id AND q.resolved_at IS NULL),
    COALESCE(n.skus, {empty}), {"$1" if pg else "?1"}
FROM customer c
LEFT JOIN (
    SELECT customer_id,
        COUNT(CASE WHEN NOT is_return THEN 1 END) AS n,
        COUNT(CASE WHEN is_return THEN 1 END) AS r,
        {floor}(0, {round_sum}) AS spend,
        MIN(CASE WHEN NOT is_return THEN ordered_at END) AS first_at,
        MAX(CASE WHEN NOT is_return THEN ordered_at END) AS last_at,
        COUNT(CASE WHEN discount_code IS NOT NULL AND NOT is_return THEN 1 END) AS d
    FROM "order" WHERE customer_id IS NOT NULL{_scope("customer_id", touched)} GROUP BY customer_id
) o ON o.customer_id = c.id
LEFT JOIN ({categories}) k ON k.customer_id = c.id
LEFT JOIN (
    SELECT customer_id,
        COUNT(CASE WHEN type = 'clicked' THEN 1 END) AS clicks,
        COUNT(CASE WHEN type = 'replied' THEN 1 END) AS replies,
        MAX(at) AS last_at
    FROM event WHERE type IN ('clicked', 'replied') AND customer_id IS NOT NULL{_scope("customer_id", touched)}
    GROUP BY customer_id
) e ON e.customer_id = c.id
LEFT JOIN (SELECT w.customer_id, AVG(w.score) AS mean FROM ({words}) w GROUP BY w.customer_id) s ON s.customer_id = c.id
LEFT JOIN ({negative}) n ON n.customer_id = c.id
WHERE TRUE{_scope("c.id", touched)}
"""


async def recompute(
    conn: BaseDBAsyncClient, dialect: str, now: datetime, touched: bool, as_of: datetime | None = None
) -> int:
    """Rewrite the features rows (all, or the touched customers'); return how many were written. Windows (the
    sentiment of the last 30 days) end at ``as_of`` (default: ``now``)."""
    as_of = as_of or now
    await execute(f"DELETE FROM customer_features WHERE TRUE{_scope('customer_id', touched)}", connection=conn)
    window = [now, as_of - timedelta(days=SENTIMENT_DAYS), as_of]
    return await execute(features_sql(dialect, touched), window, connection=conn)


async def rfm_cuts(conn: BaseDBAsyncClient) -> dict[str, list[Any]]:
    """The quintile cut points of each RFM value among customers with orders (up to four each)."""
    cuts: dict[str, list[Any]] = {}
    for score, column in RFM.items():
        rows = await fetch(
            f"SELECT q, MAX(v) FROM (SELECT {column} AS v, NTILE(5) OVER (ORDER BY {column}) AS q"
            " FROM customer_features WHERE orders_count > 0) AS t GROUP BY q ORDER BY q",
            connection=conn,
        )
        values = [row[1] for row in rows][:4]
        cuts[score] = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return cuts


async def score_rfm(conn: BaseDBAsyncClient, cuts: dict[str, list[Any]], touched: bool) -> None:
    """Set the RFM scores from ``cuts``: 1 + the number of cut points the value is above."""
    values: list[Any] = []
    sets = []
    for score, column in RFM.items():
        arms = []
        for i, cut in reversed(list(enumerate(cuts.get(score, [])))):
            values.append(datetime.fromisoformat(cut) if column == "last_order_at" else float(cut))
            placeholder = f"${len(values)}" if conn.capabilities.dialect == "postgres" else f"?{len(values)}"
            arms.append(f"WHEN {column} > {placeholder} THEN {i + 2}")
        expression = f"CASE {' '.join(arms)} ELSE 1 END" if arms else "1"
        sets.append(f"{score} = CASE WHEN orders_count > 0 THEN {expression} END")
    await execute(
        f"UPDATE customer_features SET {', '.join(sets)} WHERE TRUE{_scope('customer_id', touched)}",
        values,
        connection=conn,
    )


async def refresh_rfm(conn: BaseDBAsyncClient, touched: bool) -> dict[str, list[Any]]:
    """Score RFM: new cut points on a full refresh, the stored ones on an incremental one."""
    stored = await state.get(RFM_KEY, conn) if touched else None
    cuts = stored if stored is not None else await rfm_cuts(conn)
    if stored is None:
        await state.put(RFM_KEY, cuts, conn)
    await score_rfm(conn, cuts, touched)
    return cuts
