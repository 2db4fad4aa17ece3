"""Every operator, window and nesting, evaluated by the database on the hand-made shop (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from segments.compiler import FROM, Compiler
from segments.rules import Reader
from storage import db
from storage.sql import Params, fetch
from tests.fakes.segments_shop import AS_OF, build

CASES: list[tuple[dict[str, Any], str]] = [
    # customer fields and attributes
    ({"language": "en"}, "AD"),
    ({"language": {"ne": "en"}}, "BCE"),
    ({"language": {"in": ["de", "fr"]}}, "BC"),
    ({"language": ["de", "fr"]}, "BC"),
    ({"language": {"not_in": ["de", "fr"]}}, "ADE"),
    ({"country": {"exists": False}}, "CE"),
    ({"country": {"exists": True}}, "ABD"),
    ({"country": {"ne": "US"}}, "BD"),
    ({"not": {"country": "US"}}, "BCDE"),
    ({"timezone": "Europe/Berlin"}, "B"),
    ({"tags": "club"}, "A"),
    ({"tags": {"contains_any": ["club", "newsletter"]}}, "AB"),
    ({"tags": {"contains_all": ["club", "newsletter"]}}, "A"),
    ({"tags": {"exists": False}}, "CDE"),
    ({"attributes.tier": "gold"}, "A"),
    ({"attributes.tier": {"exists": True}}, "AB"),
    ({"attributes.visits": {"gte": 3}}, "AB"),
    ({"attributes.visits": {"lt": 5}}, "B"),
    ({"attributes.visits": "12"}, "D"),
    ({"attributes.vip": True}, "A"),
    # order features, all time and within windows
    ({"orders_count": {"gte": 2}}, "AB"),
    ({"orders_count": 0}, "D"),
    ({"orders_count": {"between": [1, 2]}}, "BCE"),
    ({"orders_count": {"gte": 1, "within": "30 days"}}, "AC"),
    ({"orders_count": {"eq": 2, "within": "30d"}}, "A"),
    ({"orders_count": {"lt": 1, "within": "30 days"}}, "BDE"),
    ({"returns_count": {"gte": 1}}, "AE"),
    ({"returns_count": {"gte": 1, "within": "30 days"}}, "A"),
    ({"total_spend": {"gt": 1000}}, "A"),
    ({"total_spend": 0}, "DE"),
    ({"total_spend": {"gte": 100, "within": "90 days"}}, "A"),
    ({"total_spend": {"lt": 50, "within": "3 months"}}, "BCDE"),
    ({"avg_order_value": {"gte": 75}}, "AB"),
    ({"avg_order_value": {"lt": 40}}, "CE"),
    ({"avg_order_value": {"exists": False}}, "D"),
    ({"discount_orders": {"gte": 2}}, "B"),
    ({"discount_orders": {"gte": 1, "within": "2 months"}}, "A"),
    ({"days_since_last_order": {"gte": 100}}, "BE"),
    ({"days_since_last_order": {"gt": 100}}, "E"),
    ({"days_since_last_order": {"lte": 10}}, "AC"),
    ({"days_since_last_order": {"lt": 10}}, "A"),
    ({"days_since_last_order": 10}, "C"),
    ({"days_since_last_order": {"ne": 10}}, "ABE"),
    ({"days_since_last_order": {"exists": False}}, "D"),
    ({"days_since_first_order": {"between": [200, 300]}}, "AB"),
    ({"categories": "gift-sets"}, "B"),
    ({"categories": {"contains_any": ["socks", "gift-sets"]}}, "BC"),
    # RFM quintiles among the four buyers: recency E<B<C<A, frequency E=C<B<A, monetary E<C<B<A
    ({"rfm_monetary": 4}, "A"),
    ({"rfm_recency": {"lte": 2}}, "BE"),
    ({"rfm_frequency": 1}, "CE"),
    ({"rfm_frequency": {"exists": False}}, "D"),
    # engagement
    ({"clicked": True}, "C"),
    ({"clicked": False}, "ABDE"),
    ({"clicked": {"gte": 2}}, "C"),
    ({"clicked": {"within": "7 days"}}, "C"),
    ({"clicked": {"gte": 2, "within": "1 week"}}, ""),
    ({"clicked": {"eq": 0, "within": "7 days"}}, "ABDE"),
    ({"clicked": {"eq": 1, "within": "7 days"}}, "C"),
    ({"clicked": {"eq": 1}}, ""),
    ({"replied": {"within": "30 days"}}, ""),
    ({"replied": {"within": "60 days"}}, "C"),
    ({"opted_in": True}, "AD"),
    ({"opted_in": False}, "BCE"),
    ({"channel": "telegram"}, "A"),
    ({"channel": {"in": ["telegram", "slack"]}}, "ABD"),
    ({"bought": {"category": "running-shoes"}}, "AE"),
    ({"bought": {"category": "running-shoes", "within": "90 days"}}, "A"),
    ({"bought": {"sku": "P-GIFT", "within": "150 days"}}, "B"),
    ({"bought": {"sku": ["P-SOCK", "P-GIFT"]}}, "BC"),
    ({"bought": {"category": "gift-sets", "sku": "P-RUN"}}, ""),
    # nesting
    ({"all": [{"orders_count": {"gte": 1}}, {"not": {"bought": {"category": "running-shoes"}}}]}, "BC"),
    ({"any": [{"language": "de"}, {"all": [{"clicked": True}, {"not": {"tags": "club"}}]}]}, "BC"),
    ({"not": {"any": [{"language": "en"}, {"orders_count": {"gte": 2}}]}}, "CE"),
    ({"not": {"not": {"language": "en"}}}, "AD"),
    ({"all": [{"any": [{"language": "en"}, {"language": "de"}]}, {"not": {"opted_in": True}}]}, "B"),
]


async def members(rule: dict[str, Any], correlated: bool) -> str:
    reader = Reader("test.yaml")
    compiled = reader.rule(rule, 1, "rule")
    assert compiled is not None, reader.problems
    params = Params(db.dialect())
    where = Compiler(params, AS_OF, correlated=correlated).rule(compiled)
    rows = await fetch(f"SELECT c.external_id FROM {FROM} WHERE {where} ORDER BY 1", params.values)
    return "".join(r[0] for r in rows)


async def test_every_operator_window_and_nesting(database: str) -> None:
    await build()
    failures = []
    for rule, expected in CASES:
        for correlated in (False, True):  # the whole-table form (refresh) and the one-customer form (explain)
            got = await members(rule, correlated)
            if got != expected:
                failures.append(f"{rule} (correlated={correlated}): expected {expected or '-'}, got {got or '-'}")
    assert not failures, "\n".join(failures)


def test_rules_compile_to_parameters_not_text() -> None:
    reader = Reader("test.yaml")
    compiled = reader.rule({"language": "x'); DROP TABLE customer; --"}, 1, "rule")
    assert compiled is not None
    params = Params("sqlite")
    sql = Compiler(params, AS_OF).rule(compiled)
    assert "DROP" not in sql and params.values == ["x'); DROP TABLE customer; --"]
