"""The reviews import: one product review a row, its sentiment and themes found by a function the caller gives.

Storage knows nothing of sentiment models (only the root may wire them), so the kind is built with ``annotate``,
which turns a review's text into its sentiment and themes. A file from another platform keeps its own column
names: ``columns`` maps ours to its (``{"sku": "product_handle", "text": "body"}``); columns we do not read are
ignored. Rows are keyed by a hash of the SKU and the file's ``review_id`` (platforms number their reviews 1..N
each: a bare id would let one file overwrite another's reviews of other products), else by a hash of product,
customer, date and text, so importing the same file again changes nothing; a review never moves product.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints, ValidationInfo, field_validator
from tortoise.backends.base.client import BaseDBAsyncClient

from storage import bulk
from storage.importers.rows import Key, _aware, _Row, clean
from storage.importers.runner import Parsed
from storage.importers.sources import RawRow
from storage.importers.values import Moment, decimal

Annotate = Callable[[str], tuple[float, list[str]]]


class ReviewRow(_Row):
    """A review: the product's SKU and the text are required; customer, rating (1-5) and date when known."""

    sku: Key
    text: Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
    rating: Annotated[float, Field(ge=1, le=5, allow_inf_nan=False), BeforeValidator(decimal)] | None = None
    customer_id: Key | None = None
    reviewed_at: Moment | None = None
    review_id: Key | None = None

    @field_validator("reviewed_at")
    @classmethod
    def _utc(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        return None if value is None else _aware(value, info)

    def key(self) -> str:
        """The row's identity across imports."""
        if self.review_id:
            return "id:" + hashlib.sha256(f"{self.sku}\x1f{self.review_id}".encode()).hexdigest()[:40]
        parts = [self.sku, self.customer_id or "", self.reviewed_at.isoformat() if self.reviewed_at else "", self.text]
        return "h:" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class ReviewsKind:
    """Product reviews keyed by SKU and ``review_id`` (or a hash of the row); an unknown SKU refuses the row, an
    unknown customer is kept as an anonymous review."""

    name = "reviews"
    tables: tuple[str, ...] = ("review",)
    key_name: str | None = None

    def key_of(self, value: Any) -> Hashable | None:
        """None: a repeated review is kept once by its key, not reported."""
        return None

    def __init__(self, annotate: Annotate, columns: Mapping[str, str] | None = None) -> None:
        self.annotate = annotate
        self.columns = dict(columns or {})  # ours -> the file's
        unknown = sorted(set(self.columns) - set(ReviewRow.model_fields))
        if unknown:
            raise ValueError(f"unknown review field {unknown[0]!r} (known: {', '.join(ReviewRow.model_fields)})")

    def _theirs(self, ours: str) -> str:
        return self.columns.get(ours, ours)

    def check_columns(self, columns: Sequence[str]) -> str | None:
        """The first required column the file lacks, if any."""
        for field in ("sku", "text"):
            if self._theirs(field) not in columns:
                mapped = f" (mapped from {field!r})" if field in self.columns else ""
                return f"missing required column {self._theirs(field)!r}{mapped}"
        return None

    def parse(self, data: dict[str, Any], context: dict[str, Any]) -> ReviewRow:
        """The row's fields under our names, validated."""
        given = clean(data)
        ours = {field: given[self._theirs(field)] for field in ReviewRow.model_fields if self._theirs(field) in given}
        return ReviewRow.model_validate(ours, context=context)

    async def write(
        self, conn: BaseDBAsyncClient, batch: list[Parsed[ReviewRow]], columns: Sequence[str]
    ) -> list[tuple[RawRow, str | None, str]]:
        """Upsert the batch's reviews; rows naming an unknown product are refused."""
        products = await bulk.id_map(conn, "product", "sku", (p.value.sku for p in batch))
        customers = await bulk.id_map(
            conn, "customer", "external_id", (p.value.customer_id for p in batch if p.value.customer_id)
        )
        refused: list[tuple[RawRow, str | None, str]] = []
        rows: dict[str, dict[str, Any]] = {}
        for item in batch:
            review = item.value
            if review.sku not in products:
                refused.append((item.raw, self._theirs("sku"), f"unknown product {review.sku!r}"))
                continue
            sentiment, themes = self.annotate(review.text)
            rows[review.key()] = {
                "key": review.key(),
                "product_id": products[review.sku],
                "customer_id": customers.get(review.customer_id or ""),
                "rating": review.rating,
                "text": review.text,
                "sentiment": round(sentiment, 4),
                "themes": json.dumps(themes),
                "at": review.reviewed_at,
            }
        update = ["customer_id", "rating", "text", "sentiment", "themes", "at"]
        await bulk.upsert(conn, "review", list(rows.values()), conflict=["key"], update=update)
        return refused
