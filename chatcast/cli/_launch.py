"""``chatcast campaign launch | pause | resume | cancel``: the engine's commands (status is ``_status``'s, preview
and test-send ``_preview``'s); the campaign file loaded with its mistakes located, for them and for rehearse."""

from __future__ import annotations

import os
import socket
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from chatcast.cli._checks import required_definitions as definitions  # --segments, the settings', the database's
from chatcast.cli._checks import shop_now
from chatcast.console import UserError, err, fail, out, run, state

if TYPE_CHECKING:
    from campaigns.audience.planner import PlanResult
    from campaigns.delivery.dispatcher import DispatchStats
    from campaigns.file.definition import Campaign
    from campaigns.timing.readiness import Shop
    from segments.definitions import Definitions

SegmentsOption = Annotated[
    Path | None,
    typer.Option(
        "--segments",
        help="The segments file (default: CHATCAST_SEGMENTS_FILE if it exists, else the definitions the last"
        " `segments refresh` kept in the database).",
    ),
]


def load(path: Path, defs: Definitions | None, shop: Shop | None = None) -> Campaign:
    """The campaign file, checked (with a ``shop``, also whether it can go out as written now); every mistake
    printed with its file, line and field."""
    from bots.registry import names
    from campaigns.file.loader import CampaignError, load_campaign

    try:
        return load_campaign(path, definitions=defs, shop=shop, channels=names())
    except CampaignError as exc:
        for problem in exc.problems:
            err.print(f"[bold red]error:[/] {escape(str(problem))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")


def launch_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The campaign file.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan and write, then stop before sending.")] = False,
    segments: SegmentsOption = None,
) -> None:
    """Plan the audience, write every message (with a progress bar), then send what is due now."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from campaigns import launch as engine
    from chatcast.engine import (
        build_writer,
        caps,
        claim_heartbeat,
        open_channels,
        rates,
        stop_on_signals,
        suppression,
        tuned_gc,
        unhappy,
    )
    from chatcast.links import tracked_links
    from storage import campaigns as campaign_rows
    from storage import db

    settings = state(ctx).settings
    defs = definitions(ctx, segments)
    checked = load(file, defs, shop_now(settings))  # located errors before anything touches the database
    writer = build_writer(settings)

    async def go() -> tuple[engine.Prepared, DispatchStats | None, int]:
        sends_now = not dry_run and not (checked.schedule and checked.schedule.cron)
        async with db.database(settings.db_url), AsyncExitStack() as stack:
            channels = await stack.enter_async_context(open_channels(settings)) if sends_now else {}
            if sends_now and not channels:  # said before anything is registered or planned
                raise UserError(
                    f"no channel is configured ({', '.join(checked.channels)}): set their tokens, or try"
                    " `chatcast demo`"
                )
            with Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
            ) as bar:
                task = bar.add_task("writing messages", total=None)

                def planned(result: PlanResult) -> None:
                    bar.update(task, total=result.planned)

                prepared = await engine.prepare(
                    file,
                    defs,
                    writer,
                    as_of=datetime.now(UTC),
                    shop_name=settings.shop_name,
                    shop_url=settings.shop_url,
                    progress=lambda n: bar.update(task, advance=n),
                    on_planned=planned,
                    shop_zone=settings.zone,
                    quiet=settings.quiet_span,
                    unhappy=unhappy(settings),
                )
            if dry_run:
                return prepared, None, 0
            if prepared.recurring:
                if prepared.next_run is None:
                    raise UserError(f"{prepared.campaign.id}: its schedule has no run left before end_at")
                await engine.set_status(prepared.campaign_id, "running")
                return prepared, None, 0
            # this process's own claims: a second launch on the host never takes them for a dead one's
            worker = f"cli-{socket.gethostname()}-{os.getpid()}"
            with tuned_gc(), stop_on_signals() as stop:
                stats = await engine.send(
                    prepared.campaign_id,
                    channels,
                    worker=worker,
                    rates=rates(settings),
                    send_rate=prepared.campaign.send_rate,
                    caps=caps(settings),
                    suppression=suppression(settings),
                    shared_limits=settings.redis_url,  # the one limit every sender draws from
                    stop=stop,
                    heartbeat=claim_heartbeat(settings),
                    links=await tracked_links(settings),
                )
            counts = await campaign_rows.counts(prepared.campaign_id)
            return prepared, stats, sum(n for (_, status), n in counts.items() if status == "queued")

    prepared, stats, waiting = run(ctx, go())
    if prepared.recurring:
        schedule = prepared.campaign.schedule
        from storage.timezones import parse_timezone

        zone = parse_timezone(schedule.timezone) if schedule and schedule.timezone else settings.zone
        when = f"{prepared.next_run.astimezone(zone):%Y-%m-%d %H:%M} {zone.key}" if prepared.next_run else "none left"
        state_word = "registered (dry run: not started)" if dry_run else "running"
        cron = prepared.campaign.schedule.cron if prepared.campaign.schedule else ""
        out.print(
            f"{prepared.campaign.id}: recurring ({cron}), {state_word}; first run {when}."
            " `chatcast serve` plans, writes and sends each run at its time."
        )
        return
    p = prepared.plan
    out.print(
        f"{prepared.campaign.id}: {p.planned:,} planned, {p.holdout:,} held out, {p.no_consent:,} without consent,"
        f" {p.unreachable:,} unreachable, {p.suppressed:,} suppressed (unhappy);"
        f" {prepared.write.written:,} messages written"
        f" ({', '.join(f'{k} {v:,}' for k, v in sorted(prepared.write.by_source.items())) or 'none new'})"
    )
    if prepared.due.after_end:
        out.print(
            f"{prepared.due.after_end:,} skipped: in their own time zone the schedule's first moment for them comes"
            " after end_at (note after_end in the report)"
        )
    if stats is None:
        out.print(
            "dry run: nothing sent. Preview with `chatcast campaign preview`, send with `chatcast campaign launch`."
        )
    else:
        out.print(f"sent {stats.sent:,}, failed {stats.failed:,}, skipped {stats.skipped:,}, unknown {stats.unknown:,}")
        if waiting:
            out.print(
                f"{waiting:,} messages wait for their time (the schedule, a frequency cap, a retry) or for a"
                " channel that is not configured: `chatcast serve` sends them when they are due (or `chatcast serve"
                " --once`, run from cron)."
            )
    steps = len(prepared.campaign.follow_ups)
    if steps and not dry_run:
        out.print(
            f"{steps} follow-up{'s' if steps > 1 else ''} ahead: `chatcast serve` (or `serve --once`) plans and sends"
            f" each as its customers' windows close; `chatcast campaign status {prepared.campaign.id}` says when."
        )


def _move(ctx: typer.Context, key: str, status: str) -> None:
    from campaigns import launch as engine
    from storage import campaigns as campaign_rows
    from storage import db

    settings = state(ctx).settings

    async def go() -> str:
        async with db.database(settings.db_url):
            row = await campaign_rows.by_key(key)
            if row is None:
                raise UserError(f"no campaign {key!r} (launch it first)")
            try:
                return await engine.set_status(row.id, status)
            except engine.CampaignStateError as exc:
                raise UserError(f"{key}: {exc}") from None

    out.print(f"{key}: {run(ctx, go())}")


def pause_command(ctx: typer.Context, campaign: Annotated[str, typer.Argument(help="The campaign id.")]) -> None:
    """Stop sending (rows wait; resume picks them up)."""
    _move(ctx, campaign, "paused")


def resume_command(ctx: typer.Context, campaign: Annotated[str, typer.Argument(help="The campaign id.")]) -> None:
    """Send again what a pause held back."""
    _move(ctx, campaign, "running")


def cancel_command(ctx: typer.Context, campaign: Annotated[str, typer.Argument(help="The campaign id.")]) -> None:
    """Stop for good: every row not yet sent is skipped."""
    _move(ctx, campaign, "cancelled")
