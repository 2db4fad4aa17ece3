"""Why a customer has their persona and is in their segments: every node of every rule, evaluated for them.

The database evaluates the same SQL as a refresh (correlated to the one customer), so the explanation
cannot disagree with the assignment.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from segments.audience import compiler_for
from segments.compiler import FROM
from segments.definitions import Definitions, walk
from segments.rules import Condition, Group, Rule
from storage.errors import ChatcastError
from storage.sql import fetch

PROFILE = ("external_id", "name", "language", "country", "timezone", "tags", "persona", "persona_at")
FEATURES = (
    "orders_count",
    "returns_count",
    "total_spend",
    "avg_order_value",
    "discount_orders",
    "first_order_at",
    "last_order_at",
    "categories",
    "clicks",
    "replies",
    "rfm_recency",
    "rfm_frequency",
    "rfm_monetary",
    "computed_at",
)


class UnknownCustomer(ChatcastError, LookupError):
    """No customer has that external id."""


@dataclass
class Node:
    """One node of a rule with its outcome for the customer (and the value a condition looked at)."""

    label: str
    holds: bool
    value: Any = None
    children: list[Node] = field(default_factory=list)


@dataclass
class Explanation:
    """Everything ``segments explain`` shows for one customer."""

    profile: dict[str, Any]
    features: dict[str, Any]
    personas: list[tuple[str, Node | None]]
    persona_now: str
    segments: list[tuple[str, Node]]


def describe(cond: Condition) -> str:
    """A condition in words, close to how it is written."""
    ops = ", ".join(f"{op} {json.dumps(v, ensure_ascii=False)}" for op, v in cond.ops)
    window = f" within {cond.within_days} days" if cond.within_days else ""
    return f"{cond.field}: {ops}{window}"


def _days(value: Any, as_of: datetime) -> Any:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return math.floor((as_of - value).total_seconds() / 86400)
    return value


async def explain(defs: Definitions, external_id: str, dialect: str, as_of: datetime) -> Explanation:
    """Evaluate every persona and segment rule for the customer ``external_id``."""
    compiler = compiler_for(defs, dialect, as_of, correlated=True)
    rules: list[tuple[str, Rule]] = [(f"persona {p.id}", p.when) for p in defs.personas if p.when]
    rules += [(f"segment {s.id}", s.when) for s in defs.segments.values()]
    nodes = [node for _, rule in rules for node in walk(rule)]
    columns = [compiler.rule(node) for node in nodes]
    values = [compiler.value(n) if isinstance(n, Condition) else None for n in nodes]
    select = [*(f"c.{k}" for k in PROFILE), *(f"f.{k}" for k in FEATURES), *columns]
    select += [f"({v})" for v in values if v is not None]
    key = compiler.params.text(external_id)
    rows = await fetch(f"SELECT {', '.join(select)} FROM {FROM} WHERE c.external_id = {key}", compiler.params.values)
    if not rows:
        raise UnknownCustomer(f"no customer with external id {external_id!r}")
    row = list(rows[0])
    profile = dict(zip(PROFILE, row[: len(PROFILE)], strict=True))
    row = row[len(PROFILE) :]
    features = dict(zip(FEATURES, row[: len(FEATURES)], strict=True))
    row = row[len(FEATURES) :]
    outcomes = iter(row[: len(nodes)])
    looked = iter(row[len(nodes) :])
    by_node: dict[int, Node] = {}
    for node, value_sql in zip(nodes, values, strict=True):
        holds = bool(next(outcomes))
        if isinstance(node, Condition):
            value = next(looked) if value_sql is not None else None
            value = _days(value, as_of) if node.kind == "days" else value
            by_node[id(node)] = Node(describe(node), holds, value)
        else:
            by_node[id(node)] = Node(node.op, holds)
    for node in nodes:
        if isinstance(node, Group):
            by_node[id(node)].children = [by_node[id(child)] for child in node.children]
    for name in ("tags", "categories"):
        source = profile if name in profile else features
        if isinstance(source.get(name), str):
            source[name] = json.loads(source[name])
    personas: list[tuple[str, Node | None]] = [(p.id, by_node[id(p.when)] if p.when else None) for p in defs.personas]
    now = next((pid for pid, node in personas if node is None or node.holds), defs.personas[-1].id)
    segments = [(s.id, by_node[id(s.when)]) for s in defs.segments.values()]
    return Explanation(profile, features, personas, now, segments)
