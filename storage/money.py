"""Amounts in several currencies: converted to the shop's currency with the rates the shop keeps, never mixed."""

from __future__ import annotations

from collections.abc import Mapping


def convert(
    amounts: Mapping[str, float], rates: Mapping[str, float], shop_currency: str
) -> tuple[float | None, list[str]]:
    """``amounts`` (per currency) as one amount in ``shop_currency`` (``rates``: one unit of a currency in the shop's
    currency), and the currencies without a rate; None when any amount cannot be converted."""
    missing = sorted(c for c, v in amounts.items() if v and c != shop_currency and c not in rates)
    if missing:
        return None, missing
    total = sum(v if c == shop_currency else v * rates[c] for c, v in amounts.items())
    return round(total, 2), []


async def rates() -> dict[str, float]:
    """The shop's exchange rates (placeholder until the rates table lands)."""
    return {}
