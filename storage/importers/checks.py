"""What a value from outside may hold before anything uses it, in an imported file or a webhook's body: text
without NUL (which PostgreSQL cannot store) or other control characters, JSON nested at most
:data:`MAX_DEPTH` deep, no text longer than :data:`MAX_TEXT`, no list or object of more than :data:`MAX_ITEMS`,
and only finite numbers. Each refusal names where the value is (``lines[0].sku``)."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from storage.errors import ChatcastError

MAX_DEPTH = 20  # an order is 3 deep (order, lines, a line); custom attributes a few more
MAX_TEXT = 100_000  # characters of one text value (a product's description is the longest)
MAX_ITEMS = 10_000  # entries of one JSON list or object
# C0 control characters but tab, line feed and carriage return, which text may hold
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


class ValueRefused(ChatcastError, ValueError):
    """A value that breaks the rules: where it is (None: the text as a whole) and why."""

    def __init__(self, path: str | None, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path, self.reason = path, reason


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored as it is (a NUL or another control character), or None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    char = found.group()
    return "contains a NUL character" if char == "\x00" else f"contains a control character (U+{ord(char):04X})"


def _constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def loads(text: str) -> Any:
    """``text`` parsed as JSON, within the rules of this module; raises :class:`ValueRefused` (path None when the
    text is not JSON at all, or nested too deep to be read)."""
    try:
        data = json.loads(text, parse_constant=_constant)
    except RecursionError:
        raise ValueRefused(None, f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}" if exc.lineno > 1 else f"column {exc.colno}"
        raise ValueRefused(None, f"not valid JSON ({exc.msg} at {where})") from None
    except ValueError as exc:  # NaN, Infinity, an integer of thousands of digits
        raise ValueRefused(None, f"not valid JSON ({exc})") from None
    check(data)
    return data


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def check(data: Any) -> None:
    """Raise :class:`ValueRefused` naming the first value of ``data`` (parsed JSON) that breaks the rules."""
    stack: list[tuple[str, Any, int]] = [("", data, 0)]
    while stack:
        path, value, depth = stack.pop()
        where = path or None
        if isinstance(value, str):
            if len(value) > MAX_TEXT:
                raise ValueRefused(where, f"is {len(value):,} characters long (at most {MAX_TEXT:,})")
            if problem := text_problem(value):
                raise ValueRefused(where, problem)
        elif isinstance(value, float) and not math.isfinite(value):
            raise ValueRefused(where, "is not a finite number")
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise ValueRefused(where, f"is nested deeper than {MAX_DEPTH} levels")
            if len(value) > MAX_ITEMS:
                raise ValueRefused(where, f"has {len(value):,} entries (at most {MAX_ITEMS:,})")
            items = list(value.items() if isinstance(value, dict) else enumerate(value))
            for key, _ in items:
                if isinstance(key, str) and (problem := text_problem(key)):
                    raise ValueRefused(where, f"has a key that {problem}")
            # reversed onto the stack: the first problem in reading order is the one found
            stack.extend((_child(path, key), item, depth + 1) for key, item in reversed(items))
