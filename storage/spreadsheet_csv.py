"""CSV files for people to open in a spreadsheet: no cell runs as a formula.

Excel, LibreOffice and Google Sheets run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (and, in some,
after a tab or a carriage return) as a formula, so a product named ``=HYPERLINK("http://evil.example", "Sale")``
becomes a link, or worse, in the shop's own spreadsheet (CSV injection). As OWASP recommends, such a text cell
is written with a leading ``'``, which the spreadsheet shows as text and does not print. Every CSV that
Chatcast writes goes through :class:`SpreadsheetWriter`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: Any) -> Any:
    """``value`` as a cell no spreadsheet runs: a text starting like a formula gets a leading ``'``; anything
    else (numbers among them) as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SpreadsheetWriter(csv.DictWriter):
    """``csv.DictWriter`` whose every text cell is :func:`neutralised` (the header is ours: written as it is)."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        """Write one row, its cells neutralised."""
        return super().writerow({key: neutralised(value) for key, value in rowdict.items()})

    def writerows(self, rowdicts: Iterable[Mapping[str, Any]]) -> None:
        """Write the rows, their cells neutralised."""
        for row in rowdicts:
            self.writerow(row)
