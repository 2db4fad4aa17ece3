"""``chatcast segments``: validate, refresh, show and explain personas and segments."""

from __future__ import annotations

from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from chatcast.console import err, fail, out, run, state

if TYPE_CHECKING:
    from rich.tree import Tree

    from segments import audience, explain, refresh
    from segments.definitions import Definitions
    from segments.explain import Node

segments_app = typer.Typer(
    help="Personas and segments from YAML: validate, refresh, show and explain.", no_args_is_help=True
)
FileOption = Annotated[
    Path | None, typer.Option("--file", "-f", help="The segments file (default: CHATCAST_SEGMENTS_FILE).")
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Evaluate time windows as of this date or time (ISO, shop timezone); default now."),
]
STEPS = {"changes": "finding changes", "features": "features", "rfm": "RFM scores", "personas": "personas"}


def definitions(ctx: typer.Context, path: Path | None) -> Definitions:
    """Load the segments file, or fail with one line per mistake."""
    from bots.registry import names
    from segments.definitions import DefinitionsError, load

    path = path or state(ctx).settings.segments_file
    if not path.is_file():
        fail(
            f"no segments file {path}: pass --file or set CHATCAST_SEGMENTS_FILE"
            " (examples/shop/segments.yaml is a full example)"
        )
    try:
        return load(path, names())
    except DefinitionsError as exc:
        for problem in exc.problems:
            err.print(f"[bold red]error:[/] {escape(str(problem))}")
        raise typer.Exit(1) from None


def as_of_moment(value: str | None, tz: str) -> datetime:
    """``--as-of`` as an aware moment: a date means its end of day (windows include the whole day)."""
    if value is None:
        return datetime.now(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--as-of: {value!r} is not an ISO date or time (e.g. 2026-11-01)")
    if len(value) <= 10:
        parsed = datetime.combine(parsed.date(), time.max)
    from storage.timezones import parse_timezone

    return parsed if parsed.tzinfo else parsed.replace(tzinfo=parse_timezone(tz))


@segments_app.command("validate")
def validate(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(help="The file to check (default: CHATCAST_SEGMENTS_FILE).")] = None,
) -> None:
    """Check a segments file: every mistake is printed with its file, line and rule."""
    defs = definitions(ctx, file)
    out.print(
        f"{defs.file}: ok - {len(defs.personas)} personas ({', '.join(defs.persona_ids())}),"
        f" {len(defs.segments)} segments"
    )


@segments_app.command("refresh")
def refresh_command(
    ctx: typer.Context,
    file: FileOption = None,
    incremental: Annotated[
        bool, typer.Option("--incremental", help="Only customers touched by new orders, events or sign-ups.")
    ] = False,
    as_of: AsOfOption = None,
) -> None:
    """Recompute customer features and RFM scores, and assign every customer a persona."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from segments import audience, refresh
    from storage import db

    settings = state(ctx).settings
    defs = definitions(ctx, file)
    moment = as_of_moment(as_of, settings.timezone)

    async def go() -> refresh.RefreshReport:
        async with db.database(settings.db_url):
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=err) as bar:
                task = bar.add_task("refreshing segments", total=len(STEPS))

                def step(name: str) -> None:
                    bar.update(task, advance=1, description=f"refreshing segments: {STEPS[name]} done")

                report = await refresh.refresh(
                    defs, dialect=db.dialect(), as_of=moment, incremental=incremental, on_step=step
                )
            total, counts = await audience.counts(defs, db.dialect(), moment)
        print_counts(total, [c for c in counts if c.kind == "persona"], "Personas")
        return report

    report = run(ctx, go())
    kind = "incremental refresh" if report.incremental else "full refresh"
    note = " (no earlier refresh: did a full one)" if incremental and not report.incremental else ""
    out.print(
        f"{kind}{note}: {report.customers:,} customers assigned, {report.changed:,} changed persona,"
        f" in {sum(report.seconds.values()):.1f}s"
    )


def print_counts(total: int, counts: list[audience.Count], title: str) -> None:
    """Personas and segments with their counts and share of all customers."""
    table = Table("kind", "id", "customers", "share", "description", title=title, title_justify="left")
    for c in counts:
        share = f"{100 * c.customers / total:.1f}%" if total else "-"
        table.add_row(c.kind, c.id, f"{c.customers:,}", share, c.description)
    out.print(table)
    out.print(f"{total:,} customers in all")


@segments_app.command("show")
def show(ctx: typer.Context, file: FileOption = None, as_of: AsOfOption = None) -> None:
    """Personas (as last assigned) and segments (evaluated now), with counts and share."""
    from segments import audience
    from storage import db

    settings = state(ctx).settings
    defs = definitions(ctx, file)
    moment = as_of_moment(as_of, settings.timezone)

    async def go() -> tuple[int, list[audience.Count]]:
        async with db.database(settings.db_url):
            return await audience.counts(defs, db.dialect(), moment)

    total, counts = run(ctx, go())
    print_counts(total, counts, "Personas and segments")


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "-"
    return "-" if value is None else str(value)


def _tree(parent: Tree, node: Node) -> None:
    mark = "[green]yes[/]" if node.holds else "[red]no[/]"
    seen = f"  [dim](value: {escape(_shown(node.value))})[/]" if node.value is not None or not node.children else ""
    branch = parent.add(f"{mark} {escape(node.label)}{seen}")
    for child in node.children:
        _tree(branch, child)


@segments_app.command("explain")
def explain_command(
    ctx: typer.Context,
    customer: Annotated[str, typer.Argument(help="The customer's external id (as imported).")],
    file: FileOption = None,
    as_of: AsOfOption = None,
) -> None:
    """Which persona and segment rules hold for one customer, and why: every condition with its value."""
    from rich.tree import Tree

    from segments import explain
    from storage import db

    settings = state(ctx).settings
    defs = definitions(ctx, file)
    moment = as_of_moment(as_of, settings.timezone)

    async def go() -> explain.Explanation:
        async with db.database(settings.db_url):
            return await explain.explain(defs, customer, db.dialect(), moment)

    result = run(ctx, go())
    facts = Table("customer", "", show_header=False, title=f"Customer {customer}", title_justify="left")
    for key, value in {**result.profile, **result.features}.items():
        facts.add_row(key, escape(_shown(value)))
    out.print(facts)
    stored = result.profile.get("persona")
    out.print(
        f"persona by these rules now: [bold]{result.persona_now}[/] (stored at the last refresh: {stored or '-'})"
    )
    tree = Tree("personas, in order (the first that holds wins)")
    for pid, node in result.personas:
        if node is None:
            tree.add(f"[green]yes[/] {pid}: the catch-all")
        else:
            branch = tree.add(f"{'[green]yes[/]' if node.holds else '[red]no[/]'} {pid}")
            _tree(branch, node)
    out.print(tree)
    members = Tree("segments")
    for sid, node in result.segments:
        branch = members.add(f"{'[green]in[/]' if node.holds else '[red]out[/]'} {sid}")
        _tree(branch, node)
    out.print(members)
