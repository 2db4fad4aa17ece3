"""``chatcast campaign``: check campaign files and export their JSON Schema; the group's other commands (preview,
test-send, launch, pause, resume, cancel, status, rehearse) live in the private modules beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from chatcast.cli._checks import campaign_definitions, shop_now
from chatcast.cli._launch import cancel_command, launch_command, pause_command, resume_command
from chatcast.cli._preview import preview_command, test_send_command
from chatcast.cli._rehearse import rehearse_command
from chatcast.cli._status import status_command
from chatcast.console import err, fail, out, state

if TYPE_CHECKING:
    from campaigns.file.definition import Campaign

campaign_app = typer.Typer(
    help="Campaigns from YAML: validate, preview, test-send, launch.", no_args_is_help=True, rich_markup_mode="rich"
)
SegmentsOption = Annotated[
    Path | None,
    typer.Option(
        "--segments",
        "-s",
        help="Personas and segments to check against (default: CHATCAST_SEGMENTS_FILE if it exists, else those"
        " the last `segments refresh` kept in the database).",
    ),
]


def summary(campaign: Campaign) -> str:
    """One line about a campaign: its steps, variants and audience."""
    steps = 1 + len(campaign.follow_ups)
    parts = [f"{steps} step{'s' if steps > 1 else ''}"]
    if campaign.variants:
        parts.append(f"{len(campaign.variants)} variants")
    a = campaign.audience
    audience = _ids(personas=a.personas, segments=a.segments, join=" + ") or "every persona"
    excluded = _ids(personas=a.exclude_personas, segments=a.exclude_segments, join=" and ")
    audience += f", minus {excluded}" if excluded else ""
    audience += f", holdout {a.holdout:.0%}" if a.holdout else ""
    return f"{', '.join(parts)}, audience: {audience}"


def _ids(*, join: str, **groups: list[str]) -> str:
    return join.join(f"{kind} {', '.join(ids)}" for kind, ids in groups.items() if ids)


@campaign_app.command("validate")
def validate(
    ctx: typer.Context,
    files: Annotated[list[Path], typer.Argument(help="Campaign files (YAML) to check.")],
    segments: SegmentsOption = None,
) -> None:
    """Check campaign files: every mistake is printed with its file, line and field, and whether each can go out
    as written now (offer not expired, a schedule that can still send, every value its templates print set); for a
    good file, whose words (brief and template) each step says to each variant."""
    from bots.registry import names
    from campaigns.file.loader import CampaignError, load_campaign
    from campaigns.file.step_text import describe

    definitions = campaign_definitions(ctx, segments, required=False)
    shop = shop_now(state(ctx).settings)
    bad = 0
    for file in files:
        try:
            campaign = load_campaign(file, definitions=definitions, shop=shop, channels=names())
        except CampaignError as exc:
            bad += 1
            for problem in exc.problems:
                err.print(f"[bold red]error:[/] {escape(str(problem))}", soft_wrap=True)
            continue
        except OSError as exc:
            bad += 1
            err.print(f"[bold red]error:[/] {escape(str(file))}: cannot read it ({escape(exc.strerror or str(exc))})")
            continue
        out.print(f"[green]✓[/] {escape(str(file))}: {campaign.id} — {escape(summary(campaign))}", soft_wrap=True)
        for line in describe(campaign):  # whose words each step says, per variant
            out.print(f"  {escape(line)}", soft_wrap=True)
    if bad:
        if len(files) > 1:
            err.print(f"{bad} of {len(files)} files have mistakes")
        raise typer.Exit(1)


@campaign_app.command("schema")
def schema(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the schema to this file instead of printing it.")
    ] = None,
) -> None:
    """Print the JSON Schema of campaign files, for editors that autocomplete and check YAML."""
    from bots.registry import names
    from campaigns.file.definition import campaign_schema

    text = json.dumps(campaign_schema(names()), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
    out.print(f"wrote {escape(str(output))}")


campaign_app.command("preview")(preview_command)
campaign_app.command("test-send")(test_send_command)
campaign_app.command("launch")(launch_command)
campaign_app.command("pause")(pause_command)
campaign_app.command("resume")(resume_command)
campaign_app.command("cancel")(cancel_command)
campaign_app.command("status")(status_command)
campaign_app.command("rehearse")(rehearse_command)
