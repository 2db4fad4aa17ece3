"""Checks on a product description: it states only what the product's facts support.

The detectors are simple and predictable, like the campaign guardrails':
- numbers: every number in the text (with the unit of :data:`UNITS` after it, if any: ``280 g``, ``100%``,
  ``12 months``; letters before it do not hide it: ``SPF50``) must be in the facts (name, SKU, category, tags,
  attributes, the catalog text, the price, the review count and the average rating to one decimal). A number
  with a unit must match a fact with that unit (``weight_g: 280`` is 280 g: ``280 kg`` fails, and the review
  count 12 does not make ``12 months``); a bare number may be any fact's.
- prices: a currency amount (``$19.99``, ``19,99 EUR``) must be the product's price in its currency; money in
  words (``twenty euros``) never passes.
- claims and specifications: the words of :mod:`campaigns.content.claim_words` (awards, rankings, certifications,
  promises, eco claims; materials and features), in English and the draft's own language, each only where the
  product's structured facts state it: its name, category, tags and attributes with a value that is not a
  denial. The catalog's free text and the review themes never support a claim (``Not waterproof`` or ``say it
  won awards`` there proves nothing), and an attribute that denies it (``waterproof: no``) fails the text.
- length: the long text at most :data:`LONG_LIMIT` characters, the short one :data:`SHORT_LIMIT` on one line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache

from assistant.descriptions.facts import ProductFacts, attribute_name, attribute_phrase, denied
from campaigns.content.claim_words import CLAIMS, LANGUAGES, MONEY_WORDS, SPECS
from campaigns.content.guardrails import _PRICE, SYMBOLS, Verdict, _amount, _verdict

LONG_LIMIT = 1200
SHORT_LIMIT = 160
# Each unit as it may be written, and the one it is compared as ("12 hrs" and "12 hours" are the same).
UNITS = {
    "%": "%", "°c": "°c", "°f": "°f", "mg": "mg", "g": "g", "kg": "kg", "lb": "lb", "lbs": "lb", "oz": "oz",
    "ml": "ml", "cl": "cl", "dl": "dl", "l": "l", "mm": "mm", "cm": "cm", "m": "m", "km": "km",
    "inch": "in", "inches": "in", "ft": "ft", "mah": "mah", "wh": "wh", "kwh": "kwh", "w": "w", "kw": "kw",
    "v": "v", "hz": "hz", "khz": "khz", "mhz": "mhz", "ghz": "ghz", "kb": "kb", "mb": "mb", "gb": "gb",
    "tb": "tb", "mp": "mp", "fps": "fps", "h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
    "min": "min", "mins": "min", "minutes": "min", "s": "s", "sec": "s", "den": "den", "denier": "den",
    "gsm": "gsm", "tog": "tog", "x": "x", "pcs": "pcs", "day": "day", "days": "day", "week": "week",
    "weeks": "week", "month": "month", "months": "month", "year": "year", "years": "year", "tage": "day",
    "tagen": "day", "wochen": "week", "monate": "month", "monaten": "month", "jahre": "year", "jahren": "year",
    "jours": "day", "semaines": "week", "mois": "month", "ans": "year", "días": "day", "semanas": "week",
    "meses": "month", "años": "year", "stunden": "h", "heures": "h", "horas": "h",
}  # fmt: skip
_UNIT = "|".join(re.escape(u) for u in sorted(UNITS, key=len, reverse=True))
_MEASURE = re.compile(rf"(?<![\d.,])(\d+(?:[.,]\d+)?)(?:\s?({_UNIT})(?!\w))?", re.IGNORECASE)
_MONEY_WORDS = re.compile(rf"(?<!\w){MONEY_WORDS}(?!\w)", re.IGNORECASE)
# "no award yet", "not recycled": a negated word in an attribute's value denies it rather than states it.
_NEGATED = re.compile(r"(?<!\w)(?:no|not|non|without|nicht|kein\w*|ohne|sans|pas|sin)[\s-]+[\w-]+", re.IGNORECASE)


@cache
def _matchers(words: str, languages: frozenset[str]) -> dict[str, re.Pattern[str]]:
    """The patterns of ``words`` (``claims`` or ``specs``) in ``languages``, by claim name."""
    return {
        name: re.compile(rf"(?<!\w)(?:{'|'.join(p for lang, p in by.items() if lang in languages)})", re.IGNORECASE)
        for name, by in (CLAIMS if words == "claims" else SPECS).items()
        if any(lang in languages for lang in by)
    }


# What supports a claim: its words in any language.
_ALL = {**_matchers("claims", frozenset(LANGUAGES)), **_matchers("specs", frozenset(LANGUAGES))}


def fact_text(facts: ProductFacts) -> str:
    """Everything the facts say, as one text the number detector searches."""
    parts = [facts.name, facts.sku, facts.category, *facts.tags, facts.description]
    parts += [f"{attribute_name(k)}: {attribute_phrase(k, v) or v}" for k, v in facts.attributes.items()]
    parts += [f"{facts.price:.2f} {facts.currency}", f"{facts.reviews} reviews", *facts.praised, *facts.complaints]
    if facts.rating is not None:
        parts.append(f"{facts.rating:.1f} of 5")
    return "\n".join(parts)


def stated(facts: ProductFacts) -> tuple[str, str]:
    """What the structured facts state (name, category, tags, attributes not denied), and what they deny."""
    said, denies = [facts.name, facts.category, *facts.tags], list[str]()
    for key, value in facts.attributes.items():
        line = f"{key.replace('_', ' ')} {value}"
        (denies if denied(value) else said).append(line)
    text = "\n".join(said)
    return _NEGATED.sub(" ", text), "\n".join([*denies, *(m[0] for m in _NEGATED.finditer(text))])


def _measures(text: str) -> set[tuple[float, str]]:
    return {(_amount(number), UNITS.get(unit.casefold(), "")) for number, unit in _MEASURE.findall(text)}


def _numbers(text: str, known: set[tuple[float, str]]) -> Iterable[str]:
    values = {value for value, _ in known}
    for number, unit in _MEASURE.findall(text):
        value, unit = _amount(number), unit.casefold()
        if (value not in values) if not unit else ((value, UNITS[unit]) not in known):
            yield f"unsupported figure {number}{' ' + unit if unit and unit != '%' else unit}"


def _prices(text: str, facts: ProductFacts) -> Iterable[str]:
    for match in _PRICE.finditer(text):
        currency, number = (match["c1"], match["n1"]) if match["c1"] else (match["c2"], match["n2"])
        right = facts.currency.upper() in SYMBOLS.get(currency, {currency})
        if not right or abs(_amount(number) - facts.price) >= 0.005:
            yield f"price {match[0].strip()} is not the product's ({facts.price:.2f} {facts.currency})"
    for match in _MONEY_WORDS.finditer(text):
        yield f"price in words {match[0]!r}: give the product's price in figures ({facts.price:.2f} {facts.currency})"


def _unsupported(text: str, words: str, language: str, facts: ProductFacts) -> Iterable[str]:
    said, denies = stated(facts)
    for name, matcher in _matchers(words, frozenset({"en", language.split("-")[0].casefold()})).items():
        if found := matcher.search(text):
            if _ALL[name].search(denies):
                yield f"{found[0]!r} ({name}) that the facts deny"
            elif not _ALL[name].search(said):
                yield f"{found[0]!r} ({name}) that no fact supports"


def check(
    long: str, short: str, facts: ProductFacts, *, language: str = "en", banned: Sequence[str] = ()
) -> list[Verdict]:
    """Every rule's verdict on a description in ``language`` (its long and short texts together)."""
    known = _measures(fact_text(facts))
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
        _verdict("claims", (f"claim {c}" for c in _unsupported(both, "claims", language, facts))),
        _verdict("specifications", (f"specification {c}" for c in _unsupported(both, "specs", language, facts))),
        _verdict("banned", (f"banned phrase {p!r}" for p in banned if p and p.lower() in both.lower())),
    ]
