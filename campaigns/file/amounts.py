"""Discounts and shares as marketers type them (``20%``, ``10 EUR``, ``0.1``), read strictly, refused with a hint.

A discount is a share of the price, more than 0% and at most 100% (``0%`` gives nothing, ``100%`` is free), or
an amount, more than 0, with its currency's ISO 4217 code (``10 EUR``): a bare ``10`` or ``10 euro`` is refused
with the spelling to use, since the copy and the guardrails quote it as written. A share (the holdout) is a
number such as ``0.1`` or a percentage such as ``10%``.
"""

from __future__ import annotations

import re
from typing import Any

DISCOUNT_PATTERN = r"^\d+(\.\d+)?\s*(%|[A-Z]{3})$"  # what the JSON Schema tells editors
SHARE_PATTERN = r"^\d+(\.\d+)?\s*%$"
_WRITTEN = re.compile(r"(?P<before>[^\d\s+-]*)\s*(?P<sign>[+-]?)\s*(?P<number>\d+(?:[.,]\d+)?)\s*(?P<unit>.*)")
# what people write for a currency, and its ISO 4217 code (for the hint only: the code is what is accepted)
CURRENCY_WORDS = {
    "€": "EUR", "euro": "EUR", "euros": "EUR", "$": "USD", "dollar": "USD", "dollars": "USD",
    "£": "GBP", "pound": "GBP", "pounds": "GBP", "¥": "JPY", "yen": "JPY",
}  # fmt: skip
EXAMPLES = "a share such as '20%' or an amount with its currency code such as '10 EUR'"


def discount_problem(value: object) -> str | None:
    """Why ``value`` is not a discount (see the module docstring), with how to write it; None when it is one."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None  # not text at all: the type check says so
    if isinstance(value, int | float):
        shown = f"{value:g}"
        share = f"'{value * 100:g}%' for a share of the price" if 0 < value < 1 else f"'{shown}%' for a share"
        return f"an amount needs its currency: write '{shown} EUR' (or another ISO 4217 code), or {share}"
    match = _WRITTEN.fullmatch(value.strip())
    if match is None:
        return f"expected {EXAMPLES}, got {value!r}"
    before, sign, number, unit = match.group("before", "sign", "number", "unit")
    unit = unit.strip()
    code = CURRENCY_WORDS.get((before or unit).lower()) or (unit.upper() if re.fullmatch(r"[A-Za-z]{3}", unit) else "")
    number = number.replace(",", ".")
    right = f"'{number}%'" if unit == "%" else f"'{number} {code or 'EUR'}'"
    if sign == "-":
        return f"a discount cannot be negative, got {value!r}: write what the customer saves, e.g. {right}"
    if before or sign or "," in value:
        return f"write the number (decimals with a point), then % or a currency code: {right}, got {value!r}"
    amount = float(number)
    if unit == "%":
        if amount <= 0:
            return f"a discount of {value!r} gives nothing: write a share above 0% and at most 100%, or drop the offer"
        if amount > 100:
            return f"a discount is at most 100% (the whole price), got {value!r}"
        return None
    if not unit:
        return (
            f"an amount needs its currency: write '{number} EUR' (or another ISO 4217 code), or '{number}%' for a share"
        )
    if re.fullmatch(r"[A-Z]{3}", unit):
        return None if amount > 0 else f"a discount of {value!r} gives nothing: write an amount above 0"
    if code:
        return f"write the currency as its ISO 4217 code: {right}, got {value!r}"
    return f"after the number write % or a currency's ISO 4217 code (e.g. '{number} EUR'), got {value!r}"


def share(value: object, *, most: float, what: str) -> object:
    """``value`` as a share: ``10%`` becomes 0.1; text that is no share, or one above ``most``, is a ValueError
    naming it; a number above 1 that would be a fine percentage (``10``) is refused with that hint. Other numbers
    are left to the field's own bounds."""
    if isinstance(value, str):
        text = value.strip()
        match = re.fullmatch(r"([+-]?\d+(?:[.,]\d+)?)\s*%", text)
        if match is None:
            try:
                return float(text)
            except ValueError:
                raise ValueError(f"expected a share such as 0.1 or 10%, got {value!r}") from None
        percent = float(match.group(1).replace(",", "."))
        if not 0 <= percent <= most * 100:
            raise ValueError(f"{what} is a share from 0% to {most * 100:g}%, got {value!r}")
        return percent / 100
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= most * 100:
        raise ValueError(
            f"{what} is a share from 0 to {most:g} ({most * 100:g}%), got {value:g}: did you mean {value:g}%?"
        )
    return value


def share_schema(schema: dict[str, Any]) -> None:
    """The JSON Schema of a share field, widened to take ``10%`` as well as a number (within its bounds)."""
    number = {"type": schema.pop("type", "number")}
    number.update({k: schema.pop(k) for k in ("minimum", "maximum") if k in schema})
    schema["anyOf"] = [number, {"type": "string", "pattern": SHARE_PATTERN}]
