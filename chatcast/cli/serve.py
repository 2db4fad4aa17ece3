"""``chatcast serve``: the long-running process (bots, dispatcher, scheduler, HTTP), or one burst of it for cron."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from chatcast.console import fail, out, run, state


def serve_command(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on (0: any free one).")] = 8080,
    worker: Annotated[
        str | None, typer.Option(help="This process's claim name (default: serve-HOSTNAME); unique per process.")
    ] = None,
    public_url: Annotated[
        str | None,
        typer.Option(help="The public https URL of this server: a channel that would be polled posts to its webhook."),
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
        from chatcast.engine import stop_on_signals

        with stop_on_signals() as stop:
            await run_service(
                settings, host=host, port=port, stop=stop, worker=worker, public_url=public_url, role=role
            )

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
