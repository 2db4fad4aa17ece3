"""How a cell's text becomes a number or a moment, as spreadsheets write them: decimal commas in semicolon-separated
files, and day-first dotted dates (``01.04.2027 09:30``) anywhere."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo

_DECIMAL_COMMA = re.compile(r"[+-]?(?:[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+),[0-9]+")  # 89,90 and 1.234,50
_THOUSANDS = re.compile(r"[+-]?[1-9][0-9]{0,2}(?:\.[0-9]{3})+")  # 1.234: a thousand in Germany, one point two in the US


def decimal(value: Any, info: ValidationInfo) -> Any:
    """A number as the file writes it. In a semicolon-separated CSV (``decimal_comma`` in the context) a decimal
    comma is read (``89,90``, ``1.234,50``) and ``1.234`` is refused as ambiguous; elsewhere a decimal comma is
    refused with the way to write it."""
    if type(value) is not str or ("," not in value and "." not in value):
        return value
    text = value.strip()
    if (info.context or {}).get("decimal_comma"):
        if _DECIMAL_COMMA.fullmatch(text):
            return text.replace(".", "").replace(",", ".")
        if _THOUSANDS.fullmatch(text):
            plain, comma = text.replace(".", ""), text.replace(".", ",")
            raise ValueError(
                f"{text!r} is ambiguous in a semicolon-separated file: write {plain} if you mean {plain},"
                f" or {comma} if you mean {text}"
            )
    elif _DECIMAL_COMMA.fullmatch(text):
        raise ValueError(
            f"{text!r} has a decimal comma, read only in semicolon-separated files: write"
            f" {text.replace('.', '').replace(',', '.')}"
        )
    return value


_DOTTED = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?")


def dotted_date(value: Any) -> Any:
    """``31.12.2026`` or ``31.12.2026 09:30[:15]``, day first (the only order dotted dates are written in), as a
    datetime without a zone (read in the shop's); anything else as given."""
    if type(value) is not str or not (found := _DOTTED.fullmatch(value.strip())):
        return value
    day, month, year, hour, minute, second = (int(part) if part else 0 for part in found.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        raise ValueError(f"{value.strip()!r} is not a date (day.month.year)") from None


Moment = Annotated[datetime, BeforeValidator(dotted_date)]
