"""What customers said about products: imported reviews and chat feedback, read per product (SKU)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from storage.models import Feedback, Review


@dataclass(frozen=True)
class Said:
    """One review or piece of feedback on a product: its text, sentiment, and stars when it has them."""

    text: str
    sentiment: float
    rating: float | None
    source: str  # "review" or "feedback"


async def by_product(skus: Sequence[str] | None = None) -> dict[str, list[Said]]:
    """Reviews, then chat feedback, per SKU (only ``skus`` when given)."""
    wanted = set(skus) if skus is not None else None
    found: dict[str, list[Said]] = defaultdict(list)
    query = Review.all()
    if wanted is not None:
        query = query.filter(product__sku__in=list(wanted))
    rows = await query.order_by("id").values_list("product__sku", "text", "sentiment", "rating")
    for sku, text, sentiment, rating in rows:
        found[str(sku)].append(Said(str(text), float(sentiment), None if rating is None else float(rating), "review"))
    # feedback keeps its SKUs in a JSON list, which neither database indexes: read and pick here
    for products, text, sentiment in await Feedback.all().order_by("id").values_list("products", "text", "sentiment"):
        for sku in products or []:
            if wanted is None or sku in wanted:
                found[str(sku)].append(Said(str(text), float(sentiment), None, "feedback"))
    return dict(found)


async def count() -> int:
    """How many reviews are stored."""
    return await Review.all().count()
