"""The ``chatcast`` command line: the root, its global options and the command groups."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Annotated

import typer

from chatcast import __version__
from chatcast.cli_campaign import campaign_app
from chatcast.cli_customer import customer_app
from chatcast.cli_data import db_app, import_app
from chatcast.cli_engine import register as register_engine_commands
from chatcast.cli_preview import register as register_preview_commands
from chatcast.cli_products import products_app
from chatcast.cli_rehearse import rehearse_command
from chatcast.cli_report import report_app
from chatcast.cli_reviews import register as register_review_commands
from chatcast.cli_sandbox import sandbox_app
from chatcast.cli_segments import segments_app
from chatcast.cli_sendtime import sendtime_app
from chatcast.console import State, err, fail, out, run, state
from chatcast.demo import demo_command

app = typer.Typer(
    name="chatcast",
    help="Chatcast: messaging marketing for shops that sell through Telegram and Slack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)
config_app = typer.Typer(help="Show the configuration Chatcast reads from the environment and .env.")

app.add_typer(import_app, name="import")
app.add_typer(db_app, name="db")
app.add_typer(config_app, name="config")
app.add_typer(segments_app, name="segments")
app.add_typer(sendtime_app, name="sendtime")
register_preview_commands(campaign_app)
register_engine_commands(campaign_app)
campaign_app.command("rehearse")(rehearse_command)
app.add_typer(campaign_app, name="campaign")
register_review_commands(import_app, report_app)
app.add_typer(report_app, name="report")
app.add_typer(customer_app, name="customer")
app.add_typer(products_app, name="products")
app.add_typer(sandbox_app, name="sandbox")
app.command("demo")(demo_command)


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


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print every setting, with secrets masked and passwords removed from URLs."""
    from rich.table import Table

    table = Table("setting", "value", "environment variable")
    for name, value in state(ctx).settings.public_view().items():
        table.add_row(name, value, f"CHATCAST_{name.upper()}")
    out.print(table)


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")] = 8080,
    worker: Annotated[
        str | None, typer.Option(help="This process's claim name (default: serve-HOSTNAME); unique per process.")
    ] = None,
    public_url: Annotated[
        str | None, typer.Option(help="The public https URL of this server: Telegram then posts to its webhook.")
    ] = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log one JSON object per line.")] = False,
    role: Annotated[
        str, typer.Option(help="all: bots, hooks and sending; worker: sending only (run several on PostgreSQL).")
    ] = "all",
    once: Annotated[
        bool,
        typer.Option(
            "--once",
            help="Burst mode: run the scheduler's jobs once now, send everything due, print what it did and exit"
            " (for cron; receives nothing).",
        ),
    ] = False,
) -> None:
    """Run the bots, the dispatcher, the scheduler and the HTTP endpoints (/health, webhooks) until SIGTERM."""
    from chatcast.logs import configure_logging
    from chatcast.serve import ROLES, run_service

    if role not in ROLES:
        fail(f"--role: {role!r} is not a role (all or worker)", code=2)
    st = state(ctx)
    settings = st.settings
    if once:
        _once(ctx, worker, role, log_json)
        return
    configure_logging(settings.secret_values(), level=logging.DEBUG if st.debug else logging.INFO, json_lines=log_json)

    async def go() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await run_service(settings, host=host, port=port, stop=stop, worker=worker, public_url=public_url, role=role)

    run(ctx, go())


def _once(ctx: typer.Context, worker: str | None, role: str, log_json: bool) -> None:
    """``serve --once``: the jobs once, the sends due, a summary; warnings and errors only in the log."""
    from chatcast.logs import configure_logging
    from chatcast.once import run_once, summary

    st = state(ctx)
    level = logging.DEBUG if st.debug else logging.WARNING
    st.redactor = configure_logging(st.settings.secret_values(), level=level, json_lines=log_json)
    report = run(ctx, run_once(st.settings, worker=worker, role=role))
    for line in summary(report):
        out.print(line, soft_wrap=True, markup=False)


def main() -> None:
    """Console-script entry point: the last net under every command, so no traceback reaches a user."""
    try:
        app(prog_name="chatcast")
    except Exception as exc:
        if "--debug" in sys.argv:
            raise
        err.print(f"[bold red]error:[/] unexpected {type(exc).__name__} (run with --debug for the traceback)")
        sys.exit(1)
