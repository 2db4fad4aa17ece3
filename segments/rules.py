"""Rules as a tree (``all`` / ``any`` / ``not`` over conditions), read from YAML with every mistake located."""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from segments.fields import ALL_OPS, OPS_BY_KIND, known_names, lookup

WINDOW = re.compile(r"\s*(\d+)\s*(d|days?|w|weeks?|m|months?|y|years?)\s*", re.IGNORECASE)
UNIT_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass(frozen=True)
class Problem:
    """One mistake in a definitions file: where it is and what is wrong."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


@dataclass(frozen=True)
class Condition:
    """A test of one field: ``ops`` are (operator, operand) pairs that must all hold."""

    field: str
    kind: str
    ops: tuple[tuple[str, Any], ...]
    within_days: int | None = None
    line: int = 0
    path: str = ""


@dataclass(frozen=True)
class Group:
    """``all`` (every child holds), ``any`` (one does) or ``not`` (its single child does not)."""

    op: str
    children: tuple[Rule, ...]
    line: int = 0
    path: str = ""


Rule = Condition | Group


@dataclass
class Reader:
    """Turns YAML nodes into rules, collecting problems instead of stopping at the first."""

    file: str
    problems: list[Problem] = field(default_factory=list)
    channels: Collection[str] | None = None  # the channels a ``channel`` rule may name; None: any name

    def problem(self, line: int, path: str, message: str) -> None:
        """Record one mistake."""
        self.problems.append(Problem(self.file, line, path, message))

    def rule(self, node: Any, line: int, path: str) -> Rule | None:
        """A rule from its YAML node: a mapping with one key, a group keyword or a field name."""
        line = int(getattr(getattr(node, "lc", None), "line", line - 1)) + 1
        if not isinstance(node, dict) or len(node) != 1:
            self.problem(line, path, "a rule is a mapping with exactly one key: all, any, not or a field name")
            return None
        (key, value), at = next(iter(node.items())), key_line(node, next(iter(node)), line)
        key = str(key)
        if key in ("all", "any"):
            if not isinstance(value, list) or not value:
                self.problem(at, path, f"{key} takes a non-empty list of rules")
                return None
            kids = [self.rule(v, item_line(value, i, at), f"{path}.{key}[{i}]") for i, v in enumerate(value)]
            return None if None in kids else Group(key, tuple(k for k in kids if k), at, path)
        if key == "not":
            kid = self.rule(value, at, f"{path}.not")
            return None if kid is None else Group("not", (kid,), at, path)
        return self.condition(key, value, at, f"{path}.{key}")

    def condition(self, name: str, value: Any, line: int, path: str) -> Condition | None:
        """One field test; shorthand ``field: value`` means equality (``contains`` for lists)."""
        spec = lookup(name, _operand_kind(value))
        if spec is None:
            close = difflib.get_close_matches(name, known_names(), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known_names())})"
            self.problem(line, path, f"unknown field {name!r}{hint}")
            return None
        ops, within = self._ops(spec.kind, value, line, path)
        if ops is None:
            return None
        if within is not None and not spec.windowed:
            self.problem(line, path, f"{name} takes no window (fields with one: orders_count, total_spend, ...)")
            return None
        errors = [m for op, operand in ops if (m := check_operand(spec.kind, op, operand, self.channels))]
        for message in errors:
            self.problem(line, path, f"{name}: {message}")
        return None if errors else Condition(name, spec.kind, tuple(ops), within, line, path)

    def _ops(self, kind: str, value: Any, line: int, path: str) -> tuple[list[tuple[str, Any]] | None, int | None]:
        if kind == "bought":
            if not isinstance(value, dict):
                self.problem(line, path, "bought takes a mapping: category and/or sku, and an optional within")
                return None, None
        elif not isinstance(value, dict):
            return [(_shorthand(kind, value), value)], None
        ops = [(str(k), v) for k, v in value.items() if k != "within"]
        within = None
        if "within" in value:
            within = parse_window(value["within"])
            if within is None:
                self.problem(line, path, f"within: {value['within']!r} is not a window such as '30 days' or '6 months'")
                return None, None
        allowed = OPS_BY_KIND[kind] - {"within"}
        for op, _ in ops:
            if op not in allowed:
                what = "unknown operator" if op not in ALL_OPS | {"category", "sku"} else "operator"
                self.problem(line, path, f"{what} {op!r} for a {kind} field (use one of: {', '.join(sorted(allowed))})")
                return None, None
        if kind == "bought" and not ops:
            self.problem(line, path, "bought needs a category or a sku")
            return None, None
        if kind == "events" and not ops:
            ops = [("gte", 1)]
        if not ops:
            self.problem(line, path, "no operator given")
            return None, None
        return ops, within


def _operand_kind(value: Any) -> str:
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in ("exists", "within")}
    probe = next(iter(value.values()), "") if isinstance(value, dict) else value
    if isinstance(probe, list) and probe:
        probe = probe[0]
    if isinstance(probe, bool):
        return "bool"
    return "number" if isinstance(probe, int | float) else "text"


def _shorthand(kind: str, value: Any) -> str:
    if kind == "list":
        return "contains_any" if isinstance(value, list) else "contains"
    if kind in ("text", "channel") and isinstance(value, list):
        return "in"
    return "eq"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _texts(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v)


def check_operand(kind: str, op: str, operand: Any, channels: Collection[str] | None = None) -> str | None:
    """Why ``operand`` does not suit ``op`` on a ``kind`` field, or None when it does; a channel is one of
    ``channels`` (any name when not given)."""
    if op == "exists":
        return None if isinstance(operand, bool) else "exists takes true or false"
    if kind == "events" and op == "eq" and isinstance(operand, bool):
        return None
    if kind in ("number", "count", "days", "events"):
        if op == "between":
            ok = isinstance(operand, list) and len(operand) == 2 and all(map(_is_number, operand))
            return None if ok and operand[0] <= operand[1] else "between takes [low, high], two numbers"
        if not _is_number(operand):
            return f"{op} takes a number, got {operand!r}"
        if kind in ("count", "days", "events") and (operand < 0 or int(operand) != operand):
            return f"{op} takes a whole number of at least 0, got {operand!r}"
        return None
    if kind == "bool":
        return None if isinstance(operand, bool) else f"takes true or false, got {operand!r}"
    if kind == "channel":
        names = operand if op == "in" else [operand]
        known = channels if channels is not None else [n for n in names if isinstance(n, str)]
        bad = [n for n in names if n not in known] if isinstance(names, list) else [names]
        return f"unknown channel {bad[0]!r} (channels: {', '.join(known)})" if bad else None
    if kind == "bought" or op in ("in", "not_in", "contains_any", "contains_all"):
        ok = isinstance(operand, str) or _texts(operand) if kind == "bought" else _texts(operand)
        return None if ok else f"{op} takes {'a name or ' if kind == 'bought' else ''}a list of names"
    return None if isinstance(operand, str) else f"{op} takes text, got {operand!r}"


def parse_window(value: Any) -> int | None:
    """Days in a window: ``30``, ``"30 days"``, ``"90d"``, ``"2 weeks"``, ``"6 months"``, ``"1 year"``."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    match = WINDOW.fullmatch(str(value)) if isinstance(value, str) else None
    if not match or int(match.group(1)) == 0:
        return None
    return int(match.group(1)) * UNIT_DAYS[match.group(2)[0].lower()]


def key_line(node: Any, key: Any, default: int) -> int:
    """The 1-based line of ``key`` in a ruamel mapping (``default`` for plain dicts)."""
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return default


def item_line(node: Any, index: int, default: int) -> int:
    """The 1-based line of item ``index`` in a ruamel sequence."""
    try:
        return int(node.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return default
