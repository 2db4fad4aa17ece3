"""Guardrails on what the assistant says: it may quote only what its tools returned and the shop's policies.

Whatever a model was persuaded to write, an answer that names a price, a percentage, a code, an order, an email
address, a link or a long number that no tool returned this turn (and no policy text holds) is not sent; nor is
one that repeats the instructions the model was given. The checks read the answer's text, not the model's
intentions: a customer's text is data, and this is where that is enforced.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MONEY = re.compile(
    r"(?:[$€£¥]\s?|\b(?:USD|EUR|GBP|CHF|JPY)\s?)(\d[\d,]*(?:\.\d+)?)"
    r"|(\d[\d,]*(?:\.\d+)?)\s?(?:[$€£¥]|\b(?:USD|EUR|GBP|CHF|JPY|dollars?|euros?|pounds?)\b)",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s?%")
_CODE_AFTER = re.compile(r"\b(?:code|coupon|voucher|promo)\b\W{0,3}([A-Za-z0-9_-]{3,})", re.IGNORECASE)
_CODE_LIKE = re.compile(r"\b(?=[A-Z0-9_-]*[A-Z])(?=[A-Z0-9_-]*\d)[A-Z0-9_-]{4,}\b")
_ORDER_REF = re.compile(
    r"\border\b(?:\s+(?:number|no\.?|id|ref(?:erence)?))?\s*#?\s*([A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)", re.IGNORECASE
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s<>()\"']+")
_LONG_NUMBER = re.compile(r"(?<![\w.,])\d{3,}(?:[ .,-]?\d+)*")
_WORDS = re.compile(r"[a-z0-9']+")
LEAK_NGRAM = 8  # this many words in a row from the instructions is a leak
CODE_WORDS = {"code", "codes", "coupon", "voucher", "promo", "that", "this", "the", "you", "your", "for", "and", "is"}


def _num(text: str) -> str:
    """A number as a comparable string: thousands separators gone, trailing zeros of decimals gone."""
    text = text.replace(",", "")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass
class Facts:
    """What this turn's tools returned and the policies hold: the only figures, codes and links an answer may use."""

    numbers: set[str] = field(default_factory=set)
    amounts: set[str] = field(default_factory=set)  # money: prices, totals, the policies' fees
    percents: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    orders: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)

    def add_text(self, text: str) -> None:
        """Every number, email and link in a text the customer may be told (a policy, a product name)."""
        self.numbers.update(_num(n) for n in _NUMBER.findall(text))
        self.amounts.update(_num(m.group(1) or m.group(2)) for m in _MONEY.finditer(text))
        self.percents.update(_num(p) for p in _PERCENT.findall(text))
        self.emails.update(e.casefold() for e in _EMAIL.findall(text))
        self.urls.update(u.rstrip(".,;:!?") for u in _URL.findall(text))

    def add(self, value: Any, key: str = "") -> None:
        """A tool's result, walked: codes, orders, SKUs and links by their keys, and every number and text in it."""
        if isinstance(value, Mapping):
            for k, v in value.items():
                self.add(v, str(k))
        elif isinstance(value, list | tuple):
            for v in value:
                self.add(v, key)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int | float):
            number = _num(f"{value:.2f}" if isinstance(value, float) else str(value))
            self.numbers.add(number)
            if key in ("price", "total", "amount", "unit_price"):
                self.amounts.add(number)
        else:
            text = str(value)
            if key in ("code", "sku", "order"):
                (self.orders if key == "order" else self.codes).add(text.casefold())
            if key == "url":
                self.urls.add(text)
            if key == "discount":  # an offer's "20%" or "10 EUR"
                number = text.strip().partition(" ")[0]
                (self.percents if text.strip().endswith("%") else self.amounts).add(_num(number.rstrip("%")))
            self.add_text(text)


def problems(answer: str, facts: Facts, *, instructions: str = "", canary: str = "") -> list[str]:
    """What is wrong with ``answer`` given ``facts``: empty when it may be sent."""
    found: list[str] = []
    if (canary and canary in answer) or (instructions and _overlap(answer, instructions)):
        found.append("repeats its instructions")
    for match in _MONEY.finditer(answer):
        amount = _num(match.group(1) or match.group(2))
        if amount not in facts.amounts:
            found.append(f"price {match.group(0).strip()} that no tool returned")
    for match in _PERCENT.finditer(answer):
        if _num(match.group(1)) not in facts.percents:
            found.append(f"percentage {match.group(0)} that no tool returned")
    known = facts.codes | facts.orders
    for code in {*_CODE_AFTER.findall(answer), *_CODE_LIKE.findall(answer)}:
        if code.casefold() not in known and code.casefold() not in CODE_WORDS and _num(code) not in facts.numbers:
            found.append(f"code {code} that no tool returned")
    for ref in _ORDER_REF.findall(answer):
        if ref.casefold() not in facts.orders:
            found.append(f"order {ref} that is not this customer's")
    for email in _EMAIL.findall(answer):
        if email.casefold() not in facts.emails:
            found.append(f"email address {email} that no tool returned")
    for url in _URL.findall(answer):
        url = url.rstrip(".,;:!?")
        if not any(url == u or url.startswith(u.rstrip("/") + "/") or url.startswith(u + "?") for u in facts.urls):
            found.append(f"link {url} that no tool returned")
    for number in _LONG_NUMBER.findall(answer):
        digits = _num(number.replace(" ", "").replace("-", "").replace(".", "") if " " in number else number)
        if _num(number) not in facts.numbers and digits not in facts.numbers and not _in_any(number, facts):
            found.append(f"number {number} that no tool returned")
    return list(dict.fromkeys(found))


def _in_any(number: str, facts: Facts) -> bool:
    """A long number quoted as written in a fact (a phone number, a date): it is in the fact's numbers, in pieces."""
    pieces = [_num(p) for p in _NUMBER.findall(number)]
    return bool(pieces) and all(p in facts.numbers for p in pieces) and len(pieces) > 1


def _overlap(answer: str, instructions: str) -> bool:
    said = _WORDS.findall(answer.casefold())
    told = _WORDS.findall(instructions.casefold())
    grams = {tuple(told[i : i + LEAK_NGRAM]) for i in range(len(told) - LEAK_NGRAM + 1)}
    return any(tuple(said[i : i + LEAK_NGRAM]) in grams for i in range(len(said) - LEAK_NGRAM + 1))


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters at a sentence or word end, marked with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "), cut.rfind("\n"))
    if end < limit // 2:
        end = cut.rfind(" ")
    return cut[: end + 1 if end > 0 else len(cut)].rstrip() + "…"
