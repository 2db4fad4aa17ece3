"""``chatcast campaign rehearse``: a campaign's whole journey over days of simulated time, in seconds, against the
sandboxes and on a scratch copy of the shop (:mod:`chatcast.rehearsal`); what each persona got, and the funnel."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from chatcast.cli._checks import required_definitions, shop_now
from chatcast.cli._launch import SegmentsOption, load
from chatcast.console import err, fail, run, state

if TYPE_CHECKING:
    from chatcast.settings import Settings


def _start(value: str | None, settings: Settings) -> datetime:
    """``--start`` as an aware moment (the shop's timezone where it names none); now without it."""
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--start: {value!r} is not an ISO date or time (e.g. 2027-04-05 or 2027-04-05T09:00)", code=2)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=settings.zone)


def rehearse_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The campaign file.")],
    days: Annotated[int, typer.Option(min=1, max=90, help="How many days of the journey to simulate.")] = 7,
    start: Annotated[
        str | None,
        typer.Option(
            help="When the simulated launch happens: an ISO date or time, in the shop's timezone unless it"
            " names one (default: now)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="The simulated customers' choices: the same seed, the same run.")] = 7,
    keep: Annotated[
        Path | None,
        typer.Option("--keep", help="Keep the scratch copy in this folder, to inspect it (default: it is deleted)."),
    ] = None,
    as_json_: Annotated[bool, typer.Option("--json", help="Print the rehearsal as JSON.")] = False,
    segments: SegmentsOption = None,
) -> None:
    """Rehearse a campaign on a simulated clock: launch, simulated customers reading, clicking, buying and blocking,
    follow-ups on their days; through the Telegram and Slack sandboxes, on a scratch copy of the database (yours
    is only read); what each persona got at each step and the funnel."""
    from chatcast.demo_database import shown as shown_path
    from chatcast.demo_database import sqlite_file
    from chatcast.settings import redact_url

    settings = state(ctx).settings
    defs = required_definitions(ctx, segments)
    when = _start(start, settings)
    campaign = load(file, defs, shop_now(settings, when))  # located errors before anything is copied
    path = sqlite_file(settings.db_url)
    if settings.db_url.startswith("sqlite://") and (path is None or not path.is_file()):
        fail(f"no database at {settings.db_url}: import your shop first (chatcast import ...), or run chatcast demo")
    folder = keep if keep is not None else Path(tempfile.mkdtemp(prefix="chatcast-rehearsal-"))
    from chatcast.engine import build_writer
    from chatcast.rehearsal import funnel_by_step, rehearse
    from chatcast.rehearsal_outcome import Outcome, as_json
    from chatcast.rehearsal_view import print_rehearsal
    from storage import db, rehearsals
    from storage.scratch import scratch_copy

    writer = build_writer(settings)

    async def go() -> Outcome:
        folder.mkdir(parents=True, exist_ok=True)
        scratch = await scratch_copy(settings.db_url, folder / f"rehearsal-{campaign.id}.sqlite3")
        async with db.database(scratch.url):
            done = await rehearse(settings, file, campaign, defs, writer, start=when, days=days, seed=seed)
            funnel = await funnel_by_step(done.campaign_id)
            return Outcome(scratch, done, funnel, await rehearsals.shown(done.campaign_id), keep)

    try:
        if as_json_:
            outcome = run(ctx, go())
        else:
            with err.status(f"Rehearsing {campaign.id} over {days} days of simulated time ..."):
                outcome = run(ctx, go())
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    if as_json_:
        typer.echo(json.dumps(as_json(outcome, settings.zone), indent=2, ensure_ascii=False))
        return
    shown = shown_path(path) if path is not None else redact_url(settings.db_url)
    print_rehearsal(outcome, settings.zone, shown, shown_path)
