"""Keys that come back within one import file: a second row for the same customer, product or order line.

The later row wins, as the upsert would have it row by row; the import's summary names each repeated row and
the row it repeats, and ``--strict`` refuses the file. Keys are kept as 64-bit hashes in flat arrays (16 bytes a
row, whatever the key), so a file of millions of rows stays within the import's flat memory; the repeats are
looked for once, at the end. (Two different keys with one 64-bit hash would be reported as a repeat: for a
file of a million rows, a chance of about one in 36 million.)
"""

from __future__ import annotations

from array import array
from collections.abc import Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Repeat:
    """A row whose key an earlier row of the same file had: where each is."""

    row: int
    line: int
    first_row: int


class Ledger:
    """The key of every row of one import, in file order."""

    def __init__(self) -> None:
        self.hashes = array("q")
        self.places = array("q")  # row << 32 | line: rows and lines stay below 2**31

    def add(self, key: Hashable, row: int, line: int) -> None:
        """Note the key of ``row``."""
        self.hashes.append(hash(key))
        self.places.append(row << 32 | line)

    def repeats(self) -> list[Repeat]:
        """Each row whose key an earlier row had, in file order, with the first row that had it."""
        seen: set[int] = set()
        twice: set[int] = set()
        for key in self.hashes:
            (twice if key in seen else seen).add(key)
        del seen
        first: dict[int, int] = {}
        found = []
        for key, place in zip(self.hashes, self.places, strict=True):
            if key not in twice:
                continue
            row, line = place >> 32, place & 0xFFFFFFFF
            if key in first:
                found.append(Repeat(row, line, first[key]))
            else:
                first[key] = row
        return found
