"""The ``chatcast`` command line: the root, its global options and the command groups, one module each.

Each group imports its heavy parts (the engine, the ORM, the channel SDKs, the OpenAI client) inside the commands
that need them, so ``chatcast --help`` and ``--version`` start in a blink; ``test_cli_startup`` holds them to it.
"""

from __future__ import annotations

import sys

import typer

from chatcast import __version__
from chatcast.cli.campaign import campaign_app
from chatcast.cli.config import config_app
from chatcast.cli.customer import customer_app
from chatcast.cli.db import db_app
from chatcast.cli.demo import demo_command
from chatcast.cli.imports import import_app
from chatcast.cli.products import products_app
from chatcast.cli.report import report_app
from chatcast.cli.sandbox import sandbox_app
from chatcast.cli.segments import segments_app
from chatcast.cli.sendtime import sendtime_app
from chatcast.cli.serve import serve_command
from chatcast.console import State, err, out

app = typer.Typer(
    name="chatcast",  # its help is the root command's docstring
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(segments_app, name="segments")
app.add_typer(sendtime_app, name="sendtime")
app.add_typer(campaign_app, name="campaign")
app.add_typer(report_app, name="report")
app.add_typer(customer_app, name="customer")
app.add_typer(products_app, name="products")
app.add_typer(sandbox_app, name="sandbox")
app.command("demo")(demo_command)
app.command("serve")(serve_command)


def _version(value: bool) -> None:
    if value:
        out.print(f"chatcast {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs on errors."),
    env_file: str = typer.Option(".env", "--env-file", help="Settings file read after the environment."),
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Chatcast: messaging marketing for shops that sell through Telegram and Slack."""
    ctx.obj = State(debug=debug, env_file=env_file)


def main() -> None:
    """Console-script entry point: the last net under every command, so no traceback reaches a user."""
    try:
        app(prog_name="chatcast")
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        err.print(f"[bold red]error:[/] unexpected {type(exc).__name__} (run with --debug for the traceback)")
        sys.exit(1)
