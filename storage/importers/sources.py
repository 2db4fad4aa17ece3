"""Streaming readers for CSV and JSONL files: one row at a time, with its row and line number, in the file's own
encoding and delimiter (:mod:`storage.importers.dialect`)."""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from storage.errors import ChatcastError
from storage.importers.checks import ValueRefused, loads, text_problem
from storage.importers.dialect import (
    ESCAPED,
    SAMPLE_BYTES,
    Dialect,
    DialectError,
    delimiter_named,
    encoding_label,
    encoding_named,
    sniff_delimiter,
    sniff_encoding,
)

FORMATS = ("csv", "jsonl")


BAD = "__bad__"  # the key of a raw row that could not be read, holding the reason
BAD_COLUMN = "__bad_column__"  # and, where known, the column at fault


def _not_text(values: list[str], columns: list[str], encoding: str) -> dict[str, Any] | None:
    """Why ``values`` cannot be stored as text (undecodable bytes, kept as lone surrogates, NUL or another control
    character: :func:`storage.importers.checks.text_problem`), or None; the reason under ``BAD``, and the column
    at fault under ``BAD_COLUMN``."""
    joined = "".join(values)
    try:
        joined.encode("utf-8")  # the fast check: most rows pass it
    except UnicodeEncodeError:
        for index, value in enumerate(values):
            if found := ESCAPED.search(value):
                byte = ord(found.group()) - 0xDC00
                reason = f"byte 0x{byte:02X} is not {encoding_label(encoding)} text (save the file as UTF-8, or"
                reason += " give its --encoding)"
                return {BAD: reason, BAD_COLUMN: columns[index] if index < len(columns) else None}
        return {BAD: "not UTF-8 text"}
    if text_problem(joined) is None:  # the fast check again
        return None
    for index, value in enumerate(values):
        if problem := text_problem(value):
            return {BAD: problem, BAD_COLUMN: columns[index] if index < len(columns) else None}
    return None  # not reached: the joined text holds what one of the values does


class SourceError(ChatcastError):
    """A file that cannot be read at all (missing, unknown format, bad header)."""


@dataclass(slots=True)
class RawRow:
    """One record as read: ``row`` counts data records from 1, ``line`` is where it ends in the file."""

    row: int
    line: int
    data: dict[str, Any]


def detect_format(path: Path) -> str:
    """``csv`` or ``jsonl`` from the file name (``.gz`` allowed)."""
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    raise SourceError(f"{path}: cannot tell the format from the name (use .csv, .jsonl or .ndjson)")


class RowSource:
    """Iterates the rows of one file and reports how many bytes of it have been read."""

    def __init__(
        self, path: Path, fmt: str | None = None, *, delimiter: str | None = None, encoding: str | None = None
    ) -> None:
        """Open nothing yet: check the file and read its encoding and delimiter (``delimiter`` and ``encoding``
        force them)."""
        self.path = path
        if not path.is_file():
            raise SourceError(f"{path}: no such file")
        self.format = fmt or detect_format(path)
        if self.format not in FORMATS:
            raise SourceError(f"{path}: unknown format {self.format!r} (choose from {', '.join(FORMATS)})")
        if delimiter is not None and self.format != "csv":
            raise SourceError(f"{path}: --delimiter is for CSV files; this one is {self.format}")
        self.total_bytes = path.stat().st_size
        self._raw: IO[bytes] | None = None
        self.columns: list[str] = []
        self.dialect = self._sniff(delimiter, encoding)

    def _sniff(self, delimiter: str | None, encoding: str | None) -> Dialect:
        """The file's encoding and delimiter: those given, else read off its first bytes."""
        try:
            with self._binary() as binary:
                sample = binary.read(SAMPLE_BYTES)
        except (EOFError, gzip.BadGzipFile, OSError, zlib.error) as exc:
            raise SourceError(f"{self.path}: cannot read the file ({exc})") from None
        finally:
            self._close()
        try:
            forced = delimiter_named(delimiter) if delimiter is not None else None
            codec = encoding_named(encoding) if encoding else sniff_encoding(sample)
            if self.format != "csv":
                return Dialect(codec)
            return Dialect(codec, forced or sniff_delimiter(sample, codec))
        except DialectError as exc:
            raise SourceError(f"{self.path}: {exc}") from None

    @property
    def decimal_comma(self) -> bool:
        """Whether this file's numbers may use a decimal comma (a semicolon-separated CSV)."""
        return self.format == "csv" and self.dialect.decimal_comma

    def describe(self) -> str:
        """How the file is read, in words, when that is not plain comma-separated UTF-8; else empty."""
        return self.dialect.describe(self.format == "csv")

    def bytes_read(self) -> int:
        """How far into the file (compressed bytes for ``.gz``) the reader has got."""
        return self._raw.tell() if self._raw is not None and not self._raw.closed else self.total_bytes

    def _binary(self) -> IO[bytes] | gzip.GzipFile:
        self._raw = open(self.path, "rb")  # noqa: SIM115 - closed by the caller through _close
        if self.path.name.lower().endswith(".gz"):
            return gzip.GzipFile(fileobj=self._raw)
        return self._raw

    def _close(self) -> None:
        if self._raw is not None:
            self._raw.close()

    def _text(self) -> io.TextIOWrapper:
        # Undecodable bytes survive as lone surrogates, so that one bad row is refused, not the whole file.
        return io.TextIOWrapper(self._binary(), encoding=self.dialect.encoding, errors="surrogateescape", newline="")

    def __iter__(self) -> Iterator[RawRow]:
        text = self._text()
        try:
            if self.format == "csv":
                yield from self._csv(text)
            else:
                yield from self._jsonl(text)
        except (EOFError, gzip.BadGzipFile, OSError, zlib.error) as exc:
            raise SourceError(f"{self.path}: cannot read the file ({exc})") from None
        finally:
            text.close()
            self._close()

    def _csv(self, text: io.TextIOWrapper) -> Iterator[RawRow]:
        reader = csv.reader(text, delimiter=self.dialect.delimiter)
        try:
            header = next(reader)
        except StopIteration:
            raise SourceError(f"{self.path}: the file is empty (a CSV needs a header line)") from None
        except csv.Error as exc:
            raise SourceError(f"{self.path}: line 1 (header): {exc}") from None
        if problem := _not_text(header, header, self.dialect.encoding):
            raise SourceError(f"{self.path}: line 1 (header): {problem[BAD]}")
        self.columns = [name.strip() for name in header]
        row = 0
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                row += 1
                yield RawRow(row, reader.line_num, {BAD: f"unreadable CSV ({exc})"})
                continue
            if not values or all(not v.strip() for v in values):
                continue
            row += 1
            if len(values) != len(self.columns):
                yield RawRow(
                    row, reader.line_num, {BAD: f"has {len(values)} fields, the header has {len(self.columns)}"}
                )
            elif problem := _not_text(values, self.columns, self.dialect.encoding):
                yield RawRow(row, reader.line_num, problem)
            else:
                yield RawRow(row, reader.line_num, dict(zip(self.columns, values, strict=True)))

    def _jsonl(self, text: io.TextIOWrapper) -> Iterator[RawRow]:
        row = 0
        for line_no, line in enumerate(text, start=1):
            if not line.strip():
                continue
            row += 1
            if problem := _not_text([line], [], self.dialect.encoding):
                yield RawRow(row, line_no, problem)
                continue
            try:  # NUL spelled as JSON spells it (\u0000), nesting, sizes: the rules of every value from outside
                data = loads(line)
            except ValueRefused as exc:
                yield RawRow(row, line_no, {BAD: exc.reason, BAD_COLUMN: exc.path})
                continue
            if not isinstance(data, dict):
                yield RawRow(row, line_no, {BAD: "each line must be a JSON object"})
                continue
            for key in data:
                if key not in self.columns:
                    self.columns.append(key)
            yield RawRow(row, line_no, data)
