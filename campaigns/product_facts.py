"""What a product description may be written from: the catalog's facts and what customers say about it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ProductFacts:
    """One product's facts: catalog fields, specifications (``attributes``), and the themes of its reviews."""

    sku: str
    name: str
    category: str
    price: float
    currency: str
    url: str | None = None
    tags: tuple[str, ...] = ()
    attributes: dict[str, str] = field(default_factory=dict)
    description: str = ""  # the catalog's own text
    reviews: int = 0  # reviews and chat feedback about it
    rating: float | None = None  # the average stars of its reviews that have them
    praised: tuple[str, ...] = ()  # recurring themes customers praise, the most mentioned first
    complaints: tuple[str, ...] = ()  # and those they complain about

    def as_dict(self) -> dict[str, Any]:
        """The facts as JSON-able data (stored beside the description, sent to the model)."""
        data = asdict(self)
        data["tags"], data["praised"], data["complaints"] = list(self.tags), list(self.praised), list(self.complaints)
        return {key: value for key, value in data.items() if value not in (None, "", [], {})}


def attribute_text(value: object) -> str:
    """An attribute's value as a description may quote it: lists joined, numbers without a trailing ``.0``."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return ", ".join(attribute_text(v) for v in value)
    return str(value)
