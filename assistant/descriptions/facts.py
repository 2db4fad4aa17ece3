"""What a product description may be written from: the catalog's facts and what customers say about it."""

from __future__ import annotations

import re
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


# The unit a numeric attribute's key ends with (``weight_g: 280`` is 280 g): the catalog's way to give a unit.
KEY_UNITS = {
    "g": "g", "kg": "kg", "mg": "mg", "mm": "mm", "cm": "cm", "m": "m", "km": "km", "ml": "ml", "l": "l",
    "mah": "mAh", "wh": "Wh", "w": "W", "v": "V", "h": "h", "hours": "h", "min": "min", "oz": "oz", "lb": "lb",
    "in": "in", "pct": "%", "percent": "%", "gsm": "gsm", "den": "den",
}  # fmt: skip
NO = frozenset({"no", "false", "0", "none", "n/a", "nein", "non", "falso"})
YES = frozenset({"yes", "true", "1", "ja", "oui", "sí", "si"})
_NUMERIC = re.compile(r"-?\d+(?:[.,]\d+)?")


def denied(value: str) -> bool:
    """Whether an attribute's value says the product does not have it (``waterproof: no``)."""
    return value.strip().casefold() in NO


def attribute_phrase(key: str, value: str) -> str | None:
    """An attribute as a description states it: None when denied, its name when true, its value with the key's unit."""
    if denied(value):
        return None
    if value.strip().casefold() in YES:
        return attribute_name(key)
    stem, _, suffix = key.rpartition("_")
    if stem and suffix.casefold() in KEY_UNITS and _NUMERIC.fullmatch(value.strip()):
        unit = KEY_UNITS[suffix.casefold()]
        return f"{value.strip()}{unit}" if unit == "%" else f"{value.strip()} {unit}"
    return value


def attribute_name(key: str) -> str:
    """An attribute's name without its unit suffix (``weight_g``: weight)."""
    stem, _, suffix = key.rpartition("_")
    return (stem if stem and suffix.casefold() in KEY_UNITS else key).replace("_", " ")
