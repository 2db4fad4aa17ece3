"""``chatcast sandbox slack``: the command's options are this function's parameters (the CLI registers it from
:mod:`bots.registry`); it returns what to tell the person and the server to run."""

from __future__ import annotations

from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer


def command(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: any free port).")] = 8082,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    spec: Annotated[
        Path | None,
        typer.Option(help="Web API OpenAPI v2 spec (slack_web_openapi_v2.json) to validate every request against."),
    ] = None,
    signing_secret: Annotated[
        str, typer.Option(help="The secret requests to the app are signed with.")
    ] = "sandbox-signing-secret",
    app_url: Annotated[
        str | None, typer.Option(help="The app's request URL for events, interactivity and commands.")
    ] = None,
    rate_limits: Annotated[bool, typer.Option(help="Answer 429 past about 1 message/s per channel.")] = False,
    fault_rate: Annotated[float, typer.Option(min=0, max=1, help="Share of calls that fail on purpose.")] = 0.0,
    fault: Annotated[
        str,
        typer.Option(help="What a fault is: 5xx, timeout, disconnect (before the call) or lost (the answer, after)."),
    ] = "5xx",
) -> tuple[str, Coroutine[Any, Any, None]]:
    """Run a Slack Web API sandbox: point the app's AsyncWebClient at it with base_url."""
    if spec is not None and not spec.is_file():
        raise typer.BadParameter(f"{spec}: no such file", param_hint="--spec")
    if fault not in ("5xx", "timeout", "disconnect", "lost"):
        raise typer.BadParameter("choose 5xx, timeout, disconnect or lost", param_hint="--fault")
    from bots.slack.sandbox.server import serve_slack  # slack_sdk and aiohttp: loaded only to run it

    options = {
        "signing_secret": signing_secret,
        "app_url": app_url,
        "rate_limits": rate_limits,
        "fault_rate": fault_rate,
        "fault": fault,
    }
    checks = (
        f"Checking every call against the Web API description in {spec} and Block Kit's limits"
        if spec
        else "No --spec: checking the methods the sandbox carries out (their parameters) and Block Kit's limits;"
        " --spec FILE checks every Web API method against Slack's OpenAPI description"
    )
    return checks, serve_slack(port, spec, host=host, **options)
