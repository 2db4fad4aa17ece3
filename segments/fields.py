"""What a rule can talk about: every field, its kind, the operators it takes and whether it has a window."""

from __future__ import annotations

import re
from dataclasses import dataclass

COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
NUMBER_OPS = frozenset({*COMPARE, "between", "exists"})
OPS_BY_KIND: dict[str, frozenset[str]] = {
    "text": frozenset({"eq", "ne", "in", "not_in", "exists"}),
    "number": NUMBER_OPS,
    "count": NUMBER_OPS,
    "days": NUMBER_OPS,
    "list": frozenset({"contains", "contains_any", "contains_all", "exists"}),
    "bool": frozenset({"eq"}),
    "events": NUMBER_OPS - {"exists"},
    "channel": frozenset({"eq", "in"}),
    "bought": frozenset({"category", "sku", "within"}),
    "segment": frozenset({"eq"}),
}
ALL_OPS = frozenset().union(*OPS_BY_KIND.values()) - {"category", "sku"}
ATTRIBUTE = re.compile(r"attributes\.([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Field:
    """One thing a condition can test."""

    name: str
    kind: str
    help: str
    windowed: bool = False


FIELDS: dict[str, Field] = {
    f.name: f
    for f in (
        Field("language", "text", "the customer's language code, e.g. en, pt-BR"),
        Field("country", "text", "the customer's country"),
        Field("timezone", "text", "the customer's IANA timezone"),
        Field("persona", "text", "the persona assigned at the last refresh (segments only)"),
        Field("tags", "list", "the customer's tags"),
        Field("categories", "list", "product categories the customer ever bought"),
        Field("orders_count", "count", "orders placed (returns not counted)", windowed=True),
        Field("returns_count", "count", "returns and cancellations", windowed=True),
        Field("total_spend", "number", "spend net of returns", windowed=True),
        Field("avg_order_value", "number", "net spend per order; unset without orders", windowed=True),
        Field("discount_orders", "count", "orders that used a discount code", windowed=True),
        Field("days_since_first_order", "days", "whole days since the first order; unset without orders"),
        Field("days_since_last_order", "days", "whole days since the last order; unset without orders"),
        Field("rfm_recency", "count", "recency quintile, 5 = most recent; unset without orders"),
        Field("rfm_frequency", "count", "frequency quintile, 5 = most orders; unset without orders"),
        Field("rfm_monetary", "count", "monetary quintile, 5 = biggest spend; unset without orders"),
        Field(
            "clicked",
            "events",
            "clicks on campaign links and buttons, not Not now or Unsubscribe (true, false, or counts)",
            windowed=True,
        ),
        Field("replied", "events", "replies to campaign messages (true, false, or counts)", windowed=True),
        Field("opted_in", "bool", "has marketing consent now"),
        Field(
            "sentiment_30d", "number", "mean sentiment (-1..1) of the last 30 days' feedback and messages; unset: none"
        ),
        Field("open_complaint", "bool", "has a complaint that is not resolved yet"),
        Field("negative_about", "list", "SKUs the customer's negative feedback was about"),
        Field("channel", "channel", "reachable on this chat channel (one of the registered channels)"),
        Field("bought", "bought", "bought from a category or a SKU (category, sku, within)", windowed=True),
        Field("segment", "segment", "belongs to another segment of the same file"),
    )
}


def lookup(name: str, operand_kind: str | None = None) -> Field | None:
    """The field called ``name``; ``attributes.<key>`` takes its kind from the operand it is compared with."""
    if name in FIELDS:
        return FIELDS[name]
    if ATTRIBUTE.fullmatch(name):
        return Field(name, operand_kind or "text", "a custom attribute")
    return None


def known_names() -> list[str]:
    """Every field name, for suggestions."""
    return [*FIELDS, "attributes.<name>"]
