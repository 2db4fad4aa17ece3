"""``chatcast db``: create and upgrade the schema; count what the database holds."""

from __future__ import annotations

import typer

from chatcast.console import out, run, state

db_app = typer.Typer(help="Create and upgrade the database schema; see what it holds.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(ctx: typer.Context) -> None:
    """Create the database if needed and apply every pending migration."""
    from chatcast.settings import redact_url
    from storage import db

    url = state(ctx).settings.db_url
    run(ctx, db.upgrade(url))
    out.print(f"database is up to date: {redact_url(url)}")


@db_app.command("status")
def db_status(ctx: typer.Context) -> None:
    """Show the database URL and the number of rows in each table."""
    from rich.table import Table

    from chatcast.settings import redact_url
    from storage import db, stats

    url = state(ctx).settings.db_url

    async def counts() -> dict[str, int]:
        async with db.database(url):
            return await stats.table_counts()

    table = Table("table", "rows", title=redact_url(url))
    for name, n in run(ctx, counts()).items():
        table.add_row(name, f"{n:,}")
    out.print(table)
