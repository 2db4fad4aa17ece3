"""Recommendations on both databases: each rule, nothing already bought, categories, stock and the fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns.file.definition import Recommend
from segments.recommend import Pick, Recommender, products_by_sku, recommend
from storage.models import Customer, Order, OrderItem, Product

AS_OF = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CATALOG = [  # sku, category, price, stock
    ("S1", "shoes", 50, 10),
    ("S2", "shoes", 80, 10),
    ("S3", "shoes", 120, None),
    ("S4", "shoes", 200, 5),
    ("K1", "socks", 5, 10),
    ("K2", "socks", 8, 10),
    ("H1", "hats", 30, 0),
    ("H2", "hats", 25, 3),
]
# units sold in the last 90 days: S3 > S2 > K2 > H2 > S1; S4 sold a lot, but half a year ago
SALES = {"S3": 9, "S2": 7, "K2": 5, "H2": 4, "S1": 2, "H1": 20}


async def shop() -> dict[str, int]:
    """The catalog, the sales, and customers: x (bought S1 at 60 and K1 at 4), y (nothing), z (all but K2, S4)."""
    products = {
        sku: await Product.create(sku=sku, name=f"Product {sku}", category=cat, price=price, stock=stock)
        for sku, cat, price, stock in CATALOG
    }
    people = {k: await Customer.create(external_id=k) for k in ("seller", "x", "y", "z")}
    n = 0

    async def order(who: str, lines: list[tuple[str, int, float]], days: int = 10, is_return: bool = False) -> None:
        nonlocal n
        n += 1
        o = await Order.create(
            external_id=f"O{n}", customer=people[who], ordered_at=AS_OF - timedelta(days=days), is_return=is_return
        )
        for line, (sku, qty, price) in enumerate(lines):
            await OrderItem.create(order=o, line=line, product=products[sku], quantity=qty, unit_price=price)

    await order("seller", [(sku, qty, 1.0) for sku, qty in SALES.items()])
    await order("seller", [("S4", 50, 1.0)], days=180)
    await order("x", [("S1", 1, 60.0), ("K1", 2, 4.0)], days=200)
    await order("z", [(sku, 1, 1.0) for sku, *_ in CATALOG if sku not in ("K2", "S4")])
    await order("z", [("K2", -1, 8.0)], is_return=True)  # a returned product was bought too
    return {k: int(c.id) for k, c in people.items()}


def skus(picks: dict[int, list], customer: int) -> list[str]:
    return [p.sku for p in picks[customer]]


async def test_bestsellers_in_a_category_then_overall(database: str) -> None:
    ids = await shop()
    picks = await recommend(Recommend(rule="bestsellers", category="shoes", count=3), list(ids.values()), as_of=AS_OF)
    assert skus(picks, ids["y"]) == ["S3", "S2", "S1"]
    assert skus(picks, ids["x"]) == ["S3", "S2", "S4"]  # S1 was bought; S4 sold nothing in the window
    assert skus(picks, ids["z"]) == ["S4"]  # everything else bought, or out of stock (H1)
    overall = await recommend(Recommend(rule="bestsellers", count=4), [ids["y"]], as_of=AS_OF)
    assert skus(overall, ids["y"]) == ["S3", "S2", "K2", "H2"]
    shoe = overall[ids["y"]][0]
    assert (shoe.name, shoe.price, shoe.category, shoe.stock) == ("Product S3", 120, "shoes", None)


async def test_cross_sell_stays_in_the_bought_categories_and_falls_back(database: str) -> None:
    ids = await shop()
    picks = await recommend(Recommend(rule="cross_sell", count=4), [ids["x"], ids["y"]], as_of=AS_OF)
    assert skus(picks, ids["x"]) == ["S3", "S2", "K2", "S4"]  # shoes and socks, best first, not S1 or K1
    assert skus(picks, ids["y"]) == ["S3", "S2", "K2", "H2"]  # no history: the overall bestsellers
    socks = await recommend(Recommend(rule="cross_sell", category="socks", count=2), [ids["x"]], as_of=AS_OF)
    assert skus(socks, ids["x"]) == ["K2"]  # the only sock left: a campaign about socks recommends socks


async def test_upsell_offers_pricier_products_than_usual_cheapest_first(database: str) -> None:
    ids = await shop()
    picks = await recommend(Recommend(rule="upsell", count=3), [ids["x"]], as_of=AS_OF)
    assert skus(picks, ids["x"]) == ["K2", "S2", "S3"]  # socks above 4, shoes above 60, by price
    assert skus(await recommend(Recommend(rule="upsell"), [ids["x"]], as_of=AS_OF, limit=5), ids["x"]) == [
        "K2",
        "S2",
        "S3",
        "S4",
        "H2",
    ]


async def test_a_recommender_serves_many_batches_and_skus_resolve_in_order(database: str) -> None:
    ids = await shop()
    recommender = Recommender(Recommend(rule="bestsellers", count=1), as_of=AS_OF)
    first, second = await recommender.pick([ids["x"]]), await recommender.pick([ids["y"], 999_999])
    assert skus(first, ids["x"]) == ["S3"] and skus(second, ids["y"]) == ["S3"] and skus(second, 999_999) == ["S3"]
    assert [p.sku for p in await products_by_sku(["K2", "nope", "S1", "K2"])] == ["K2", "S1"]
    assert await products_by_sku([]) == [] and await recommend(Recommend(rule="upsell"), [], as_of=AS_OF) == {}


async def test_a_named_category_is_kept_unless_the_rule_asks_to_fill_from_any(database: str) -> None:
    ids = await shop()
    everyone = list(ids.values())
    shoes = Recommend(rule="bestsellers", category="shoes", count=3)
    kept = Recommender(shoes, as_of=AS_OF)
    picks = await kept.pick(everyone)
    assert skus(picks, ids["y"]) == ["S3", "S2", "S1"] and skus(picks, ids["z"]) == ["S4"]
    assert kept.shortfall(len(picks[ids["z"]])) == (
        "1 of 3 products: the category shoes has no more in stock that the customer has not bought"
    )
    assert kept.shortfall(3) is None
    socks = Recommend(rule="cross_sell", category="socks", count=3)
    assert skus(await recommend(socks, [ids["y"]], as_of=AS_OF), ids["y"]) == ["K2", "K1"]  # no history: socks
    upsell = Recommend(rule="upsell", category="socks", count=3)
    assert skus(await recommend(upsell, [ids["x"]], as_of=AS_OF), ids["x"]) == ["K2"]
    filled = Recommender(Recommend(rule="cross_sell", category="socks", count=2, fill="any"), as_of=AS_OF)
    assert skus(await filled.pick([ids["x"]]), ids["x"]) == ["K2", "S3"]  # asked for: then the overall bestseller
    assert filled.shortfall(0) == "0 of 2 products: the catalog has no more in stock that the customer has not bought"


async def test_without_a_category_the_whole_catalog_fills_as_before(database: str) -> None:
    ids = await shop()
    assert Pick().fill == "category"  # the assistant's rule: no category, so nothing changes for it
    assistant = await Recommender(Pick("cross_sell", None, 4), as_of=AS_OF).pick([ids["x"], ids["y"]])
    assert skus(assistant, ids["x"]) == ["S3", "S2", "K2", "S4"]  # its categories, then any bestseller
    assert skus(assistant, ids["y"]) == ["S3", "S2", "K2", "H2"]
    overall = await recommend(Recommend(rule="bestsellers", count=4), [ids["z"]], as_of=AS_OF)
    assert skus(overall, ids["z"]) == ["S4"]
