"""``chatcast import reviews`` and ``chatcast report reviews``: what customers say about each product."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from assistant.reviews import ProductReviews, summaries
from chatcast.cli_data import (
    DEFAULT_BATCH,
    BatchOpt,
    DelimiterOpt,
    EncodingOpt,
    FileArg,
    StrictOpt,
    print_report,
    progress_bar,
)
from chatcast.console import UserError, out, run, state
from storage import db
from storage.importers import ImportReport, import_reviews


def _column_map(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise typer.BadParameter(f"{pair!r} is not FIELD=COLUMN (e.g. text=body)", param_hint="--column")
        found[ours.strip()] = theirs.strip()
    return found


def import_reviews_command(
    ctx: typer.Context,
    file: FileArg,
    column: Annotated[
        list[str] | None, typer.Option("--column", help="FIELD=COLUMN: read our field from the file's column (repeat).")
    ] = None,
    strict: StrictOpt = False,
    batch_size: BatchOpt = DEFAULT_BATCH,
    delimiter: DelimiterOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Product reviews, one per row, with their sentiment and themes; unknown products are bad rows.

    Fields: sku, text (required), rating (1-5), customer_id (kept when known), reviewed_at, review_id (the key
    that makes a re-import change nothing; without it a hash of the row). Other columns are ignored; map a
    platform's own names with --column, e.g. --column sku=product_handle --column text=body.
    """
    from assistant.reviews import Annotator  # VADER loads its lexicon: only this command needs it

    columns = _column_map(column or [])
    settings = state(ctx).settings

    async def go() -> ImportReport:
        if not file.is_file():
            raise UserError(f"{file}: no such file")
        async with db.database(settings.db_url):
            with progress_bar() as bar:
                task = bar.add_task(f"reviews {file.name}", total=file.stat().st_size or 1, rows=0)
                return await import_reviews(
                    file, annotate=Annotator(), columns=columns, strict=strict, batch_size=batch_size,
                    tz=ZoneInfo(settings.timezone), delimiter=delimiter, encoding=encoding,
                    on_progress=lambda done, total, rows: bar.update(task, completed=done, total=total or 1, rows=rows),
                )  # fmt: skip

    report = run(ctx, go())
    print_report(report)
    if report.bad and strict:
        raise typer.Exit(1)


def reviews_report(
    ctx: typer.Context,
    sku: Annotated[list[str] | None, typer.Option("--sku", help="Only this product (repeat for more).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Per product: reviews and feedback, average rating, sentiment, and the themes people praise and complain of."""
    settings = state(ctx).settings

    async def go() -> list[ProductReviews]:
        async with db.database(settings.db_url):
            return await summaries(sku or None)

    found = run(ctx, go())
    if as_json:
        data = [asdict(r) | {"praised": r.praised, "complaints": r.complaints} for r in found]
        out.print_json(json.dumps(data))
        return
    if not found:
        out.print("No reviews yet: load them with chatcast import reviews FILE.")
        return
    table = Table(title="Reviews per product (SKU)")
    for column in (
        "SKU",
        "reviews",
        "feedback",
        "rating",
        "sentiment",
        "positive",
        "negative",
        "praised",
        "complaints",
    ):
        table.add_column(column, justify="left" if column in ("SKU", "praised", "complaints") else "right")
    for r in found:
        table.add_row(
            escape(r.sku), str(r.reviews), str(r.feedback), "-" if r.rating is None else f"{r.rating:.1f}",
            f"{r.mean_sentiment:+.2f}", str(r.positive), str(r.negative),
            escape(", ".join(r.praised) or "-"), escape(", ".join(r.complaints) or "-"),
        )  # fmt: skip
    out.print(table)


def register(import_app: typer.Typer, report_app: typer.Typer) -> None:
    """Add the reviews commands to ``chatcast import`` and ``chatcast report``."""
    import_app.command("reviews")(import_reviews_command)
    report_app.command("reviews")(reviews_report)
