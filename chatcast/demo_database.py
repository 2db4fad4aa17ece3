"""Where the demo's shop goes: the default database when it is free or a previous demo, never a shop of your own.

Then every command works on the demo's data as the demo prints it, with no ``CHATCAST_DATABASE_URL`` to type; and
the database remembers the sample shop's ``segments.yaml`` and ``knowledge.yaml`` (``demo_mark``), which commands
use when yours are neither set nor present. Deleting the database forgets them: nothing else is written anywhere.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from chatcast.settings import Settings
from storage import demo_mark
from storage.errors import ChatcastError

SHOP_FILES = ("segments_file", "knowledge_file")


class DatabaseTaken(ChatcastError):
    """The demo may not use this database (it holds someone's data, or is not a SQLite file): the message says why."""


@dataclass(frozen=True)
class Target:
    """The SQLite file the demo fills, and whether it is the database every command uses by default."""

    path: Path
    default: bool

    @property
    def url(self) -> str:
        """Its tortoise URL."""
        return f"sqlite://{self.path.as_posix()}"

    def command(self, args: str) -> str:
        """A ``chatcast`` command line that works on the demo's data as printed."""
        prefix = "" if self.default else f"CHATCAST_DATABASE_URL={shlex.quote(self.url)} "
        return f"{prefix}chatcast {args}"


def sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite://`` URL; None for PostgreSQL or an in-memory database."""
    if not url.startswith("sqlite://"):
        return None
    name = url.removeprefix("sqlite://").split("?", 1)[0]
    return None if name in ("", ":memory:") else Path(name)


def shown(path: Path) -> str:
    """``path`` as a person types it here: relative to the working directory when it lies below it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


def choose(settings: Settings, database: Path | None) -> Target:
    """The demo's database: ``--database``, else the configured one; ``DatabaseTaken`` if it holds your data."""
    configured = sqlite_file(settings.db_url)
    spare = settings.data_dir / "demo.sqlite3"
    path = database if database is not None else configured
    if path is None:
        raise DatabaseTaken(
            "CHATCAST_DATABASE_URL is not a SQLite file, and the demo makes a SQLite file of its own:"
            f" pass --database FILE (e.g. --database {shown(spare)}) and explore it with the commands it prints"
        )
    if path.exists():
        _check_free(path, spare)
    default = configured is not None and path.resolve() == configured.resolve()
    return Target(path, default)


def _check_free(path: Path, spare: Path) -> None:
    """Return if ``path`` may be replaced (empty, or the demo's and nothing added since); else raise, saying why."""
    try:
        seen = demo_mark.look(path)
    except sqlite3.Error:
        raise DatabaseTaken(
            f"{shown(path)} is not a SQLite database Chatcast can read; the demo leaves it alone: pass --database FILE"
        ) from None
    if seen.empty:
        return
    if seen.mark is None:
        held = ", ".join(f"{t} {n:,}" for t, n in seen.rows.items() if n)
        raise DatabaseTaken(
            f"{shown(path)} holds data of your own (rows: {held}), and the demo never overwrites it:"
            f" pass --database FILE to run the demo in another file (e.g. --database {shown(spare)})"
        )
    changed = seen.changed_since_demo()
    if changed:
        what = ", ".join(f"{t} {then:,} -> {now:,}" for t, (then, now) in changed.items())
        raise DatabaseTaken(
            f"{shown(path)} holds the demo's shop and data added since ({what}), and the demo never overwrites"
            " your data: delete the file to start afresh, or pass --database FILE"
        )


def clear(path: Path) -> None:
    """Remove a previous demo (the file and SQLite's write-ahead log beside it)."""
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)


def mark(shop: Path) -> dict[str, str | None]:
    """What the demo's database remembers of its shop: the folder and the files commands may use."""
    files = {"segments_file": shop / "segments.yaml", "knowledge_file": shop / "knowledge.yaml"}
    return {"shop": str(shop.resolve())} | {k: str(p.resolve()) if p.is_file() else None for k, p in files.items()}


def with_demo_files(settings: Settings) -> Settings:
    """``settings``, with the demo's segments and knowledge files where yours are neither set nor present."""
    wanted = [n for n in SHOP_FILES if n not in settings.model_fields_set and not getattr(settings, n).is_file()]
    path = sqlite_file(settings.db_url)
    if not wanted or path is None or not path.is_file():
        return settings
    try:
        found = demo_mark.look(path, count=False).mark or {}
    except (sqlite3.Error, OSError, ValueError):
        return settings  # not readable now: the command that opens it will say why
    update = {n: Path(found[n]) for n in wanted if isinstance(found.get(n), str) and os.path.isfile(found[n])}
    return settings.model_copy(update=update) if update else settings
