"""``chatcast sandbox telegram``: the command's options are this function's parameters (the CLI registers it
from :mod:`bots.registry`); it returns what to tell the person and the server to run."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer


def command(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8081,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    spec: Annotated[
        Path | None,
        typer.Option(help="Bot API spec JSON (telegram_bot_api_10.1.json) to validate every request against."),
    ] = None,
    token: Annotated[str, typer.Option(help="The bot token the sandbox accepts.")] = "123456:SANDBOX",
    rate_limits: Annotated[bool, typer.Option(help="Answer 429 past 30 messages/s overall or 1/s per chat.")] = False,
    fault_rate: Annotated[float, typer.Option(min=0, max=1, help="Share of calls that fail on purpose.")] = 0.0,
    fault: Annotated[str, typer.Option(help="What a fault is: 5xx, timeout, 429, disconnect or mixed.")] = "5xx",
) -> tuple[str, Coroutine[Any, Any, None]]:
    """Run a Telegram Bot API sandbox: point a bot at it with CHATCAST_TELEGRAM_API_URL."""
    if spec is not None and not spec.is_file():
        raise typer.BadParameter(f"{spec}: no such file", param_hint="--spec")
    if fault not in ("5xx", "timeout", "429", "disconnect", "mixed"):
        raise typer.BadParameter("choose 5xx, timeout, 429, disconnect or mixed", param_hint="--fault")
    from bots.telegram.sandbox.server import serve  # aiogram's models: loaded only to run it

    options = {"token": token, "rate_limits": rate_limits, "fault_rate": fault_rate, "fault": fault}
    checks = (
        f"Checking every request against the Bot API description in {spec}"
        if spec
        else "No --spec: checking requests against aiogram's models of the Bot API (method names, fields, types);"
        " --spec FILE checks them against the official description"
    )
    return checks, serve(port, spec, host=host, **options)
