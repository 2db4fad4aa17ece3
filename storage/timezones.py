"""Timezone names read from outside (settings, campaign files, customer imports) parsed one way.

:class:`~zoneinfo.ZoneInfo` raises three kinds of error for a bad name: ``ZoneInfoNotFoundError`` for an unknown
one (``Nope/Nope``), ``ValueError`` for one that is not a relative path (``""``, ``../etc/passwd``), and an
``OSError`` such as ``IsADirectoryError`` for a folder of the tzdata package (``America``, where the zones come
from the ``tzdata`` package rather than the system). :func:`parse_timezone` turns each into :class:`UnknownTimezone`.
"""

from __future__ import annotations

import difflib
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from storage.errors import ChatcastError

EXAMPLE = "Europe/Berlin"
UTC_ZONE = ZoneInfo("UTC")


class UnknownTimezone(ChatcastError, ValueError):
    """A name that is not an IANA timezone; a ``ValueError`` too, so that a pydantic validator reports it."""

    def __init__(self, name: str, hint: str | None = None) -> None:
        self.name = name
        super().__init__(f"unknown timezone {name!r} ({hint or f'use an IANA name such as {EXAMPLE}'})")


def parse_timezone(name: str, *, suggest: bool = False) -> ZoneInfo:
    """The IANA timezone called ``name``, or :class:`UnknownTimezone` naming it, whatever is wrong with it;
    ``suggest``: the error names the closest known zone, if one is close (slower: for files people write)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder of the tzdata package, e.g. America
        close = _closest(name) if suggest else None
        raise UnknownTimezone(name, f"did you mean {close!r}?" if close else None) from None


def _closest(name: str) -> str | None:
    found = difflib.get_close_matches(name, sorted(available_timezones()), n=1)
    return found[0] if found else None
