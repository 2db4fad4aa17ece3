"""Counts and summaries of what the database holds, for ``db status`` and the demo."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections

TABLES = (
    "customer",
    "channel_identity",
    "product",
    "order",
    "order_item",
    "customer_features",
    "campaign",
    "delivery",
    "event",
    "chat_message",
)


async def table_counts() -> dict[str, int]:
    """Rows per table."""
    conn = connections.get("default")
    counts = {}
    for table in TABLES:
        _, rows = await conn.execute_query(f'SELECT COUNT(*) FROM "{table}"')
        counts[table] = int(rows[0][0])
    return counts


@dataclass
class ShopSummary:
    """The shape of a shop at a glance."""

    customers: int
    opted_in: int
    identities: dict[str, int]
    languages: dict[str, int]
    products: int
    categories: int
    orders: int
    returns: int
    revenue: float
    first_order: str | None
    last_order: str | None


async def shop_summary() -> ShopSummary:
    """Customers, consent, channels, catalog and order figures, each by one SQL aggregate."""
    conn = connections.get("default")

    async def one(sql: str) -> tuple:
        _, rows = await conn.execute_query(sql)
        return tuple(rows[0])

    async def pairs(sql: str) -> dict[str, int]:
        _, rows = await conn.execute_query(sql)
        return {str(r[0]): int(r[1]) for r in rows}

    customers, opted_in = await one(
        "SELECT COUNT(*), COUNT(opted_in_at) - COUNT(CASE WHEN opted_out_at >= opted_in_at THEN 1 END) FROM customer"
    )
    products, categories = await one("SELECT COUNT(*), COUNT(DISTINCT category) FROM product")
    orders, returns, revenue, first, last = await one(
        "SELECT COUNT(*), COUNT(CASE WHEN is_return THEN 1 END),"
        " COALESCE(SUM(CASE WHEN is_return THEN 0 ELSE total END), 0), MIN(ordered_at), MAX(ordered_at)"
        ' FROM "order"'
    )
    return ShopSummary(
        customers=int(customers),
        opted_in=int(opted_in),
        identities=await pairs("SELECT channel, COUNT(*) FROM channel_identity GROUP BY channel ORDER BY 1"),
        languages=await pairs("SELECT language, COUNT(*) FROM customer GROUP BY language ORDER BY 2 DESC, 1"),
        products=int(products),
        categories=int(categories),
        orders=int(orders),
        returns=int(returns),
        revenue=float(revenue),
        first_order=str(first)[:10] if first else None,
        last_order=str(last)[:10] if last else None,
    )
