"""Refreshing features and personas: first match wins, the catch-all, history, incremental runs, RFM."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from segments import saved
from segments.definitions import parse
from segments.refresh import PERSONA_EVENT, refresh
from storage import db, state
from storage.models import Customer, CustomerFeatures, Event, Order, OrderItem, Product
from storage.sql import fetch
from tests.fakes.segments_shop import AS_OF, build, definitions

PERSONAS = """
personas:
  - id: {first}
    description: d
    tone: t
    when: {first_rule}
  - id: {second}
    description: d
    tone: t
    when: {second_rule}
  - id: quiet
    description: never opted in or opted out
    tone: t
    when: {{opted_in: false}}
  - id: rest
    description: everyone else
    tone: t
"""
BUYERS_FIRST = PERSONAS.format(
    first="buyer", first_rule="{orders_count: {gte: 2}}", second="english", second_rule="{language: en}"
)
ENGLISH_FIRST = PERSONAS.format(
    first="english", first_rule="{language: en}", second="buyer", second_rule="{orders_count: {gte: 2}}"
)


async def personas() -> dict[str, str]:
    return {c.external_id: c.persona for c in await Customer.all().order_by("external_id")}


async def test_the_first_persona_whose_rule_holds_wins(database: str) -> None:
    await build()
    report = await refresh(definitions(BUYERS_FIRST), dialect=db.dialect(), as_of=AS_OF)
    assert report.customers == 5
    assert await personas() == {"A": "buyer", "B": "buyer", "C": "quiet", "D": "english", "E": "quiet"}
    await refresh(definitions(ENGLISH_FIRST), dialect=db.dialect(), as_of=AS_OF)
    assert await personas() == {"A": "english", "B": "buyer", "C": "quiet", "D": "english", "E": "quiet"}


async def test_a_refresh_keeps_the_definitions_it_assigned_by(database: str) -> None:
    await build()
    await refresh(parse(BUYERS_FIRST, "shop/segments.yaml"), dialect=db.dialect(), as_of=AS_OF)
    kept = await saved.saved()
    assert kept is not None and kept.saved_at is not None
    assert kept.definitions.file == "shop/segments.yaml" and kept.definitions.text == BUYERS_FIRST
    assert kept.definitions.persona_ids() == ["buyer", "english", "quiet", "rest"]
    await refresh(parse(ENGLISH_FIRST, "other.yaml"), dialect=db.dialect(), as_of=AS_OF, incremental=True)
    again = await saved.saved()
    assert again is not None and again.definitions.file == "other.yaml"
    assert again.definitions.persona_ids()[:2] == ["english", "buyer"]


async def test_the_catch_all_takes_everyone_else(database: str) -> None:
    await build()
    defs = definitions(
        "personas:\n  - id: french\n    description: d\n    tone: t\n    when: {language: fr}\n"
        "  - id: everyone\n    description: d\n    tone: t\n"
    )
    await refresh(defs, dialect=db.dialect(), as_of=AS_OF)
    assert await personas() == {"A": "everyone", "B": "everyone", "C": "french", "D": "everyone", "E": "everyone"}
    stamped = await Customer.filter(persona_at__isnull=True).count()
    assert stamped == 0


async def test_changes_of_persona_become_events_and_repeats_change_nothing(database: str) -> None:
    await build()  # its refresh assigned everyone the catch-all "everyone": no events for first assignments
    assert await Event.filter(type=PERSONA_EVENT).count() == 0
    await refresh(definitions(BUYERS_FIRST), dialect=db.dialect(), as_of=AS_OF)
    moves = {e.customer_id: e.data for e in await Event.filter(type=PERSONA_EVENT)}
    ids = {c.external_id: c.id for c in await Customer.all()}
    assert moves == {
        ids["A"]: {"from": "everyone", "to": "buyer"},
        ids["B"]: {"from": "everyone", "to": "buyer"},
        ids["C"]: {"from": "everyone", "to": "quiet"},
        ids["D"]: {"from": "everyone", "to": "english"},
        ids["E"]: {"from": "everyone", "to": "quiet"},
    }
    again = await refresh(definitions(BUYERS_FIRST), dialect=db.dialect(), as_of=AS_OF)
    assert again.changed == 0 and await Event.filter(type=PERSONA_EVENT).count() == 5


async def test_features_are_aggregated_in_the_database(database: str) -> None:
    await build()
    f = {x.customer.external_id: x for x in await CustomerFeatures.all().prefetch_related("customer")}
    assert len(f) == 5
    assert (f["A"].orders_count, f["A"].returns_count, f["A"].total_spend) == (12, 1, 1100)
    assert round(f["A"].avg_order_value, 2) == 91.67 and f["A"].discount_orders == 1
    assert f["A"].categories == ["running-shoes"] and f["C"].categories == ["socks"]
    assert (f["B"].orders_count, f["B"].total_spend, f["B"].discount_orders) == (2, 150, 2)
    assert (f["C"].clicks, f["C"].replies) == (2, 1) and f["C"].last_engaged_at == AS_OF - timedelta(days=3)
    assert (f["D"].orders_count, f["D"].total_spend, f["D"].last_order_at) == (0, 0, None)
    assert (f["E"].orders_count, f["E"].total_spend) == (1, 0)  # the return cancels the spend
    assert f["A"].last_order_at == AS_OF - timedelta(days=5) and f["A"].first_order_at == AS_OF - timedelta(days=280)
    scores = {k: (v.rfm_recency, v.rfm_frequency, v.rfm_monetary) for k, v in f.items()}
    assert scores == {"A": (4, 4, 4), "B": (2, 3, 3), "C": (3, 1, 2), "D": (None, None, None), "E": (1, 1, 1)}


@pytest.mark.slow
async def test_rfm_scores_are_quintiles(database: str) -> None:
    product = await Product.create(sku="S", name="s", price=1)
    for i in range(100):
        customer = await Customer.create(external_id=f"Q{i:03d}")
        for n in range(i % 10 + 1):
            order = await Order.create(
                external_id=f"Q{i}-{n}", customer=customer, ordered_at=AS_OF - timedelta(days=100 - i), total=i + 1
            )
            await OrderItem.create(order=order, line=1, product=product, quantity=1, unit_price=i + 1)
    await refresh(definitions(BUYERS_FIRST), dialect=db.dialect(), as_of=AS_OF)
    rows = await fetch("SELECT rfm_recency, COUNT(*) FROM customer_features GROUP BY rfm_recency ORDER BY 1")
    assert [tuple(r) for r in rows] == [(s, 20) for s in range(1, 6)]
    spend = await fetch("SELECT rfm_monetary, MIN(total_spend), MAX(total_spend) FROM customer_features GROUP BY 1")
    ranges = sorted((int(r[0]), float(r[1]), float(r[2])) for r in spend)
    assert all(a[2] < b[1] for a, b in itertools.pairwise(ranges))  # higher score, higher spend
    cuts = await state.get("segments.rfm_cuts")
    assert cuts is not None and len(cuts["rfm_monetary"]) == 4


async def test_an_incremental_refresh_touches_only_new_orders_events_and_customers(database: str) -> None:
    customers = await build()
    defs = definitions(BUYERS_FIRST)
    await refresh(defs, dialect=db.dialect(), as_of=AS_OF)
    before = {c.external_id: c.persona_at for c in await Customer.all()}
    product = await Product.get(sku="P-RUN")
    for n in range(2):  # D buys twice: now a buyer
        order = await Order.create(
            external_id=f"D{n}", customer=customers["D"], ordered_at=AS_OF - timedelta(days=1), total=100
        )
        await OrderItem.create(order=order, line=1, product=product, quantity=1, unit_price=100)
    await Event.create(type="clicked", customer=customers["B"], at=AS_OF, data={})
    await Customer.create(external_id="F", language="en")
    report = await refresh(defs, dialect=db.dialect(), as_of=AS_OF, incremental=True)
    assert report.incremental and report.customers == 3 and report.changed == 1
    after = {c.external_id: c.persona_at for c in await Customer.all()}
    assert [k for k in sorted(after) if after[k] != before.get(k)] == ["B", "D", "F"]
    assert (await personas())["D"] == "buyer" and (await personas())["F"] == "english"
    features = await CustomerFeatures.get(customer__external_id="D")
    assert features.orders_count == 2 and features.rfm_monetary is not None
    assert (await CustomerFeatures.get(customer__external_id="B")).clicks == 1
    nothing_new = await refresh(defs, dialect=db.dialect(), as_of=AS_OF, incremental=True)
    assert nothing_new.incremental and nothing_new.customers == 0


async def test_an_incremental_refresh_without_an_earlier_one_is_a_full_one(database: str) -> None:
    await Customer.create(external_id="Z", language="en")
    report = await refresh(definitions(BUYERS_FIRST), dialect=db.dialect(), as_of=AS_OF, incremental=True)
    assert not report.incremental and report.customers == 1 and (await personas()) == {"Z": "english"}
