"""Rules compiled to SQL boolean expressions over ``customer c`` left-joined to ``customer_features f``.

Every condition is wrapped in ``(...) IS TRUE`` so that an unset value makes it false, never unknown: ``not``
then means what a marketer expects. Windowed conditions become uncorrelated ``c.id IN (subquery)`` for
whole-table evaluation (the database runs each subquery once), or correlated ones for a single customer.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from segments.fields import ATTRIBUTE, COMPARE
from segments.rules import Condition, Group, Rule
from storage.sql import Params

FROM = "customer c LEFT JOIN customer_features f ON f.customer_id = c.id"
COLUMNS = {
    "language": "c.language",
    "country": "c.country",
    "timezone": "c.timezone",
    "persona": "c.persona",
    "tags": "c.tags",
    "categories": "f.categories",
    "orders_count": "COALESCE(f.orders_count, 0)",
    "returns_count": "COALESCE(f.returns_count, 0)",
    "total_spend": "COALESCE(f.total_spend, 0)",
    "avg_order_value": "CASE WHEN f.orders_count > 0 THEN f.avg_order_value END",
    "discount_orders": "COALESCE(f.discount_orders, 0)",
    "days_since_first_order": "f.first_order_at",
    "days_since_last_order": "f.last_order_at",
    "rfm_recency": "f.rfm_recency",
    "rfm_frequency": "f.rfm_frequency",
    "rfm_monetary": "f.rfm_monetary",
    "clicked": "COALESCE(f.clicks, 0)",
    "replied": "COALESCE(f.replies, 0)",
    "sentiment_30d": "f.sentiment_30d",
    "open_complaint": "COALESCE(f.open_complaint, FALSE)",
    "negative_about": "f.negative_skus",
}
# Windowed aggregates over orders: (SQL aggregate, its value for a customer with no order in the window).
ORDER_AGGREGATES: dict[str, tuple[str, float | None]] = {
    "orders_count": ("COUNT(CASE WHEN NOT o.is_return THEN 1 END)", 0),
    "returns_count": ("COUNT(CASE WHEN o.is_return THEN 1 END)", 0),
    "total_spend": ("SUM(o.total)", 0),
    "avg_order_value": ("SUM(o.total) / NULLIF(COUNT(CASE WHEN NOT o.is_return THEN 1 END), 0)", None),
    "discount_orders": ("COUNT(CASE WHEN o.discount_code IS NOT NULL AND NOT o.is_return THEN 1 END)", 0),
}
PY_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


@dataclass
class Compiler:
    """Compiles rules for one query: its parameters, the moment windows end, the segments it may name."""

    params: Params
    as_of: datetime
    segments: dict[str, Rule] = field(default_factory=dict)
    correlated: bool = False

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgres``."""
        return self.params.dialect

    def rule(self, rule: Rule) -> str:
        """The SQL boolean expression of ``rule``."""
        if isinstance(rule, Group):
            parts = [self.rule(child) for child in rule.children]
            if rule.op == "not":
                return f"(NOT {parts[0]})"
            return "(" + f" {'AND' if rule.op == 'all' else 'OR'} ".join(parts) + ")"
        return f"(({self.condition(rule)}) IS TRUE)"

    def condition(self, cond: Condition) -> str:
        """The SQL of one condition (may be NULL where a value is unset)."""
        if cond.field == "segment":
            return self.rule(self.segments[str(cond.ops[0][1])])
        if cond.kind == "bought":
            return self._bought(cond)
        if cond.field == "opted_in":
            consent = "(c.opted_in_at IS NOT NULL AND (c.opted_out_at IS NULL OR c.opted_out_at < c.opted_in_at))"
            return consent if cond.ops[0][1] else f"NOT {consent}"
        if cond.kind == "channel":
            names = [cond.ops[0][1]] if cond.ops[0][0] == "eq" else list(cond.ops[0][1])
            return self._member(
                "SELECT ci.customer_id FROM channel_identity ci WHERE ci.reachable"
                f" AND ci.channel IN {self.params.texts(names)}",
                "ci.customer_id",
            )
        if cond.within_days is not None:
            return self._windowed(cond)
        if cond.kind == "days":
            return " AND ".join(self._days(COLUMNS[cond.field], op, v) for op, v in cond.ops)
        if ATTRIBUTE.fullmatch(cond.field):
            key = cond.field.split(".", 1)[1]
            value = self._attribute(key, cond.kind)
            raw = f"(c.attributes -> '{key}')" if self.dialect == "postgres" else f"json_type(c.attributes, '$.{key}')"
            return " AND ".join(self._compare(raw if op == "exists" else value, op, v, cond.kind) for op, v in cond.ops)
        if cond.kind == "list":
            return " AND ".join(self._list(COLUMNS[cond.field], op, v) for op, v in cond.ops)
        return self._all_ops(COLUMNS[cond.field], cond)

    def value(self, cond: Condition) -> str | None:
        """SQL for the value a condition looked at, for one customer (explain); None where there is none."""
        window = self._window("o.ordered_at", cond.within_days)
        if cond.kind == "bought":
            filters = " AND ".join(
                f"{'p.category' if op == 'category' else 'p.sku'} IN "
                f"{self.params.texts([v] if isinstance(v, str) else list(v))}"
                for op, v in cond.ops
            )
            return (
                'SELECT COUNT(DISTINCT o.id) FROM "order" o JOIN order_item i ON i.order_id = o.id'
                f" JOIN product p ON p.id = i.product_id WHERE o.customer_id = c.id AND NOT o.is_return"
                f" AND {filters}{window}"
            )
        if cond.kind == "channel":
            agg = "string_agg(ci.channel, ', ')" if self.dialect == "postgres" else "group_concat(ci.channel, ', ')"
            return f"SELECT {agg} FROM channel_identity ci WHERE ci.customer_id = c.id AND ci.reachable"
        if cond.within_days is not None and cond.kind == "events":
            when = self._window("o.at", cond.within_days)
            kind = self.params.text(cond.field)
            return f"SELECT COUNT(*) FROM event o WHERE o.customer_id = c.id AND o.type = {kind}{when}"
        if cond.within_days is not None:
            return f'SELECT {ORDER_AGGREGATES[cond.field][0]} FROM "order" o WHERE o.customer_id = c.id{window}'
        if ATTRIBUTE.fullmatch(cond.field):
            key = cond.field.split(".", 1)[1]
            return (
                f"c.attributes ->> '{key}'" if self.dialect == "postgres" else f"json_extract(c.attributes, '$.{key}')"
            )
        if cond.field == "opted_in":
            return self.condition(cond)
        return COLUMNS.get(cond.field)

    # -- values -----------------------------------------------------------------------------------------

    def _all_ops(self, column: str, cond: Condition) -> str:
        return " AND ".join(self._compare(column, op, v, cond.kind) for op, v in cond.ops)

    def _bind(self, value: Any, kind: str) -> str:
        if kind in ("number", "count", "days", "events"):
            return self.params.number(float(value))
        if kind == "bool":
            return "TRUE" if value else "FALSE"
        return self.params.text(str(value))

    def _compare(self, column: str, op: str, value: Any, kind: str) -> str:
        if kind == "events" and op == "eq" and isinstance(value, bool):
            op, value = ("gte", 1) if value else ("eq", 0)
        if op == "exists":
            return f"{column} IS {'NOT ' if value else ''}NULL"
        if op == "between":
            return f"{column} BETWEEN {self._bind(value[0], kind)} AND {self._bind(value[1], kind)}"
        if op in ("in", "not_in"):
            return f"{column} {'NOT ' if op == 'not_in' else ''}IN {self.params.texts([str(v) for v in value])}"
        return f"{column} {COMPARE[op]} {self._bind(value, kind)}"

    def _days(self, column: str, op: str, value: Any) -> str:
        """Whole days since a timestamp, compared as the timestamp itself (so an index can serve it)."""
        if op == "exists":
            return f"{column} IS {'NOT ' if value else ''}NULL"
        if op == "between":
            return f"({self._days(column, 'gte', value[0])} AND {self._days(column, 'lte', value[1])})"
        n = int(value)
        at = self.params.moment

        def ago(days: int) -> str:
            return at(self.as_of - timedelta(days=days))

        return {
            "gte": lambda: f"{column} <= {ago(n)}",
            "gt": lambda: f"{column} <= {ago(n + 1)}",
            "lte": lambda: f"{column} > {ago(n + 1)}",
            "lt": lambda: f"{column} > {ago(n)}",
            "eq": lambda: f"({column} > {ago(n + 1)} AND {column} <= {ago(n)})",
            "ne": lambda: f"({column} <= {ago(n + 1)} OR {column} > {ago(n)})",
        }[op]()

    def _attribute(self, key: str, kind: str) -> str:
        if self.dialect == "postgres":
            typ = f"jsonb_typeof(c.attributes -> '{key}')"
            raw = f"(c.attributes ->> '{key}')"
            if kind == "number":
                return f"(CASE WHEN {typ} = 'number' THEN CAST({raw} AS DOUBLE PRECISION) END)"
            if kind == "bool":
                return f"(CASE WHEN {typ} = 'boolean' THEN CAST({raw} AS BOOLEAN) END)"
            return f"(CASE WHEN {typ} = 'string' THEN {raw} END)"
        typ = f"json_type(c.attributes, '$.{key}')"
        raw = f"json_extract(c.attributes, '$.{key}')"
        if kind == "number":
            return f"(CASE WHEN {typ} IN ('integer', 'real') THEN {raw} END)"
        if kind == "bool":
            return f"(CASE WHEN {typ} = 'true' THEN TRUE WHEN {typ} = 'false' THEN FALSE END)"
        return f"(CASE WHEN {typ} = 'text' THEN {raw} END)"

    def _list(self, column: str, op: str, value: Any) -> str:
        pg = self.dialect == "postgres"
        length = f"{'jsonb' if pg else 'json'}_array_length({column})"
        if op == "exists":
            return f"COALESCE({length}, 0) {'>' if value else '='} 0"
        each = f"jsonb_array_elements_text({column}) AS e(value)" if pg else f"json_each({column}) AS e"
        names = [value] if isinstance(value, str) else list(value)
        matched = f"SELECT COUNT(DISTINCT e.value) FROM {each} WHERE e.value IN {self.params.texts(names)}"
        return f"({matched}) {'>= 1' if op != 'contains_all' else f'= {len(set(names))}'}"

    # -- subqueries -------------------------------------------------------------------------------------

    def _member(self, select: str, key: str) -> str:
        """``c.id IN (select)``; correlated to the current customer when compiling for one."""
        if self.correlated:
            glue = " AND " if " WHERE " in select.split(" GROUP BY ")[0] else " WHERE "
            head, _, tail = select.partition(" GROUP BY ")
            select = f"{head}{glue}{key} = c.id" + (f" GROUP BY {tail}" if tail else "")
        return f"c.id IN ({select})"

    def _window(self, column: str, days: int | None) -> str:
        if days is None:
            return ""
        since = self.params.moment(self.as_of - timedelta(days=days))
        until = self.params.moment(self.as_of)
        return f" AND {column} > {since} AND {column} <= {until}"

    def _windowed(self, cond: Condition) -> str:
        """An aggregate over the window, compared; customers with nothing in the window count as zero."""
        zero: float | None
        if cond.kind == "events":
            event = "clicked" if cond.field == "clicked" else "replied"
            aggregate, zero = "COUNT(*)", 0.0
            source = f"event o WHERE o.type = {self.params.text(event)}{self._window('o.at', cond.within_days)}"
            key = "o.customer_id"
        else:
            aggregate, zero = ORDER_AGGREGATES[cond.field]
            source = f'"order" o WHERE o.customer_id IS NOT NULL{self._window("o.ordered_at", cond.within_days)}'
            key = "o.customer_id"
        ops = [(("gte", 1) if v else ("eq", 0)) if isinstance(v, bool) else (op, v) for op, v in cond.ops]
        test = " AND ".join(self._compare(aggregate, op, v, "number") for op, v in ops)
        holds_at_zero = zero is not None and all(_holds(op, v, zero) for op, v in ops)
        having = f"NOT ({test})" if holds_at_zero else test
        member = self._member(f"SELECT {key} FROM {source} GROUP BY {key} HAVING {having}", key)
        return f"NOT {member}" if holds_at_zero else member

    def _bought(self, cond: Condition) -> str:
        filters = []
        for op, value in cond.ops:
            names = [value] if isinstance(value, str) else list(value)
            column = "p.category" if op == "category" else "p.sku"
            filters.append(f"{column} IN {self.params.texts(names)}")
        return self._member(
            'SELECT o.customer_id FROM "order" o JOIN order_item i ON i.order_id = o.id'
            " JOIN product p ON p.id = i.product_id"
            f" WHERE NOT o.is_return AND o.customer_id IS NOT NULL AND {' AND '.join(filters)}"  # erased: no one
            f"{self._window('o.ordered_at', cond.within_days)}",
            "o.customer_id",
        )


def _holds(op: str, value: Any, zero: float) -> bool:
    if op == "between":
        return bool(value[0] <= zero <= value[1])
    return PY_OPS[op](zero, value)
