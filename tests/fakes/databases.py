"""The tables of our schema, and emptying them on PostgreSQL (a session's database, reused by every test)."""

from __future__ import annotations

TABLES = (
    "exchange_rate",
    "inbound_update",
    "review",
    "product_copy",
    "order_notice",
    "complaint",
    "feedback",
    "conversation",
    "copy_cache",
    "installation",
    "system_state",
    "chat_message",
    "event",
    "delivery",
    "campaign",
    "customer_features",
    "order_item",
    "order",
    "product",
    "channel_identity",
    "customer",
)


async def truncate() -> None:
    """Empty every table of the connected PostgreSQL database, its ids starting again at 1."""
    from storage.sql import script

    await script("TRUNCATE " + ", ".join(f'"{t}"' for t in TABLES) + " RESTART IDENTITY CASCADE")
