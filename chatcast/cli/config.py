"""``chatcast config``: the settings Chatcast reads, as it reads them."""

from __future__ import annotations

import typer

from chatcast.console import out, state

config_app = typer.Typer(help="Show the configuration Chatcast reads from the environment and .env.")


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print every setting, with secrets masked and passwords removed from URLs."""
    from rich.table import Table

    table = Table("setting", "value", "environment variable")
    for name, value in state(ctx).settings.public_view().items():
        table.add_row(name, value, f"CHATCAST_{name.upper()}")
    out.print(table)
