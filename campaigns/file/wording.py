"""Problems in a campaign file in plain words: pydantic's errors translated, with did-you-mean hints."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Collection
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from campaigns.file.definition import SLUG, Campaign

Loc = tuple[int | str, ...]
EXPECTED = {
    **dict.fromkeys(["string_type"], "text"),
    **dict.fromkeys(["int_type", "int_parsing", "int_from_float"], "a whole number"),
    **dict.fromkeys(["float_type", "float_parsing"], "a number"),
    **dict.fromkeys(["bool_type", "bool_parsing"], "true or false"),
    **dict.fromkeys(["list_type"], "a list"),
    **dict.fromkeys(["dict_type", "model_type", "model_attributes_type"], "a mapping"),
    **dict.fromkeys(["date_type", "date_parsing", "date_from_datetime_inexact"], "a date such as 2026-04-30"),
    **dict.fromkeys(["time_type", "time_parsing"], "a time such as 09:30"),
    **dict.fromkeys(["datetime_type", "datetime_parsing"], "a date and time such as 2026-04-30T09:00:00+02:00"),
}
LIMITS = {
    "string_too_long": "must have at most {max_length} characters",
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "takes at most {max_length} items",
    "greater_than": "must be more than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
}
PATTERNS = {
    SLUG: "must be lower-case letters, digits, - or _, starting with a letter (e.g. spring-sale)",
    r"^[A-Za-z0-9_-]+$": "must be letters, digits, - or _ (e.g. SPRING20)",
    r"^\d+\s*(m|h|d)$": "must be a delay in minutes, hours or days (e.g. 30m, 24h, 3d)",
}


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) in (Annotated, Union, types.UnionType):  # Annotated[X, ...] and X | None are X here
        tp = next(a for a in get_args(tp) if a is not type(None))
    return tp


def type_at(loc: Loc) -> Any:
    """The declared type at ``loc`` in the campaign model (None where the path leaves it)."""
    tp: Any = Campaign
    for part in loc:
        tp = _unwrap(tp)
        fields = tp.model_fields if isinstance(tp, type) and issubclass(tp, BaseModel) else {}
        if part in fields:
            tp = fields[part].annotation
        elif get_origin(tp) is list and isinstance(part, int):
            tp = get_args(tp)[0]
        elif get_origin(tp) is dict:
            tp = get_args(tp)[1]
        else:
            return None
    return _unwrap(tp)


def unknown(what: str, value: Any, known: Collection[str] | None) -> str:
    """``unknown persona 'vip2' (did you mean 'vip'?)``: the closest known name, or all of them when few."""
    known, text = list(known or []), str(value)
    close = difflib.get_close_matches(text, known, n=1) or [k for k in known if len(k) > 2 and text.startswith(k)]
    if close:
        return f"unknown {what} {value!r} (did you mean {close[0]!r}?)"
    listed = f" (known: {', '.join(known)})" if 0 < len(known) <= 20 else ""
    return f"unknown {what} {value!r}{listed}"


def _got(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "nothing"}[value]
    kind = "text" if isinstance(value, str) else "the number" if isinstance(value, int | float) else None
    if kind:
        return f"{kind} {value!r}"
    return "a mapping" if isinstance(value, dict) else "a list" if isinstance(value, list) else type(value).__name__


def explain(error: ErrorDetails) -> str:
    """Pydantic's error in the marketer's words."""
    kind, ctx, value, loc = error["type"], error.get("ctx", {}), error["input"], error["loc"]
    if kind == "missing":
        return "missing (required)"
    if kind == "extra_forbidden":
        parent = type_at(loc[:-1])
        return unknown("field", loc[-1], getattr(parent, "model_fields", None))
    if kind == "literal_error":
        tp = type_at(loc)
        if get_origin(tp) is Literal:
            return unknown("value", value, [str(a) for a in get_args(tp)])
        return unknown("value", value, re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))  # a union member
    if kind == "string_pattern_mismatch":
        return f"{PATTERNS.get(ctx['pattern'], 'does not have the expected form')}, got {value!r}"
    if kind == "string_too_short":
        return "must not be empty" if ctx["min_length"] == 1 else f"needs at least {ctx['min_length']} characters"
    if kind in EXPECTED:
        return f"expected {EXPECTED[kind]}, got {_got(value)}"
    if kind in LIMITS:
        limit = LIMITS[kind].format(**{k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()})
        sized = kind.endswith(("too_long", "too_short")) and hasattr(value, "__len__")
        return f"{limit}, got {len(value) if sized else value}"
    if kind == "value_error":
        return str(ctx["error"])
    return error["msg"]
