"""Recurring themes in customer feedback: which shop aspects messages talk about, and how customers feel about each.

Offline and deterministic: each aspect is a fixed list of keywords matched case-insensitively on word boundaries.
A keyword ending in ``*`` is a stem (``deliver*`` matches "delivery" and "delivered"); a space in a keyword
matches any run of spaces or a hyphen ("well made", "well-made").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import fmean

ASPECTS: dict[str, tuple[str, ...]] = {
    "delivery & shipping": (
        "deliver*", "shipping", "shipped", "shipment*", "courier*", "parcel*", "package*", "arriv*", "dispatch*",
        "tracking", "postage", "late", "on time",
    ),
    "size & fit": (
        "size*", "sizing", "fit", "fits", "fitted", "fitting", "too small", "too big", "too large", "too tight",
        "tight", "loose", "snug", "runs small", "runs large",
    ),
    "quality & durability": (
        "quality", "durab*", "sturdy", "flimsy", "broke", "broken", "breaks", "defect*", "faulty", "fell apart",
        "falls apart", "cheaply made", "well made", "lasted", "lasts", "ripped", "torn", "cracked", "junk",
    ),
    "comfort": ("comfort*", "uncomfortabl*", "comfy", "soft", "itchy", "scratchy", "cushion*", "blister*"),
    "price & value": (
        "price*", "pricey", "pricing", "cost", "costs", "costly", "expensive", "cheap", "cheaper", "overpriced",
        "value", "worth", "money", "bargain", "affordable", "discount*",
    ),
    "customer service": (
        "customer service", "support", "staff", "helpful", "unhelpful", "rude", "friendly", "respon*", "reply",
        "replied", "agent*", "contacted",
    ),
    "returns & refunds": ("return*", "refund*", "exchang*", "money back", "sent back", "send back", "warranty"),
    "look & design": (
        "looks", "design*", "colou?r*", "style", "stylish", "pretty", "beautiful", "ugly", "gorgeous",
        "cute", "elegant", "sleek",
    ),
    "battery & performance": (
        "batter*", "charg*", "performance", "performs", "speed", "slow", "lag*", "crash*", "freez*", "froze",
        "glitch*",
    ),
    "ease of use": (
        "easy to use", "easier", "intuitive", "user friendly", "instructions", "setup", "set up", "install*",
        "confusing", "complicated",
    ),
}  # fmt: skip

EXAMPLE_LENGTH = 120
NEUTRAL_BAND = 0.05  # as in assistant.sentiment.label; not imported, so themes need no VADER or OpenAI


def _pattern(keyword: str) -> str:
    stem = keyword.endswith("*")
    words = keyword.rstrip("*").split()
    # "colou?r" keeps its one regex mark; everything else is literal
    body = r"[\s-]+".join(re.escape(w).replace(r"\?", "?") for w in words)
    return body + (r"\w*" if stem else "")


_MATCHERS = {
    name: re.compile(r"\b(?:" + "|".join(map(_pattern, keywords)) + r")\b", re.IGNORECASE)
    for name, keywords in ASPECTS.items()
}


@dataclass(frozen=True)
class ThemeSummary:
    """How often customers raised one aspect, and how they felt about it."""

    theme: str
    mentions: int
    mean_sentiment: float
    praise: int  # texts with sentiment above NEUTRAL_BAND
    complaints: int  # texts with sentiment below -NEUTRAL_BAND
    examples: tuple[str, ...]  # the most positive text, then the most negative, shortened


def themes(text: str) -> list[str]:
    """The aspects that ``text`` mentions, in the order of :data:`ASPECTS`."""
    return [name for name, matcher in _MATCHERS.items() if matcher.search(text)]


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= EXAMPLE_LENGTH:
        return flat
    return flat[: EXAMPLE_LENGTH - 1].rstrip() + "…"


def summarise(items: Iterable[tuple[str, float]]) -> list[ThemeSummary]:
    """A summary per aspect mentioned in ``(text, sentiment)`` pairs, the most mentioned first."""
    found: dict[str, list[tuple[str, float]]] = {}
    for text, sentiment in items:
        for name in themes(text):
            found.setdefault(name, []).append((text, sentiment))
    summaries = []
    for name in ASPECTS:  # aspect order, so that a tie in mentions sorts the same way every time
        if not (pairs := found.get(name)):
            continue
        scores = [s for _, s in pairs]
        best = max(pairs, key=lambda p: p[1])  # max/min keep the first of equals: deterministic
        worst = min(pairs, key=lambda p: p[1])
        examples = (best[0],) if best is worst else (best[0], worst[0])
        summaries.append(
            ThemeSummary(
                theme=name,
                mentions=len(pairs),
                mean_sentiment=fmean(scores),
                praise=sum(s > NEUTRAL_BAND for s in scores),
                complaints=sum(s < -NEUTRAL_BAND for s in scores),
                examples=tuple(_quote(e) for e in examples),
            )
        )
    return sorted(summaries, key=lambda s: -s.mentions)
