"""The personas and segments the last refresh assigned by, kept in the database (their YAML and its path).

Customers' personas are only as good as the file they were assigned by: ``campaign validate``, ``preview``,
``test-send`` and ``launch`` check a campaign against these when no segments file is named or found, so a
shop set up by ``chatcast demo`` or ``chatcast segments refresh`` needs no file at hand to catch a persona
that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from segments.definitions import Definitions, parse
from storage import state
from storage.sql import BaseDBAsyncClient

KEY = "segments.definitions"


@dataclass(frozen=True)
class Saved:
    """Definitions read back from the database, with when the refresh that used them ran."""

    definitions: Definitions
    saved_at: datetime | None


async def save(defs: Definitions, connection: BaseDBAsyncClient | None = None, *, at: datetime | None = None) -> None:
    """Keep ``defs`` (when read from YAML text) as the shop's definitions."""
    if defs.text:
        stamp = (at or datetime.now(UTC)).isoformat()
        await state.put(KEY, {"file": defs.file, "text": defs.text, "saved_at": stamp}, connection)


async def saved() -> Saved | None:
    """The definitions last kept, parsed (raising :class:`~segments.definitions.DefinitionsError` should they no
    longer be valid); None when no refresh kept any."""
    value = await state.get(KEY)
    if not value or not isinstance(value.get("text"), str):
        return None
    stamp = value.get("saved_at")
    at = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    return Saved(parse(value["text"], str(value.get("file") or "segments.yaml")), at)
