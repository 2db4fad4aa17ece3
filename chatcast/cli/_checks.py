"""What the campaign commands check a file against: the shop's personas and segments, its settings, the clock.

Personas and segments come from ``--segments FILE``, else ``CHATCAST_SEGMENTS_FILE`` when that file exists,
else the definitions the last ``chatcast segments refresh`` (or ``chatcast demo``) kept in the database; the
command says which, unless the person named it (the option, or the variable set). With none of them,
``validate`` warns and skips those checks; the commands that write messages (preview, test-send, launch)
cannot go on and say how to give them.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from chatcast.console import err, fail, state

if TYPE_CHECKING:
    from campaigns.timing.readiness import Shop
    from chatcast.settings import Settings
    from segments import saved
    from segments.definitions import Definitions

HOW = (
    "pass --segments FILE, set CHATCAST_SEGMENTS_FILE, or run `chatcast segments refresh --file FILE`"
    " (examples/shop/segments.yaml is a full example)"
)


def shop_now(settings: Settings, now: datetime | None = None) -> Shop:
    """The shop as the readiness checks see it: the moment, its timezone, URL and quiet hours."""
    from campaigns.timing.readiness import Shop

    return Shop(now=now or datetime.now(UTC), zone=settings.zone, url=settings.shop_url, quiet=settings.quiet_span)


def campaign_definitions(ctx: typer.Context, path: Path | None, *, required: bool) -> Definitions | None:
    """The personas and segments to check campaigns against (see the module docstring); None, with a warning,
    when there are none and they are not ``required``."""
    settings = state(ctx).settings
    if path is not None:
        if not path.is_file():
            fail(f"no segments file {path}")
        return _load(path)
    if settings.segments_file.is_file():
        if "segments_file" not in settings.model_fields_set:  # named by nobody: say where it came from
            _note(f"{settings.segments_file} (the default of CHATCAST_SEGMENTS_FILE)")
        return _load(settings.segments_file)
    kept, problem = _from_database(ctx, settings)
    if kept is not None:
        when = f", {kept.saved_at:%Y-%m-%d %H:%M %Z}" if kept.saved_at else ""
        _note(f"{kept.definitions.file} as kept in the database by the last refresh{when}")
        return kept.definitions
    missing = f"no segments file {settings.segments_file} and {problem or 'none kept in the database'}"
    if required:
        fail(f"no personas and segments: {missing}: {HOW}")
    err.print(
        f"[yellow]warning:[/] {escape(missing)}: personas and segments are not checked; to check them, {escape(HOW)}",
        soft_wrap=True,
    )
    return None


def required_definitions(ctx: typer.Context, path: Path | None) -> Definitions:
    """The personas and segments for a command that writes messages (it stops, saying how, without them)."""
    found = campaign_definitions(ctx, path, required=True)
    if found is None:  # not reached: a required lookup stops the command when it finds none
        raise typer.Exit(1)
    return found


def _note(source: str) -> None:
    err.print(f"[dim]personas and segments: {escape(source)}[/]", soft_wrap=True)


def _load(path: Path) -> Definitions:
    from bots.registry import names
    from segments.definitions import DefinitionsError, load

    try:
        return load(path, names())
    except DefinitionsError as exc:
        for problem in exc.problems:
            err.print(f"[bold red]error:[/] {escape(str(problem))}")
        fail(f"{path} has mistakes: fix it before checking campaigns against it")


def _from_database(ctx: typer.Context, settings: Settings) -> tuple[saved.Saved | None, str | None]:
    """The definitions kept in the database, or why there are none to read (None: simply none kept)."""
    from chatcast.settings import redact_url
    from segments import saved
    from segments.definitions import DefinitionsError
    from storage import db

    url = settings.db_url
    if url.startswith("sqlite://") and not Path(url.removeprefix("sqlite://").split("?", 1)[0]).is_file():
        return None, None  # no database yet: do not create one just to look

    async def read() -> saved.Saved | None:
        async with db.database(url, upgrade_schema=False):
            return await saved.saved()

    try:
        return asyncio.run(read()), None
    except DefinitionsError as exc:  # kept by an older version whose rules no longer hold
        return None, f"the definitions kept in the database no longer load ({exc})"
    except db.DATABASE_DOWN as exc:
        redactor = state(ctx).redactor
        reason = redactor.redact(str(exc)) if redactor else type(exc).__name__
        return None, f"the database {redact_url(url)} could not be read ({reason})"
