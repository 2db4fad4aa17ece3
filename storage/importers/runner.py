"""The import loop shared by every kind: read, validate, write in batches, count, report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, Generic, Protocol, TypeVar

from pydantic import ValidationError
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from storage import bulk
from storage.errors import ChatcastError
from storage.importers.repeats import Ledger, Repeat
from storage.importers.rows import RowError, RowProblem, describe
from storage.importers.sources import BAD, BAD_COLUMN, RawRow, RowSource, SourceError

T = TypeVar("T")
Progress = Callable[[int, int, int], None]
KEPT_ERRORS = 100
YIELD_EVERY = 250
DEFAULT_BATCH = 5000


class ImportAborted(ChatcastError):
    """``--strict`` met a bad row: nothing of this import was written."""

    def __init__(self, error: RowError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(slots=True)
class Parsed(Generic[T]):
    """A row that passed validation, with where it came from."""

    raw: RawRow
    value: T


class Kind(Protocol[T]):
    """One kind of import: how to validate a row and how to write a batch of valid ones; ``key_name`` names the
    key a row upserts by, and ``key_of`` gives a valid row's (None: a row with no key of its own)."""

    name: str
    tables: tuple[str, ...]

    @property
    def key_name(self) -> str | None: ...

    def key_of(self, value: T) -> Hashable | None: ...

    def check_columns(self, columns: Sequence[str]) -> str | None: ...

    def parse(self, data: dict[str, Any], context: dict[str, Any]) -> T: ...

    async def write(
        self, conn: BaseDBAsyncClient, batch: list[Parsed[T]], columns: Sequence[str]
    ) -> list[tuple[RawRow, str | None, str]]: ...


@dataclass
class ImportReport:
    """What an import did: rows read, written and refused, and the new rows per table; ``read_as``: how the
    file was read, when not as comma-separated UTF-8; ``repeated``: the rows that repeat an earlier row's key
    (the later row won), ``key_name`` that key."""

    kind: str
    file: str
    read_as: str = ""
    rows: int = 0
    imported: int = 0
    bad: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    key_name: str | None = None
    repeated: list[Repeat] = field(default_factory=list)

    def add_error(self, error: RowError) -> None:
        """Count a refused row, keeping the first few for the summary."""
        self.bad += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.append(error)

    @property
    def rows_per_second(self) -> float:
        """Throughput of the whole import."""
        return self.rows / self.seconds if self.seconds else 0.0


async def run_import(
    kind: Kind[Any],
    source: RowSource,
    *,
    strict: bool = False,
    batch_size: int = DEFAULT_BATCH,
    tz: tzinfo | None = None,
    on_progress: Progress | None = None,
    currency: str | None = None,
) -> ImportReport:
    """Import every row of ``source`` as ``kind``; ``strict``: the first bad row aborts and undoes all. Times without
    a zone are read in ``tz``, money without a currency in ``currency`` (the shop's)."""
    report = ImportReport(kind=kind.name, file=str(source.path), read_as=source.describe(), key_name=kind.key_name)
    ledger = Ledger()
    started = time.perf_counter()
    context: dict[str, Any] = {"tz": tz} if tz else {}
    if currency:
        context["currency"] = currency
    if source.decimal_comma:
        context["decimal_comma"] = True
    name = source.path.name

    def refuse(raw: RawRow, column: str | None, reason: str) -> None:
        error = RowError(file=name, row=raw.row, line=raw.line, column=column, reason=reason)
        if strict:
            raise ImportAborted(error)
        report.add_error(error)

    async def flush(conn: BaseDBAsyncClient, batch: list[Parsed[Any]]) -> None:
        refused = await kind.write(conn, batch, source.columns)
        for raw, column, reason in refused:
            refuse(raw, column, reason)
        report.imported += len(batch) - len(refused)

    async def loop(conn: BaseDBAsyncClient | None) -> None:
        # Parsing and writing overlap: while one batch is written (the database works in its own thread or
        # server), the next is parsed. One write is in flight at a time, so batches land in file order.
        batch: list[Parsed[Any]] = []
        writing: asyncio.Task[None] | None = None
        checked = False
        try:
            for raw in source:
                if not checked and source.format == "csv":
                    checked = True
                    problem = kind.check_columns(source.columns)
                    if problem:
                        raise SourceError(f"{name}: line 1 (header): {problem}{_delimiter_hint(source)}")
                report.rows += 1
                if report.rows % YIELD_EVERY == 0:
                    await asyncio.sleep(0)  # let the writer issue its next statement
                value = parse(raw)
                if value is None:
                    continue
                batch.append(Parsed(raw, value))
                if len(batch) >= batch_size:
                    if writing is not None:
                        await writing
                    writing = asyncio.ensure_future(_write(conn, batch))
                    batch = []
                    if on_progress:
                        on_progress(source.bytes_read(), source.total_bytes, report.rows)
        finally:
            if writing is not None:
                await writing
        if not checked and source.format == "csv" and (problem := kind.check_columns(source.columns)):
            # a file with a header and no rows
            raise SourceError(f"{name}: line 1 (header): {problem}{_delimiter_hint(source)}")
        if batch:
            await _write(conn, batch)
        if on_progress:
            on_progress(source.total_bytes, source.total_bytes, report.rows)

    def parse(raw: RawRow) -> Any:
        if BAD in raw.data:
            return refuse(raw, raw.data.get(BAD_COLUMN), raw.data[BAD])
        try:
            value = kind.parse(raw.data, context)
        except ValidationError as exc:
            column, reason = describe(exc, raw.data)
            return refuse(raw, column, reason)
        except RowProblem as exc:
            return refuse(raw, exc.column, exc.reason)
        if (key := kind.key_of(value)) is not None:
            ledger.add(key, raw.row, raw.line)
        return value

    def check_repeats() -> None:
        report.repeated = ledger.repeats()
        if strict and report.repeated:  # raised inside the transaction: nothing of the file is written
            first = report.repeated[0]
            reason = (
                f"repeats the {kind.key_name} of row {first.first_row}: with --strict a key may appear once in a"
                " file (without it, the later row wins)"
            )
            raise ImportAborted(RowError(file=name, row=first.row, line=first.line, column=None, reason=reason))

    async def _write(conn: BaseDBAsyncClient | None, batch: list[Parsed[Any]]) -> None:
        if conn is not None:
            await flush(conn, batch)
            return
        async with in_transaction() as tx:
            await flush(tx, batch)

    async with in_transaction() as probe:
        before = {table: await bulk.count(probe, table) for table in kind.tables}
    async with bulk.import_tuning():
        if strict:
            async with in_transaction() as tx:
                await loop(tx)
                check_repeats()
        else:
            await loop(None)
            check_repeats()
    async with in_transaction() as probe:
        report.created = {table: await bulk.count(probe, table) - before[table] for table in kind.tables}
    if report.imported:
        await bulk.analyze(kind.tables)
    report.errors.sort(key=lambda e: e.row)
    report.seconds = time.perf_counter() - started
    return report


def _delimiter_hint(source: RowSource) -> str:
    """For a header that is one column holding another delimiter (``--delimiter`` forced the wrong one), the fix."""
    if len(source.columns) == 1:
        for other, name in ((";", "';'"), ("\t", "tab"), (",", "','")):
            if other != source.dialect.delimiter and other in source.columns[0]:
                return f" (the header is one column: is the file separated by {name}? try --delimiter {name})"
    return ""
