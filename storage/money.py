"""Money in several currencies: the shop's exchange rates (``chatcast config rates``), and the one way amounts in
several currencies are added up, into the shop's currency (``CHATCAST_SHOP_CURRENCY``), never mixed silently.

A rate says what one unit of a currency is worth in the shop's currency (``EUR 1.08`` in a USD shop: 1 EUR is
1.08 USD). The shop's own currency is always 1 and needs no rate. Where an amount's currency has no rate,
:func:`convert` gives no total and names the currencies that lack one.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.currencies import UnknownCurrency, currency_code
from storage.errors import ChatcastError
from storage.models import ExchangeRate
from storage.sql import transaction


class RateRefused(ChatcastError, ValueError):
    """A rate that cannot be stored: an unknown currency, the shop's own, or no positive number."""


@dataclass(frozen=True)
class Rate:
    """One stored rate: 1 ``currency`` is ``per_unit`` of the shop's currency, as set at ``updated_at``."""

    currency: str
    per_unit: float
    updated_at: datetime


def convert(
    amounts_by_currency: Mapping[str, float], rates: Mapping[str, float], shop_currency: str
) -> tuple[float | None, list[str]]:
    """The sum of ``amounts_by_currency`` in ``shop_currency`` (rounded to 4 decimals) and the currencies without a
    rate in ``rates`` (sorted); the sum is None whenever one is missing. A zero amount needs no rate."""
    missing = sorted(c for c, amount in amounts_by_currency.items() if amount and c != shop_currency and c not in rates)
    if missing:
        return None, missing
    total = sum(
        amount * (1.0 if c == shop_currency else rates[c]) for c, amount in amounts_by_currency.items() if amount
    )
    return round(total, 4), []


def checked(currency: str, per_unit: float | str, shop_currency: str) -> tuple[str, float]:
    """``(code, rate)`` as stored: an ISO 4217 code other than the shop's, and a positive finite number; raises
    :class:`RateRefused` saying what is wrong."""
    try:
        code = currency_code(currency)
    except UnknownCurrency as exc:
        raise RateRefused(str(exc)) from None
    if code == shop_currency:
        raise RateRefused(f"{code} is the shop's currency (CHATCAST_SHOP_CURRENCY): it needs no rate")
    try:
        value = float(per_unit)
    except ValueError:
        raise RateRefused(f"{per_unit!r} is not a number (a rate is 1 {code} in {shop_currency}, e.g. 1.08)") from None
    if not math.isfinite(value) or value <= 0:
        raise RateRefused(f"the rate of {code} must be a positive number, got {per_unit!r}")
    return code, value


def read_rates(text: str, shop_currency: str) -> dict[str, float]:
    """The rates of a CSV file: a header with ``currency`` and ``rate`` (or ``per_unit_in_shop_currency``), one
    currency a row; raises :class:`RateRefused` naming the line of the first bad row."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    columns = [c.strip().lower() for c in reader.fieldnames or []]
    value_column = next((c for c in ("rate", "per_unit_in_shop_currency") if c in columns), None)
    if "currency" not in columns or value_column is None:
        raise RateRefused("line 1 (header): the columns are currency and rate (1 unit in the shop's currency)")
    found: dict[str, float] = {}
    for row in reader:
        cells = {str(k).strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
        try:
            code, value = checked(cells.get("currency", ""), cells.get(value_column, ""), shop_currency)
        except RateRefused as exc:
            raise RateRefused(f"line {reader.line_num}: {exc}") from None
        if code in found:
            raise RateRefused(f"line {reader.line_num}: {code} has a rate on an earlier line already")
        found[code] = value
    return found


async def rates() -> dict[str, float]:
    """Every stored rate: currency -> what 1 unit is worth in the shop's currency."""
    return {str(c): float(v) for c, v in await ExchangeRate.all().values_list("currency", "per_unit_in_shop_currency")}


async def stored_rates() -> list[Rate]:
    """Every stored rate with when it was set, by currency."""
    return [
        Rate(r.currency, r.per_unit_in_shop_currency, r.updated_at)
        for r in await ExchangeRate.all().order_by("currency")
    ]


async def set_rates(given: Mapping[str, float], shop_currency: str) -> dict[str, float]:
    """Store ``given`` (currency -> 1 unit in ``shop_currency``), all or none, replacing those stored; the rates
    stored, as checked."""
    valid = dict(checked(c, v, shop_currency) for c, v in given.items())
    async with transaction() as conn:
        for code, value in valid.items():
            await ExchangeRate.update_or_create(
                currency=code, defaults={"per_unit_in_shop_currency": value}, using_db=conn
            )
    return valid


async def remove_rate(currency: str) -> bool:
    """Forget the rate of ``currency``; whether there was one."""
    return bool(await ExchangeRate.filter(currency=currency.strip().upper()).delete())
