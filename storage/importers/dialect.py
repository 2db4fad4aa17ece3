"""How a file is written: its text encoding and, for a CSV, its delimiter; sniffed from its first bytes unless forced.

Encodings: a byte-order mark decides (UTF-8, or UTF-16 as Excel's "Unicode text" writes); without one the file
must be UTF-8, and a sample with bytes that are not UTF-8 and no UTF-8 beyond ASCII is a file in another encoding
(Windows-1252 from Excel's "CSV" on Windows): refused before anything is written, naming the byte and its line.
A UTF-8 file with a few broken bytes is read, and the rows holding them are refused one by one.
Delimiters: the header line's most frequent of comma, semicolon and tab outside quotes (a comma when none).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from storage.errors import ChatcastError

SAMPLE_BYTES = 1 << 20  # enough for any header and many rows; read twice, so keep it small beside the file
DELIMITERS = {",": ",", ";": ";", "tab": "\t", "\t": "\t", "\\t": "\t"}
NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
_PREFERENCE = (",", ";", "\t")  # a tie goes to the first
_LABELS = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252", "iso8859-1": "Latin-1"}


class DialectError(ChatcastError, ValueError):
    """The file's encoding or delimiter is not one we read, or a forced one is unknown."""


@dataclass(frozen=True)
class Dialect:
    """The codec a file is read with and, for a CSV, its delimiter."""

    encoding: str
    delimiter: str = ","

    @property
    def decimal_comma(self) -> bool:
        """Whether numbers may be written with a decimal comma: in semicolon-separated files, Excel's choice in
        locales (German, French, ...) where the comma is the decimal mark."""
        return self.delimiter == ";"

    def describe(self, csv_file: bool) -> str:
        """How the file was read, in words, when that is not plain comma-separated UTF-8; else empty."""
        parts = []
        if csv_file and self.delimiter != ",":
            parts.append(f"{NAMES[self.delimiter]}-separated")
        if self.encoding != "utf-8-sig":
            parts.append(encoding_label(self.encoding))
        if csv_file and self.decimal_comma:
            parts.append("decimal commas accepted")
        return ", ".join(parts)


def encoding_label(codec: str) -> str:
    """A codec's name as people know it: UTF-8, Windows-1252, Latin-1."""
    name = codecs.lookup(codec).name
    return _LABELS.get(name, name)


def delimiter_named(name: str) -> str:
    """The delimiter a ``--delimiter`` value names: ``,``, ``;`` or ``tab``."""
    try:
        return DELIMITERS[name.strip() if name.strip() else name]
    except KeyError:
        raise DialectError(f"unknown delimiter {name!r} (choose ',', ';' or 'tab')") from None


def encoding_named(name: str) -> str:
    """The codec an ``--encoding`` value names (utf-8 also reads a byte-order mark)."""
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        raise DialectError(f"unknown encoding {name!r} (for example utf-8, cp1252, latin-1, utf-16)") from None
    return "utf-8-sig" if codec == "utf-8" else codec


def _decoded(sample: bytes, encoding: str) -> str:
    # incremental: a character cut at the end of the sample is not an error
    return codecs.getincrementaldecoder(encoding)(errors="surrogateescape").decode(sample, final=False)


ESCAPED = re.compile("[\udc80-\udcff]")  # the bytes surrogateescape could not decode
_BEYOND_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


def sniff_encoding(sample: bytes) -> str:
    """The codec of a file that starts with ``sample``: by its byte-order mark, else UTF-8 (raises DialectError
    for a file that is plainly in another encoding)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    text = _decoded(sample, "utf-8")
    if ESCAPED.search(text) and not _BEYOND_ASCII.search(text):
        try:
            codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        except UnicodeDecodeError as exc:
            raise DialectError(_not_utf8(sample, exc.start)) from None
    return "utf-8-sig"


def _not_utf8(sample: bytes, offset: int) -> str:
    byte = sample[offset]
    line = sample.count(b"\n", 0, offset) + 1
    try:
        shown = f" ('{bytes([byte]).decode('cp1252')}' in Windows-1252)"
    except UnicodeDecodeError:
        shown = ""
    return (
        f"line {line}: byte 0x{byte:02X}{shown} is not UTF-8: the file is in another encoding, such as the"
        " Windows-1252 of Excel's 'CSV' export. Save it as 'CSV UTF-8' (Excel: Save As, CSV UTF-8)"
        " or import it with --encoding cp1252"
    )


def sniff_delimiter(sample: bytes, encoding: str) -> str:
    """The delimiter of a CSV starting with ``sample``: the most frequent of comma, semicolon and tab in its header
    line, outside quotes (a comma when it has none)."""
    counts = dict.fromkeys(_PREFERENCE, 0)
    quoted = False
    for ch in _decoded(sample, encoding).removeprefix("\ufeff"):
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch in "\r\n":
            break
        elif ch in counts:
            counts[ch] += 1
    best = max(_PREFERENCE, key=lambda d: counts[d])  # max keeps the first of equals
    return best if counts[best] else ","
