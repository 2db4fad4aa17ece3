"""The RFM summary of customer-base analysis (Fader & Hardie; the ``lifetimes`` package's layout).

Per customer, over a calibration period that ends on the day ``period_end``: ``frequency`` is the number of repeat
purchase days (days with an order, less the first), ``recency`` the days from the first purchase day to the
last, ``age`` (T) the days from the first purchase day to the end of the period, and ``avg_repeat_value``
the mean spend of the repeat purchase days. Returns are left out. CLV models take these as input; the
test on the CDNOW data set checks them against the published summary.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from storage.sql import Params, fetch


@dataclass(frozen=True)
class Summary:
    """One customer's calibration-period figures, times in days."""

    external_id: str
    frequency: int
    recency_days: int
    age_days: int
    avg_repeat_value: float


def summary_sql(dialect: str, p: Params, period_end: date) -> str:
    """SQL for the summary of every customer with a purchase on or before the day ``period_end``."""
    if dialect == "postgres":
        day = "CAST(o.ordered_at AT TIME ZONE 'UTC' AS DATE)"
        diff = "({a}) - ({b})"
        end = f"CAST({p.add(period_end)} AS DATE)"
    else:
        day = "date(o.ordered_at)"
        diff = "CAST(julianday({a}) - julianday({b}) AS INTEGER)"
        end = f"date({p.add(period_end.isoformat())})"
    last_day = p.moment(datetime.combine(period_end + timedelta(days=1), time(), UTC))
    return f"""
SELECT c.external_id, COUNT(*) - 1,
    {diff.format(a="MAX(d.day)", b="MIN(d.day)")},
    {diff.format(a=end, b="MIN(d.day)")},
    COALESCE(SUM(CASE WHEN d.day > d.first_day THEN d.spend END) / NULLIF(COUNT(*) - 1, 0), 0)
FROM (
    SELECT customer_id, day, spend, MIN(day) OVER (PARTITION BY customer_id) AS first_day
    FROM (
        SELECT o.customer_id, {day} AS day, SUM(o.total) AS spend
        FROM "order" o WHERE NOT o.is_return AND o.ordered_at < {last_day}
        GROUP BY o.customer_id, {day}
    ) AS per_day
) AS d JOIN customer c ON c.id = d.customer_id
GROUP BY c.external_id
"""


async def calibration_summary(dialect: str, period_end: date) -> list[Summary]:
    """The RFM summary of every customer who bought on or before ``period_end`` (a UTC day)."""
    p = Params(dialect)
    sql = summary_sql(dialect, p, period_end)
    rows = await fetch(sql, p.values)
    return [Summary(str(r[0]), int(r[1]), int(r[2]), int(r[3]), float(r[4])) for r in rows]
