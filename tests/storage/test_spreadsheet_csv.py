"""CSV for spreadsheets: a cell that would run as a formula is written as text, and every CSV writer of ours
goes through the one helper."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from storage.spreadsheet_csv import SpreadsheetWriter, neutralised

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("chatcast", "bots", "campaigns", "segments", "assistant", "storage")
HELPER = ROOT / "storage" / "spreadsheet_csv.py"


def test_cells_that_start_like_a_formula_are_written_as_text() -> None:
    out = io.StringIO()
    writer = SpreadsheetWriter(out, fieldnames=["a", "b"])
    writer.writeheader()
    writer.writerows([{"a": "=1+1", "b": "+49 30 123"}, {"a": "-x", "b": "@me"}, {"a": "\tTab", "b": "\rCR"}])
    writer.writerow({"a": "plain = text", "b": -5})
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows == [
        ["a", "b"],
        ["'=1+1", "'+49 30 123"],
        ["'-x", "'@me"],
        ["'\tTab", "'\rCR"],
        ["plain = text", "-5"],  # a number stays a number
    ]
    assert neutralised(None) is None and neutralised(3.5) == 3.5 and neutralised("") == ""


def test_every_csv_writer_is_the_spreadsheet_writer() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != HELPER
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"\bcsv\.(writer|DictWriter)\(", line)
    ]
    assert not found, f"write CSV through storage.spreadsheet_csv.SpreadsheetWriter: {found}"
