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

_NUM = r"(?:\d[\d.,]*\d|\d|[.,]\d+)"
_CURRENCY = (
    r"[$€£¥₹₽₩]|(?<![A-Za-z])(?:USD|EUR|GBP|CHF|JPY|CAD|AUD|NZD|SEK|NOK|DKK|PLN|INR|BRL|MXN|CNY|US\$|"
    r"(?:us\s+)?dollars?|euros?|pounds?|bucks?|cents?|yen|rupees?|kr)(?![A-Za-z])"
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MONEY = re.compile(rf"(?:{_CURRENCY})\s*({_NUM})|({_NUM})\s*(?:{_CURRENCY}|,-|\.-)", re.IGNORECASE)
_NUMBER_WORDS = re.compile(
    r"(?<![A-Za-z])(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|half|a quarter)\s+(?:us\s+)?(?:dollars?|euros?|"
    r"pounds?|bucks?|cents?|percent|per cent|off)(?![A-Za-z])",
    re.IGNORECASE,
)
_PERCENT = re.compile(rf"({_NUM})\s*(?:%|percent|per cent|pct)(?![A-Za-z])", re.IGNORECASE)
_CODE_KEYWORD = re.compile(r"(?<![A-Za-z])(?:code|coupon|voucher|promo)(?![A-Za-z])", re.IGNORECASE)
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_ORDER_REF = re.compile(
    r"(?<![A-Za-z])(?:order|package|parcel|shipment)(?![A-Za-z])(?:\s*(?:number|no\.?|id|ref(?:erence)?|is|was|"
    r"#|:))*\s*#?\s*([A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)",
    re.IGNORECASE,
)
_STOCK = re.compile(
    r"(\d+)\s+(?:left|in stock|units?|pieces|pairs?|available|remaining)(?![A-Za-z])|(?:only|just)\s+(\d+)(?!\d)",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\"'\]\[]+", re.IGNORECASE)
_DOMAIN = re.compile(
    r"(?<![\w@.-])(?:[a-z0-9-]+\.)+(?:com|net|org|io|shop|store|example|info|biz|co|de|fr|es|it|uk|eu|us|ru|me|"
    r"app|xyz|link|ly|gl|page|online|site)(?:/[^\s<>()\"'\]\[]*)?(?![\w-])",
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(r"(?<![\w.,])\d{3,}(?:[ .,-]?\d+)*")
_WORDS = re.compile(r"[a-z0-9']+")
LEAK_NGRAM = 8  # this many words in a row from the instructions is a leak
MAX_CHECKED = 4000  # characters: a longer answer is not checked (nor sent); every regex stays linear in practice
FILLER = set(
    [
        "is",
        "was",
        "the",
        "your",
        "a",
        "an",
        "to",
        "use",
        "enter",
        "with",
        "of",
        "code",
        "codes",
        "coupon",
        "voucher",
        "promo",
        "discount",
        "at",
        "for",
        "our",
        "this",
        "that",
        "and",
        "you",
        "can",
        "will",
        "be",
    ]
)


def _num(text: str) -> str:
    """A number as a comparable string: a comma before one or two final digits is a decimal point, other commas
    are thousands separators; trailing zeros of decimals gone."""
    text = text.strip(".,")
    if re.search(r",\d{1,2}$", text) and "." not in text:
        text = text[: text.rindex(",")].replace(",", "") + "." + text[text.rindex(",") + 1 :]
    text = text.replace(",", "")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


@dataclass
class Facts:
    """What this turn's tools returned and the policies hold: the only figures, codes and links an answer may use."""

    numbers: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)  # every word of every text returned (names, SKUs)
    amounts: set[str] = field(default_factory=set)  # money: prices, totals, the policies' fees
    percents: set[str] = field(default_factory=set)
    stock: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    orders: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    urls: set[str] = field(default_factory=set)

    def add_text(self, text: str, *, money: bool = True) -> None:
        """Every number, email and link in a text the customer may be told (a policy, a product name); its prices
        and percentages too unless ``money`` is false."""
        self.numbers.update(_num(n) for n in _NUMBER.findall(text))
        self.words.update(w.casefold() for w in _TOKEN.findall(text))
        if money:
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
            if key in ("stock", "quantity"):
                self.stock.add(number)
        else:
            text = str(value)
            if key in ("code", "sku", "order"):
                (self.orders if key == "order" else self.codes).add(text.casefold())
            if key == "url":
                self.urls.add(text)
            if key == "discount":  # an offer's "20%" or "10 EUR"
                number = text.strip().partition(" ")[0]
                (self.percents if text.strip().endswith("%") else self.amounts).add(_num(number.rstrip("%")))
            if key == "description":  # an approved product text's "3 pairs" is a pack size, a fact to repeat
                self.stock.update(m.group(1) or m.group(2) for m in _STOCK.finditer(text))
            # but not its prices: a price is the tool's "price" field, which a text written earlier may not match
            self.add_text(text, money=key != "description")


def problems(answer: str, facts: Facts, *, instructions: str = "", canary: str = "") -> list[str]:
    """What is wrong with ``answer`` given ``facts``: empty when it may be sent."""
    if len(answer) > MAX_CHECKED:
        return [f"longer than {MAX_CHECKED} characters"]
    found: list[str] = []
    if (canary and canary in answer) or (instructions and _overlap(answer, instructions)):
        found.append("repeats its instructions")
    for email in _EMAIL.findall(answer):
        if email.casefold() not in facts.emails:
            found.append(f"email address {email} that no tool returned")
    text = _EMAIL.sub(" ", answer)
    for url in _URL.findall(text):
        if not _allowed_link(url, facts):
            found.append(f"link {url} that no tool returned")
    text = _URL.sub(" ", text)
    for domain in _DOMAIN.findall(text):
        if not _allowed_link(domain, facts):
            found.append(f"link {domain} that no tool returned")
    text = _DOMAIN.sub(" ", text)
    for match in _MONEY.finditer(text):
        if _num(match.group(1) or match.group(2)) not in facts.amounts:
            found.append(f"price {match.group(0).strip()} that no tool returned")
    for match in _NUMBER_WORDS.finditer(text):
        found.append(f"amount in words {match.group(0)!r}")
    for match in _PERCENT.finditer(text):
        if _num(match.group(1)) not in facts.percents:
            found.append(f"percentage {match.group(0)} that no tool returned")
    known = facts.codes | facts.orders | facts.words
    for code in _codes(text):
        if code.casefold() not in known and _num(code) not in facts.numbers:
            found.append(f"code {code} that no tool returned")
    for ref in _ORDER_REF.findall(text):
        if len(ref) >= 3 and ref.casefold() not in facts.orders:
            found.append(f"order {ref} that is not this customer's")
    for match in _STOCK.finditer(text):
        if (match.group(1) or match.group(2)) not in facts.stock:
            found.append(f"stock figure {match.group(0)!r} that no tool returned")
    for number in _LONG_NUMBER.findall(text):
        digits = _num(number.replace(" ", "").replace("-", "").replace(".", "") if " " in number else number)
        if _num(number) not in facts.numbers and digits not in facts.numbers and not _in_any(number, facts):
            found.append(f"number {number} that no tool returned")
    return list(dict.fromkeys(found))


def _codes(text: str) -> set[str]:
    """Words that look like codes: letters and digits mixed (4+), and the capitalised or mixed words right after
    "code", "coupon", "voucher" or "promo"."""
    out = {
        t for t in _TOKEN.findall(text) if len(t) >= 4 and any(c.isdigit() for c in t) and any(c.isalpha() for c in t)
    }
    for match in _CODE_KEYWORD.finditer(text):
        for token in _TOKEN.findall(text[match.end() : match.end() + 60])[:4]:
            if token.casefold() in FILLER or not any(c.isalnum() for c in token):
                continue
            if len(token) >= 3 and (token.isupper() or any(c.isdigit() for c in token) or token != token.lower()):
                out.add(token)
            break
    return out


def _allowed_link(link: str, facts: Facts) -> bool:
    """A link (or bare domain) that starts with one a tool returned or the shop's site, without a second address
    in it (an open redirect)."""
    bare = re.sub(r"^(?:https?://)?(?:www\.)?", "", link.rstrip(".,;:!?)").casefold())
    if "http" in bare or "//" in bare or "%2f" in bare:
        return False
    for allowed in facts.urls:
        base = re.sub(r"^(?:https?://)?(?:www\.)?", "", allowed.casefold()).rstrip("/")
        if bare == base or bare.startswith((base + "/", base + "?")):
            return True
    return False


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
