"""Importers of customers, products, orders and reviews from CSV and JSONL: streaming, idempotent, exact errors."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import tzinfo
from pathlib import Path
from typing import Any

from storage.credits import Credits
from storage.importers.kinds import CustomersKind, OnlineRetailKind, OrdersKind, ProductsKind
from storage.importers.reviews import Annotate, ReviewsKind
from storage.importers.rows import IdentityColumn, RowError
from storage.importers.runner import DEFAULT_BATCH, ImportAborted, ImportReport, Kind, Progress, run_import
from storage.importers.sources import RowSource, SourceError

KINDS: dict[str, Callable[[Sequence[IdentityColumn]], Kind[Any]]] = {
    "customers": CustomersKind,
    "products": lambda _: ProductsKind(),
    "orders": lambda _: OrdersKind(),
    "online-retail": lambda _: OnlineRetailKind(),
}

__all__ = [
    "DEFAULT_BATCH",
    "KINDS",
    "Annotate",
    "IdentityColumn",
    "ImportAborted",
    "ImportReport",
    "Kind",
    "RowError",
    "SourceError",
    "import_file",
    "import_reviews",
]


async def import_file(
    kind: str,
    path: Path,
    *,
    fmt: str | None = None,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH,
    tz: tzinfo | None = None,
    on_progress: Progress | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
    identities: Sequence[IdentityColumn] = (),
    currency: str | None = None,
    credits: Credits | None = None,
) -> ImportReport:
    """Import ``path`` as ``kind`` (customers, products, orders or online-retail) into the open database;
    ``delimiter`` (``,`` ``;`` ``tab``) and ``encoding`` force what is otherwise sniffed from the file. Customers'
    ``identities`` are the columns that link chat identities (each channel declares its own). Money without a
    currency is in ``currency`` (the shop's; else USD). Orders are credited to campaigns by ``credits``, batch by
    batch, when given."""
    if kind not in KINDS:
        raise SourceError(f"unknown import kind {kind!r} (choose from {', '.join(KINDS)})")
    source = RowSource(path, fmt, delimiter=delimiter, encoding=encoding)
    made = KINDS[kind](identities)
    if isinstance(made, OrdersKind):
        made.credits = credits
    return await run_import(
        made, source, strict=strict, batch_size=batch_size, tz=tz, on_progress=on_progress, currency=currency
    )


async def import_reviews(
    path: Path,
    *,
    annotate: Annotate,
    columns: Mapping[str, str] | None = None,
    fmt: str | None = None,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH,
    tz: tzinfo | None = None,
    on_progress: Progress | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> ImportReport:
    """Import product reviews from ``path``; ``annotate`` gives each text's sentiment and themes, ``columns`` maps
    our field names to the file's."""
    try:
        kind = ReviewsKind(annotate, columns)
    except ValueError as exc:
        raise SourceError(str(exc)) from None
    source = RowSource(path, fmt, delimiter=delimiter, encoding=encoding)
    return await run_import(kind, source, strict=strict, batch_size=batch_size, tz=tz, on_progress=on_progress)
