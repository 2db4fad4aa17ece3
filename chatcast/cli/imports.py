"""``chatcast import``: loading a shop's data (customers, products, orders, reviews) from CSV or JSONL."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from chatcast.console import UserError, err, out, run, state
from storage.customer_columns import CUSTOMER_COLUMNS  # tuples only: light for --help

if TYPE_CHECKING:
    from rich.progress import Progress

    from storage.credits import Credits
    from storage.importers import ImportReport

# storage.importers.DEFAULT_BATCH, written out so that --help need not import the importers (and the ORM);
# test_cli_startup holds the two equal
DEFAULT_BATCH = 5000

import_app = typer.Typer(
    help="Load customers, products, orders and reviews from CSV or JSONL (upsert by id; safe to repeat).",
    no_args_is_help=True,
)

FileArg = Annotated[Path, typer.Argument(help="A .csv, .jsonl or .ndjson file (optionally .gz).")]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Stop at the first bad row and write nothing.")]
BatchOpt = Annotated[int, typer.Option("--batch-size", min=1, max=20000, help="Rows written per batch.")]
DelimiterOpt = Annotated[
    str | None,
    typer.Option("--delimiter", help="The CSV's delimiter: ',' ';' or 'tab' (default: read off the header line)."),
]
EncodingOpt = Annotated[
    str | None,
    typer.Option("--encoding", help="The file's encoding, e.g. cp1252 for Excel's 'CSV' (default: UTF-8, BOM or not)."),
]


def progress_bar() -> Progress:
    """A progress bar over the bytes of the file being imported."""
    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    )


async def import_with_progress(
    kind: str,
    path: Path,
    *,
    fmt: str | None,
    strict: bool,
    batch_size: int,
    tz: str,
    show: bool = True,
    delimiter: str | None = None,
    encoding: str | None = None,
    currency: str | None = None,
    credits: Credits | None = None,
) -> ImportReport:
    """Import one file into the open database, drawing a progress bar while it runs; customers' chats link through
    each channel's column; money without a currency is in ``currency``; orders are credited by ``credits``."""
    from chatcast.channels import identity_columns
    from storage.importers import import_file
    from storage.timezones import parse_timezone

    with progress_bar() as bar:
        size = path.stat().st_size if path.is_file() else 0
        task = bar.add_task(f"{kind} {path.name}", total=size or 1, rows=0, visible=show)

        def advance(done: int, total: int, rows: int) -> None:
            bar.update(task, completed=done, total=total or 1, rows=rows)

        return await import_file(
            kind, path, fmt=fmt, strict=strict, batch_size=batch_size, tz=parse_timezone(tz), on_progress=advance,
            delimiter=delimiter, encoding=encoding, identities=identity_columns(), currency=currency, credits=credits,
        )  # fmt: skip


def print_report(report: ImportReport, *, shown_errors: int = 20) -> None:
    """One summary line, then the first bad rows."""
    created = ", ".join(f"{n:,} new {table}" for table, n in report.created.items())
    out.print(
        f"{report.kind}: {report.rows:,} rows read, {report.imported:,} imported, {report.bad:,} bad"
        f" ({created}) in {report.seconds:.1f}s, {report.rows_per_second:,.0f} rows/s"
    )
    if report.read_as:
        out.print(f"  read as: {report.read_as}")
    for error in report.errors[:shown_errors]:
        out.print(f"  [yellow]bad row[/] {error}", markup=True, highlight=False)
    if report.bad > shown_errors:
        out.print(f"  ... and {report.bad - shown_errors:,} more bad rows")
    if report.repeated:
        many = len(report.repeated)
        out.print(
            f"  {many:,} row{'s' if many > 1 else ''} repeat the {report.key_name} of an earlier row; the later row"
            " won (--strict refuses such a file):"
        )
        name = Path(report.file).name
        for repeat in report.repeated[:shown_errors]:
            out.print(f"  [yellow]repeated[/] {name} row {repeat.row} (line {repeat.line}) repeats row"
                      f" {repeat.first_row}", markup=True, highlight=False)  # fmt: skip
        if many > shown_errors:
            out.print(f"  ... and {many - shown_errors:,} more repeated rows")


def _import(
    ctx: typer.Context,
    kind: str,
    path: Path,
    fmt: str | None,
    strict: bool,
    batch: int,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> None:
    from campaigns.notices.queue import queue_notices
    from campaigns.results.attribution import crediting
    from storage import db

    settings = state(ctx).settings
    # orders the campaigns brought get their credit batch by batch, as the webhook's do; cancellations void theirs
    credits = crediting() if kind in ("orders", "online-retail") else None

    async def go() -> tuple[ImportReport, int]:
        if not path.is_file():
            raise UserError(f"{path}: no such file")
        async with db.database(settings.db_url):
            report = await import_with_progress(
                kind, path, fmt=fmt, strict=strict, batch_size=batch, tz=settings.timezone, delimiter=delimiter,
                encoding=encoding, currency=settings.shop_currency, credits=credits,
            )  # fmt: skip
            # status changes of known orders become order notices; serve's dispatcher sends them
            notices = await queue_notices(settings.zone) if kind == "orders" else 0
            return report, notices

    report, notices = run(ctx, go())
    print_report(report)
    if notices:
        out.print(f"{notices:,} order notice{'' if notices == 1 else 's'} queued (chatcast serve sends them)")
    if credits and credits.credited:
        n = credits.credited
        out.print(f"{n:,} order{'' if n == 1 else 's'} credited to campaigns (see chatcast report)")
    if credits and credits.voided:
        n = credits.voided
        out.print(f"{n:,} credited order{'' if n == 1 else 's'} voided: cancelled, refunded or returned in full")
    if credits and credits.changed:
        n = credits.changed
        out.print(f"{n:,} credited order{'' if n == 1 else 's'} changed (a partial refund or return, new lines)")
    if report.bad and strict:
        raise typer.Exit(1)


_NOTES = {"external_id": " (required)", "tags": " (a;b)"}
# a CSV gives custom attributes as attr_<name> columns (the attributes field is their object)
_COLUMNS = ", ".join(f"{c}{_NOTES.get(c, '')}" for c in CUSTOMER_COLUMNS if c != "attributes")
# the channels' address columns are named in each channel's folder (the registry): listing them here would load
# every channel's settings to print the help, so the help points at them
CUSTOMERS_HELP = f"""Customers by external_id; each chat channel's address column links chat identities
(the columns are listed in docs/importing.md).

Columns: {_COLUMNS}, attr_<name>, and the address columns.
"""


@import_app.command("customers", help=CUSTOMERS_HELP)
def import_customers(
    ctx: typer.Context,
    file: FileArg,
    strict: StrictOpt = False,
    batch_size: BatchOpt = DEFAULT_BATCH,
    delimiter: DelimiterOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    _import(ctx, "customers", file, None, strict, batch_size, delimiter, encoding)


@import_app.command("products")
def import_products(
    ctx: typer.Context,
    file: FileArg,
    strict: StrictOpt = False,
    batch_size: BatchOpt = DEFAULT_BATCH,
    delimiter: DelimiterOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Products by sku.

    Columns: sku, name, price (required), category, currency, url, stock, tags (a;b), description, active,
    attributes (a JSON object of specifications) or attr_<name> columns (one specification each).
    """
    _import(ctx, "products", file, None, strict, batch_size, delimiter, encoding)


@import_app.command("orders")
def import_orders(
    ctx: typer.Context,
    file: FileArg,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="chatcast (our columns, CSV or JSONL) or online-retail (the UCI Online Retail layout).",
        ),
    ] = "chatcast",
    strict: StrictOpt = False,
    batch_size: BatchOpt = DEFAULT_BATCH,
    delimiter: DelimiterOpt = None,
    encoding: EncodingOpt = None,
) -> None:
    """Order lines, one per row; unknown customers or products are bad rows.

    Columns: order_id, customer_id, ordered_at, sku, quantity, unit_price (required), status, currency (ISO 4217;
    absent: CHATCAST_SHOP_CURRENCY), discount_code, line, is_return, return_of (a return's original order),
    refunded (an amount refunded on the order), tracking_url, carrier, expected_at (required when status is
    delayed), status_changed_at (when the order reached its status). Each order placed within a campaign's
    attribution window after its message is credited to it, once; a cancelled, refunded or returned one has its
    credit voided or lowered (see docs/revenue.md). An order this import sees first is history: no
    notice. An order known before whose status changed (paid, shipped, delayed, delivered, refunded) gets an
    order notice, unless status_changed_at dates the change more than 3 days ago.
    Lines are keyed by (order_id, line); without a line column the row's position in the file is used.
    --format online-retail reads InvoiceNo, StockCode, Description, Quantity, InvoiceDate, UnitPrice,
    CustomerID, Country, creates the customers and products it names, and marks C-invoices as cancelled
    returns (negative, and not counted as spend).
    """
    if fmt not in ("chatcast", "online-retail"):
        raise typer.BadParameter("choose chatcast or online-retail", param_hint="--format")
    kind = "online-retail" if fmt == "online-retail" else "orders"
    _import(ctx, kind, file, "csv" if fmt == "online-retail" else None, strict, batch_size, delimiter, encoding)


def _column_map(pairs: list[str]) -> dict[str, str]:
    found = {}
    for pair in pairs:
        ours, sep, theirs = pair.partition("=")
        if not sep or not ours.strip() or not theirs.strip():
            raise typer.BadParameter(f"{pair!r} is not FIELD=COLUMN (e.g. text=body)", param_hint="--column")
        found[ours.strip()] = theirs.strip()
    return found


@import_app.command("reviews")
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
    from storage import db
    from storage.importers import import_reviews

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
                    tz=settings.zone, delimiter=delimiter, encoding=encoding,
                    on_progress=lambda done, total, rows: bar.update(task, completed=done, total=total or 1, rows=rows),
                )  # fmt: skip

    report = run(ctx, go())
    print_report(report)
    if report.bad and strict:
        raise typer.Exit(1)
