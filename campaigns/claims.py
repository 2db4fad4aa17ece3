"""Checks on a product description: it states only what the product's facts support.

The detectors are simple and predictable, like the campaign guardrails':
- numbers: every number in the text (with the unit of :data:`UNITS` after it, if any: ``280 g``, ``100%``) must be
  in the facts (name, SKU, category, tags, attributes, the catalog text, the price, the review count and the
  average rating to one decimal). A number the facts give bare may carry a unit in the text; one the facts
  give with a unit must keep that unit (``280 g`` in the facts: ``280 kg`` fails).
- prices: a currency amount (``$19.99``, ``19,99 EUR``) must be the product's price in its currency.
- awards: award (and winner, winning), best-selling, bestseller, #1 / number one, top-rated, editor's choice;
  certifications and promises: certified, patented, clinically, recommended by, guarantee, warranty. Each only
  where the same word is in the facts.
- specifications: a fixed list of material and feature words (waterproof, breathable, organic, recycled,
  vegan, merino, leather, wireless...) only where the facts have them.
- length: the long text at most :data:`LONG_LIMIT` characters, the short one :data:`SHORT_LIMIT` on one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from campaigns.guardrails import _PRICE, SYMBOLS, Verdict, _amount, _verdict
from campaigns.product_facts import ProductFacts

LONG_LIMIT = 1200
SHORT_LIMIT = 160
UNITS = (
    "%", "°c", "°f", "mg", "g", "kg", "lb", "lbs", "oz", "ml", "cl", "dl", "l", "mm", "cm", "m", "km", "in", "inch",
    "inches", "ft", "mah", "wh", "kwh", "w", "kw", "v", "hz", "khz", "mhz", "ghz", "kb", "mb", "gb", "tb", "mp",
    "fps", "h", "hrs", "hours", "min", "mins", "minutes", "s", "sec", "den", "denier", "gsm", "tog", "x", "pcs",
)  # fmt: skip
_UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_MEASURE = re.compile(rf"(?<![\w.,])(\d+(?:[.,]\d+)?)(?:\s?({_UNIT})(?!\w))?", re.IGNORECASE)
CLAIMS: dict[str, str] = {
    "award": r"award\w*|winn(?:er|ing)\w*",  # "award-winning" and "winner" need an award among the facts
    "best-selling": r"best[\s-]?sell\w*",
    "#1": r"#\s?1\b|\bnumber one\b|\bno\.\s?1\b",
    "top-rated": r"top[\s-]rated",
    "editor's choice": r"editor'?s'? choice",
    "certified": r"certif\w*",
    "patented": r"patent\w*",
    "clinically": r"clinical\w*",
    "recommended by": r"recommended by|(?:doctor|dermatologist|expert)s?[\s-]recommended",
    "guarantee": r"guarantee\w*",
    "warranty": r"warrant\w*",
}
SPECS = (
    "waterproof", "water-resistant", "water resistant", "windproof", "breathable", "organic", "recycled", "vegan",
    "hypoallergenic", "antibacterial", "machine washable", "handmade", "hand-made", "wireless", "bluetooth",
    "gore-tex", "merino", "cashmere", "leather", "silk", "titanium", "carbon", "stainless", "bpa-free",
)  # fmt: skip
_CLAIM = {name: re.compile(rf"(?<!\w)(?:{pattern})", re.IGNORECASE) for name, pattern in CLAIMS.items()}
_SPEC = {word: re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE) for word in SPECS}


def fact_text(facts: ProductFacts) -> str:
    """Everything the facts say, as one text the detectors search."""
    parts = [facts.name, facts.sku, facts.category, *facts.tags, facts.description]
    parts += [f"{key.replace('_', ' ')}: {value}" for key, value in facts.attributes.items()]
    parts += [f"{facts.price:.2f} {facts.currency}", f"{facts.reviews} reviews", *facts.praised, *facts.complaints]
    if facts.rating is not None:
        parts.append(f"{facts.rating:.1f} of 5")
    return "\n".join(parts)


def _measures(text: str) -> set[tuple[float, str]]:
    return {(_amount(number), (unit or "").casefold()) for number, unit in _MEASURE.findall(text)}


def _numbers(text: str, known: set[tuple[float, str]]) -> Iterable[str]:
    values = {value for value, _ in known}
    for number, unit in _MEASURE.findall(text):
        value, unit = _amount(number), (unit or "").casefold()
        if (value not in values) if not unit else ((value, unit) not in known and (value, "") not in known):
            yield f"unsupported figure {number}{' ' + unit if unit and unit != '%' else unit}"


def _prices(text: str, facts: ProductFacts) -> Iterable[str]:
    for match in _PRICE.finditer(text):
        currency, number = (match["c1"], match["n1"]) if match["c1"] else (match["c2"], match["n2"])
        right = facts.currency.upper() in SYMBOLS.get(currency, {currency})
        if not right or abs(_amount(number) - facts.price) >= 0.005:
            yield f"price {match[0].strip()} is not the product's ({facts.price:.2f} {facts.currency})"


def _claims(text: str, source: str) -> Iterable[str]:
    for name, matcher in _CLAIM.items():
        if (found := matcher.search(text)) and not matcher.search(source):
            yield f"claim {found[0]!r} ({name}) that no fact supports"


def _specs(text: str, source: str) -> Iterable[str]:
    for word, matcher in _SPEC.items():
        if matcher.search(text) and not matcher.search(source):
            yield f"specification {word!r} that no fact supports"


def check(long: str, short: str, facts: ProductFacts, *, banned: Sequence[str] = ()) -> list[Verdict]:
    """Every rule's verdict on a description (its long and short texts together)."""
    source = fact_text(facts)
    known = _measures(source)
    both = f"{long}\n{short}"
    length = [f"long text: {len(long)} characters, over {LONG_LIMIT}"] if len(long) > LONG_LIMIT else []
    if len(short) > SHORT_LIMIT:
        length.append(f"short text: {len(short)} characters, over {SHORT_LIMIT}")
    if not long.strip() or not short.strip():
        length.append("a text is empty")
    if "\n" in short.strip():
        length.append("the short text is more than one line")
    return [
        _verdict("length", length),
        _verdict("figures", _numbers(both, known)),
        _verdict("prices", _prices(both, facts)),
        _verdict("claims", _claims(both, source)),
        _verdict("specifications", _specs(both, source)),
        _verdict("banned", (f"banned phrase {p!r}" for p in banned if p and p.lower() in both.lower())),
    ]
