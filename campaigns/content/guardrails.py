"""Checks on a message's text before it is sent: length, and that every code, price, percentage and product it
names is one the campaign and the catalog know; the opt-out hint is there; no banned phrase.

The detectors are deliberately simple, and documented here so a marketer can predict them:
- codes: uppercase tokens of 4-20 letters, digits, ``-`` or ``_`` with at least one digit and one letter
  (``SAVE50``), and the word after "code" (or código, codice, kod, код); known: the offer's code, product SKUs,
  and words of product names, the shop's name and the customer's name.
- prices: a currency symbol (``€ $ £ ¥ ₽ ₹``) or a common ISO code before or after a number (``€19.99``,
  ``19,99 EUR``, ``$5``); each must equal a product's price (brief's or recipient's) or the offer's amount.
- percentages: ``20%`` or ``20 %``; each must equal the offer's discount when that is a percentage.
- products: a quoted phrase, or a Title Case run of two or more words, "looks like a product" when a word of it
  ends a known product's name (``Sweater`` of "Merino Wool Sweater"). Cut after that word, less a leading
  article or verb ("The", "Our", "Try"), it must end with a whole product name ("Our Merino Wool Sweater") or
  be the tail of one ("Wool Sweater"). So a renamed product ("Cashmere Sweater") is caught while "Spring Sale"
  passes; a wholly new kind of product is not caught.
- length: at most ``limit`` (the channel's) and the brief's ``max_length``; banned phrases: case-insensitive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from campaigns.content.copy import Brief, Recipient
from storage.catalog import CatalogProduct

SYMBOLS = {"€": {"EUR"}, "£": {"GBP"}, "¥": {"JPY", "CNY"}, "₽": {"RUB"}, "₹": {"INR"}}
SYMBOLS["$"] = {"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "MXN"}
ISO = "EUR|USD|GBP|JPY|CNY|CHF|RUB|INR|CAD|AUD|NZD|SEK|NOK|DKK|PLN|CZK|HUF|BRL|MXN|SGD|HKD|TRY|UAH|ILS|ZAR"
_NUMBER = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_CURRENCY = rf"[€$£¥₽₹]|\b(?:{ISO})\b"
_PRICE = re.compile(rf"(?P<c1>{_CURRENCY})\s?(?P<n1>{_NUMBER})|(?P<n2>{_NUMBER})\s?(?P<c2>{_CURRENCY})")
_PERCENT = re.compile(rf"(?<![\d.,])({_NUMBER})\s?%")
_CODE_TOKEN = re.compile(r"(?<![\w-])(?=[A-Z0-9_-]*\d)(?=[A-Z0-9_-]*[A-Z])[A-Z0-9][A-Z0-9_-]{3,19}(?![\w-])")
_UNIT = re.compile(r"\d+(?:AM|PM|GB|TB|MB|KG|ML|CM|MM|MAH|KW|HZ)")  # 10AM, 64GB: measures, not codes
_AFTER_CODE = re.compile(
    r"(?i:\b(?:code|código|codice|kod|код)\b)[\s:«\"“]*((?=[\w-]*\d)[\w-]{3,20}|[A-Z][A-Z0-9_-]{2,19}\b)"
)
_QUOTED = re.compile(r"[\"“«„]([^\"”»“\n]{2,60})[\"”»“]")
_LEADING = re.compile(r"the|our|your|a|an|new|get|try|buy|shop|this|my|le|la|el|die|der|das|unser|unsere|notre")
_UPPER = "A-ZÀ-ÖØ-ÞА-ЯЁ"
_TITLE_RUN = re.compile(rf"(?<!\w)[{_UPPER}][\w'-]*(?:[ \t]+[{_UPPER}][\w'-]*)+")


@dataclass(frozen=True)
class Verdict:
    """One rule's finding on one text."""

    rule: str
    ok: bool
    detail: str = ""


def _amount(number: str) -> float:
    """'19,99' and '19.99' are 19.99; '1,299.00' and '1.299' are 1299 (three digits after the mark: thousands)."""
    mark = max(number.rfind("."), number.rfind(","))
    whole, fraction = (number[:mark], number[mark + 1 :]) if mark >= 0 and len(number) - mark <= 3 else (number, "0")
    return float(re.sub(r"[.,]", "", whole) + "." + fraction)


def _products(brief: Brief, recipient: Recipient | None) -> list[CatalogProduct]:
    return [*brief.products, *(recipient.products if recipient else ())]


def _verdict(rule: str, problems: Iterable[str]) -> Verdict:
    found = list(dict.fromkeys(problems))
    return Verdict(rule, not found, "; ".join(found))


def _codes(text: str, brief: Brief, recipient: Recipient | None) -> Iterable[str]:
    known = {brief.offer.code.upper()} if brief.offer else set()
    for product in _products(brief, recipient):
        known |= {product.sku.upper(), *product.name.upper().split()}
    known |= set(brief.shop_name.upper().split()) | set((recipient.name if recipient else "").upper().split())
    candidates = [*_CODE_TOKEN.findall(text), *_AFTER_CODE.findall(text)]
    unknown = (c for c in candidates if c.upper() not in known and not _UNIT.fullmatch(c.upper()))
    return (f"unknown code {code}" for code in unknown)


def _prices(text: str, brief: Brief, recipient: Recipient | None) -> Iterable[str]:
    known = [(p.currency.upper(), p.price) for p in _products(brief, recipient)]
    if brief.offer and (offer := re.fullmatch(r"(\d+(?:\.\d+)?)\s*([A-Z]{3})", brief.offer.discount.strip())):
        known.append((offer[2], float(offer[1])))
    for match in _PRICE.finditer(text):
        currency, number = (match["c1"], match["n1"]) if match["c1"] else (match["c2"], match["n2"])
        codes = SYMBOLS.get(currency, {currency})
        if not any(code in codes and abs(_amount(number) - price) < 0.005 for code, price in known):
            yield f"unknown price {match[0].strip()}"


def _percentages(text: str, brief: Brief) -> Iterable[str]:
    discount = brief.offer.discount.strip() if brief.offer else ""
    allowed = _amount(discount[:-1].strip()) if discount.endswith("%") else None
    for number in _PERCENT.findall(text):
        if allowed is None or abs(_amount(number) - allowed) >= 0.005:
            yield f"unknown percentage {number}%"


def _product_names(text: str, brief: Brief, recipient: Recipient | None) -> Iterable[str]:
    names = [p.name.lower().split() for p in _products(brief, recipient)]
    heads = {name[-1] for name in names if name}
    for phrase in [*_QUOTED.findall(text), *_TITLE_RUN.findall(text)]:
        words = [w.strip(".,!?:;") for w in phrase.lower().split()]
        ends = [i for i, word in enumerate(words) if word in heads]
        words = words[: ends[-1] + 1] if ends else []  # "Travel Mug Now": the phrase ends at its last head word
        while len(words) > 2 and _LEADING.fullmatch(words[0]):
            words.pop(0)
        if len(words) < 2:
            continue
        if not any(words[-len(name) :] == name or name[-len(words) :] == words for name in names):
            yield f"unknown product {phrase.strip()!r}"


def check(
    text: str,
    *,
    brief: Brief,
    recipient: Recipient | None = None,
    limit: int | None = None,
    banned: Sequence[str] = (),
    unsubscribe_hint: str | None = None,
) -> list[Verdict]:
    """Every rule's verdict on ``text`` (the unsubscribe rule only when a hint is given)."""
    longest = min(brief.max_length, limit) if limit else brief.max_length
    # A product's approved short text (p.short) passed the claims check against that product's facts, and is
    # not used once they change: its "70% merino" is a fact, not an invented discount.
    told = text
    for short in {p.short for p in _products(brief, recipient) if p.short}:
        told = told.replace(short, " ")
    verdicts = [
        _verdict("length", [f"{len(text)} characters, over {longest}"] if len(text) > longest else []),
        _verdict("codes", _codes(told, brief, recipient)),
        _verdict("prices", _prices(told, brief, recipient)),
        _verdict("percentages", _percentages(told, brief)),
        _verdict("products", _product_names(told, brief, recipient)),
        _verdict("banned", (f"banned phrase {p!r}" for p in banned if p and p.lower() in text.lower())),
    ]
    if unsubscribe_hint:
        missing = unsubscribe_hint.lower() not in text.lower()
        verdicts.append(_verdict("unsubscribe", ["the unsubscribe hint is missing"] if missing else []))
    return verdicts


def failures(verdicts: Iterable[Verdict]) -> str:
    """The failed verdicts in one line ('' when all passed)."""
    return "; ".join(f"{v.rule}: {v.detail}" for v in verdicts if not v.ok)
