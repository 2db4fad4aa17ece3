"""Importers of customers, products and orders from CSV and JSONL: streaming, idempotent, exact errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

from storage.importers.kinds import CustomersKind, OnlineRetailKind, OrdersKind, ProductsKind
from storage.importers.rows import RowError
from storage.importers.runner import DEFAULT_BATCH, ImportAborted, ImportReport, Kind, Progress, run_import
from storage.importers.sources import RowSource, SourceError

KINDS: dict[str, Callable[[], Kind[Any]]] = {
    "customers": CustomersKind,
    "products": ProductsKind,
    "orders": OrdersKind,
    "online-retail": OnlineRetailKind,
}

__all__ = [
    "DEFAULT_BATCH",
    "KINDS",
    "ImportAborted",
    "ImportReport",
    "Kind",
    "RowError",
    "SourceError",
    "import_file",
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
) -> ImportReport:
    """Import ``path`` as ``kind`` (customers, products, orders or online-retail) into the open database."""
    if kind not in KINDS:
        raise SourceError(f"unknown import kind {kind!r} (choose from {', '.join(KINDS)})")
    source = RowSource(path, fmt)
    return await run_import(KINDS[kind](), source, strict=strict, batch_size=batch_size, tz=tz, on_progress=on_progress)
