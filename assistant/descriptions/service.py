"""Product descriptions end to end: facts from the catalog and the reviews, written, kept as drafts, exported."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.descriptions.facts import ProductFacts, attribute_text
from assistant.descriptions.writer import Describer, Description
from assistant.reviews import ProductReviews, summaries
from storage import descriptions
from storage.models import Product, ProductCopy
from storage.spreadsheet_csv import SpreadsheetWriter

EXPORT_COLUMNS = ("sku", "language", "name", "description", "short_description", "source", "approved_at")


def facts_of(product: Product, said: ProductReviews | None) -> ProductFacts:
    """What a description of ``product`` may say: its catalog fields, attributes and review themes."""
    attributes = {str(k): attribute_text(v) for k, v in (product.attributes or {}).items() if v not in (None, "")}
    return ProductFacts(
        sku=product.sku,
        name=product.name,
        category=product.category,
        price=round(product.price, 2),
        currency=product.currency,
        url=product.url,
        tags=tuple(str(t) for t in product.tags or []),
        attributes=attributes,
        description=product.description,
        reviews=(said.reviews + said.feedback) if said else 0,
        rating=round(said.rating, 1) if said and said.rating is not None else None,
        praised=tuple(said.praised) if said else (),
        complaints=tuple(said.complaints) if said else (),
    )


@dataclass(frozen=True)
class Written:
    """One description written and kept as a draft."""

    sku: str
    description: Description


async def describe_products(
    describer: Describer,
    products: Sequence[Product],
    languages: Sequence[str],
    progress: Callable[[Written], None] | None = None,
) -> list[Written]:
    """Write a description of each product in each language, and keep each as a draft."""
    said = {s.sku: s for s in await summaries([p.sku for p in products])}
    done = []
    for product in products:
        facts = facts_of(product, said.get(product.sku))
        for language in languages:
            text = await describer.describe(facts, language)
            await descriptions.save_draft(
                product.id, language, long=text.long, short=text.short, source=text.source, note=text.note,
                facts=facts.as_dict(),
            )  # fmt: skip
            done.append(Written(product.sku, text))
            if progress:
                progress(done[-1])
    return done


def _export_row(copy: ProductCopy) -> dict[str, Any]:
    return {
        "sku": copy.product.sku,
        "language": copy.language,
        "name": copy.product.name,
        "description": copy.long,
        "short_description": copy.short,
        "source": copy.source,
        "approved_at": copy.reviewed_at.isoformat() if copy.reviewed_at else "",
    }


def export(rows: Sequence[ProductCopy], fmt: str, path: Path) -> int:
    """Write the approved descriptions to ``path`` as CSV or JSONL; how many were written."""
    data = [_export_row(r) for r in rows]
    with path.open("w", encoding="utf-8", newline="") as f:
        if fmt == "csv":
            writer = SpreadsheetWriter(f, fieldnames=EXPORT_COLUMNS)  # no cell runs as a formula
            writer.writeheader()
            writer.writerows(data)
        else:
            f.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in data)
    return len(data)
