"""Review summaries: per product, how many reviews and how they feel, and what people praise and complain about.

Imported reviews and the chat feedback that names a product count together; themes are the assistant's
(:mod:`assistant.themes`), sentiment the one stored with each text. A theme is recurring when at least
:data:`RECURRING` texts raise it; it is praised when more of those texts are positive than negative.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.sentiment import LexiconSentiment, label
from assistant.themes import ThemeSummary, summarise, themes
from storage import reviews

RECURRING = 2
TOP = 3


@dataclass(frozen=True)
class ProductReviews:
    """What customers said about one product."""

    sku: str
    reviews: int
    feedback: int
    rating: float | None  # the mean stars of the reviews that have them
    mean_sentiment: float
    positive: int
    negative: int
    themes: list[ThemeSummary] = field(default_factory=list)

    @property
    def praised(self) -> list[str]:
        """The recurring themes customers praise, the most praised first."""
        found = [t for t in self.themes if t.mentions >= RECURRING and t.praise > t.complaints]
        return [t.theme for t in sorted(found, key=lambda t: -t.praise)][:TOP]

    @property
    def complaints(self) -> list[str]:
        """The recurring themes customers complain about, the most complained of first."""
        found = [t for t in self.themes if t.mentions >= RECURRING and t.complaints > t.praise]
        return [t.theme for t in sorted(found, key=lambda t: -t.complaints)][:TOP]


async def summaries(skus: Sequence[str] | None = None) -> list[ProductReviews]:
    """A summary per product with reviews or feedback (of ``skus`` only, when given), the most talked about first."""
    found = []
    for sku, said in (await reviews.by_product(skus)).items():
        ratings = [s.rating for s in said if s.rating is not None]
        scores = [s.sentiment for s in said]
        found.append(
            ProductReviews(
                sku=sku,
                reviews=sum(s.source == "review" for s in said),
                feedback=sum(s.source == "feedback" for s in said),
                rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
                mean_sentiment=sum(scores) / len(scores),
                positive=sum(label(s) == "positive" for s in scores),
                negative=sum(label(s) == "negative" for s in scores),
                themes=summarise((s.text, s.sentiment) for s in said),
            )
        )
    return sorted(found, key=lambda r: (-(r.reviews + r.feedback), r.sku))


class Annotator:
    """The sentiment (VADER and the shop lexicon) and themes of a review's text, for the reviews import."""

    def __init__(self, sentiment: LexiconSentiment | None = None) -> None:
        self.sentiment = sentiment or LexiconSentiment()

    def __call__(self, text: str) -> tuple[float, list[str]]:
        """``(sentiment, themes)`` of ``text``."""
        return self.sentiment.score(text), themes(text)
