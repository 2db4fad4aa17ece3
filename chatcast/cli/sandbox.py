"""``chatcast sandbox``: the loopback platform servers, standalone, for development, demos and benchmarks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from chatcast.console import out, run

sandbox_app = typer.Typer(help="Loopback Telegram and Slack API servers for development and tests.")


@sandbox_app.command("telegram")
def telegram(
    ctx: typer.Context,
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
) -> None:
    """Run a Telegram Bot API sandbox: point a bot at it with CHATCAST_TELEGRAM_API_URL."""
    from bots.telegram.sandbox.server import serve

    if spec is not None and not spec.is_file():
        raise typer.BadParameter(f"{spec}: no such file", param_hint="--spec")
    if fault not in ("5xx", "timeout", "429", "disconnect", "mixed"):
        raise typer.BadParameter("choose 5xx, timeout, 429, disconnect or mixed", param_hint="--fault")
    options = {"token": token, "rate_limits": rate_limits, "fault_rate": fault_rate, "fault": fault}
    checks = (
        f"Checking every request against the Bot API description in {spec}"
        if spec
        else "No --spec: checking requests against aiogram's models of the Bot API (method names, fields, types);"
        " --spec FILE checks them against the official description"
    )
    out.print(escape(checks), soft_wrap=True)
    run(ctx, serve(port, spec, host=host, **options))


@sandbox_app.command("slack")
def slack(
    ctx: typer.Context,
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
    fault: Annotated[str, typer.Option(help="What a fault is: 5xx, timeout or disconnect.")] = "5xx",
) -> None:
    """Run a Slack Web API sandbox: point the app's AsyncWebClient at it with base_url."""
    from bots.slack.sandbox.server import serve_slack

    if spec is not None and not spec.is_file():
        raise typer.BadParameter(f"{spec}: no such file", param_hint="--spec")
    if fault not in ("5xx", "timeout", "disconnect"):
        raise typer.BadParameter("choose 5xx, timeout or disconnect", param_hint="--fault")
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
    out.print(escape(checks), soft_wrap=True)
    run(ctx, serve_slack(port, spec, host=host, **options))
