"""``chatcast sendtime``: learn every customer's best hour of the week to hear from the shop."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from chatcast.cli.segments import AsOfOption, FileOption, as_of_moment, definitions
from chatcast.console import out, run, state

if TYPE_CHECKING:
    from segments.sendtime_fit import FitReport

sendtime_app = typer.Typer(help="Best send time per customer (send_time: best in a campaign).", no_args_is_help=True)


@sendtime_app.command("fit")
def fit(ctx: typer.Context, file: FileOption = None, as_of: AsOfOption = None) -> None:
    """Learn each customer's best hour of the week from their reads, clicks and replies (last 365 days), with
    their persona's as the prior; run it after ``segments refresh`` (personas) and before launching."""
    from segments.sendtime_fit import fit_send_times
    from storage import db

    settings = state(ctx).settings
    personas = [p.id for p in definitions(ctx, file).personas]
    moment = as_of_moment(as_of, settings.timezone)

    async def go() -> FitReport:
        async with db.database(settings.db_url):
            return await fit_send_times(personas, now=moment, shop_zone=settings.zone)

    report = run(ctx, go())
    sources = ", ".join(f"{n:,} from {source}" for source, n in sorted(report.by_source.items())) or "none"
    out.print(
        f"best send times fitted for {report.customers:,} customers from {report.events:,} engagement events"
        f" ({sources}) in {sum(report.seconds.values()):.1f}s"
    )
