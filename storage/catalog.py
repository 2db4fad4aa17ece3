"""A catalog product as the engine reads it: what recommendations pick, what a message may show, and what the
assistant tells. The stored row is :class:`storage.models.Product`; a product file's row is
:class:`storage.importers.rows.ProductRow`."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class CatalogProduct:
    """One product: its catalog fields, its stock (None: not tracked) and, where a message is written in a
    language, its approved short description in that language (``short``; None: none approved)."""

    sku: str
    name: str
    price: float
    currency: str
    url: str | None = None
    category: str = ""
    stock: int | None = None
    short: str | None = None

    def shown(self) -> dict[str, Any]:
        """The fields a message may mention (all but the stock), as a writer is given them."""
        data = asdict(self)
        del data["stock"]
        return data
