"""Products picked per customer from their purchase history: bestsellers, cross-sell and upsell.

The database does the counting: one query ranks the in-stock catalog by units sold in the last 90 days,
and one query per batch of customers reads what each bought and their average price per category. Picking
is then a short walk per customer over per-category lists, so a batch of 1,000 customers costs milliseconds.
A customer never gets a product they bought. Short picks are topped up with the named category's bestsellers,
and with any category's only where the rule's ``fill`` says ``any`` (a campaign about shoes recommends shoes);
a rule without a category tops up from the whole catalog.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from storage import db
from storage.catalog import CatalogProduct
from storage.sql import Params, fetch

WINDOW_DAYS = 90
BATCH = 5_000
_LAST = float("inf")  # sorts after every rank: bisect past all products at exactly the average price
_COLUMNS = "p.id, p.sku, p.name, p.price, p.currency, p.url, p.category, p.stock"


Fill = Literal["category", "any"]


class Rule(Protocol):
    """How to pick: a rule, an optional category, how many, and what tops up a short list (a campaign's
    ``recommend`` block satisfies it)."""

    @property
    def rule(self) -> Literal["cross_sell", "upsell", "bestsellers"]: ...
    @property
    def category(self) -> str | None: ...
    @property
    def count(self) -> int: ...
    @property
    def fill(self) -> Fill: ...


@dataclass(frozen=True)
class Pick:
    """A rule given in code (the assistant's): cross-sell and upsell from the purchase history, or bestsellers."""

    rule: Literal["cross_sell", "upsell", "bestsellers"] = "cross_sell"
    category: str | None = None
    count: int = 3
    fill: Fill = "category"


def _row(r: Sequence[Any]) -> CatalogProduct:
    """A product from the columns of ``_COLUMNS`` (its id first)."""
    url, stock = r[5], r[7]
    return CatalogProduct(
        str(r[1]), str(r[2]), float(r[3]), str(r[4]), None if url is None else str(url), str(r[6]),
        None if stock is None else int(stock),
    )  # fmt: skip


async def products_by_sku(skus: Sequence[str]) -> list[CatalogProduct]:
    """The products with these SKUs, in the order given; unknown SKUs are left out."""
    if not skus:
        return []
    p = Params(db.dialect())
    rows = await fetch(f"SELECT {_COLUMNS} FROM product p WHERE p.sku IN {p.texts(list(skus))}", p.values)
    found = {str(r[1]): _row(r) for r in rows}
    return [found[s] for s in dict.fromkeys(skus) if s in found]


@dataclass
class _History:
    """What one customer bought: product ids, and (amount, units) per category of their purchases."""

    bought: set[int]
    spent: dict[str, list[float]]


class Recommender:
    """Picks by one rule for any number of batches of customers; the catalog is ranked once, on first use."""

    def __init__(self, rule: Rule, *, as_of: datetime, limit: int | None = None) -> None:
        self.rule, self.as_of, self.count = rule, as_of, limit or rule.count
        self._ranked: list[tuple[int, CatalogProduct]] | None = None
        self._by_category: dict[str, list[int]] = {}  # category -> ranks, best first
        self._by_price: dict[str, list[tuple[float, int]]] = {}  # category -> (price, rank), cheapest first

    async def _rank(self) -> list[tuple[int, CatalogProduct]]:
        """In-stock active products, most units sold in the window first."""
        if self._ranked is None:
            p = Params(db.dialect())
            since, until = p.moment(self.as_of - timedelta(days=WINDOW_DAYS)), p.moment(self.as_of)
            rows = await fetch(
                f"SELECT {_COLUMNS}, COALESCE(s.sold, 0) AS sold FROM product p LEFT JOIN"
                ' (SELECT i.product_id, SUM(i.quantity) AS sold FROM order_item i JOIN "order" o ON o.id = i.order_id'
                f" WHERE NOT o.is_return AND o.ordered_at > {since} AND o.ordered_at <= {until}"
                " GROUP BY i.product_id) s ON s.product_id = p.id"
                " WHERE p.active AND (p.stock IS NULL OR p.stock > 0) ORDER BY sold DESC, p.id",
                p.values,
            )
            self._ranked = [(int(r[0]), _row(r)) for r in rows]
            for rank, (_, row) in enumerate(self._ranked):
                self._by_category.setdefault(row.category, []).append(rank)
                self._by_price.setdefault(row.category, []).append((row.price, rank))
            for prices in self._by_price.values():
                prices.sort()
        return self._ranked

    async def pick(self, customer_ids: Sequence[int]) -> dict[int, list[CatalogProduct]]:
        """Up to ``count`` products for each customer (fewer only where the catalog runs out)."""
        ranked = await self._rank()
        out: dict[int, list[CatalogProduct]] = {}
        ids = list(dict.fromkeys(int(c) for c in customer_ids))
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            histories = await _histories(batch)
            for cid in batch:
                history = histories.get(cid) or _History(set(), {})
                ranks = itertools.chain(self._preferred(history), self._ranks(self.rule.category), self._fill(ranked))
                out[cid] = [ranked[r][1] for r in _take(ranks, ranked, history.bought, self.count)]
        return out

    def shortfall(self, picked: int) -> str | None:
        """Why a customer got ``picked`` products, fewer than the rule's count; None when they got them all."""
        if picked >= self.count:
            return None
        kept = self.rule.category is not None and self.rule.fill != "any"
        where = f"the category {self.rule.category}" if kept else "the catalog"
        return f"{picked} of {self.count} products: {where} has no more in stock that the customer has not bought"

    def _fill(self, ranked: list[tuple[int, CatalogProduct]]) -> Iterable[int]:
        """The last resort: every category's bestsellers, unless the rule keeps to the category it names."""
        return range(len(ranked)) if self.rule.category is None or self.rule.fill == "any" else range(0)

    def _ranks(self, category: str | None) -> Iterable[int]:
        return range(0) if category is None else self._by_category.get(category, [])

    def _preferred(self, history: _History) -> Iterator[int]:
        """Ranks in the order the rule prefers, before the fallbacks."""
        rule, wanted = self.rule, self.rule.category
        mine = [c for c, (_, units) in history.spent.items() if units > 0 and wanted in (None, c)]
        if rule.rule == "bestsellers":
            yield from self._ranks(wanted)
        elif rule.rule == "cross_sell":
            yield from heapq.merge(*(self._by_category.get(c, []) for c in mine))
        else:
            above = []
            for c in mine:
                amount, units = history.spent[c]
                prices = self._by_price.get(c, [])
                above.append(prices[bisect.bisect_right(prices, (amount / units, _LAST)) :])
            yield from (rank for _, rank in heapq.merge(*above))


def _take(ranks: Iterable[int], ranked: list[tuple[int, CatalogProduct]], bought: set[int], count: int) -> list[int]:
    """The first ``count`` distinct ranks whose product was not bought."""
    picked: list[int] = []
    for rank in ranks:
        if len(picked) == count:
            break
        if ranked[rank][0] not in bought and rank not in picked:
            picked.append(rank)
    return picked


async def _histories(customer_ids: Sequence[int]) -> dict[int, _History]:
    """Each customer's bought products (returns too) and kept purchases per category, by one query."""
    if not customer_ids:
        return {}
    listed = ", ".join(str(int(c)) for c in customer_ids)  # integers only: inlined, whatever the batch size
    rows = await fetch(
        "SELECT o.customer_id, i.product_id, p.category,"
        " SUM(CASE WHEN o.is_return THEN 0 ELSE i.unit_price * i.quantity END),"
        " SUM(CASE WHEN o.is_return THEN 0 ELSE i.quantity END)"
        ' FROM "order" o JOIN order_item i ON i.order_id = o.id JOIN product p ON p.id = i.product_id'
        f" WHERE o.customer_id IN ({listed}) GROUP BY o.customer_id, i.product_id, p.category"
    )
    out: dict[int, _History] = {}
    for customer, product, category, amount, units in rows:
        history = out.setdefault(int(customer), _History(set(), {}))
        history.bought.add(int(product))
        spent = history.spent.setdefault(str(category), [0.0, 0.0])
        spent[0] += float(amount or 0)
        spent[1] += float(units or 0)
    return out


async def recommend(
    rule: Rule, customer_ids: Sequence[int], *, as_of: datetime, limit: int | None = None
) -> dict[int, list[CatalogProduct]]:
    """Products for each customer by ``rule`` (``limit`` overrides its count); one-off: reuse a Recommender."""
    return await Recommender(rule, as_of=as_of, limit=limit).pick(customer_ids)
