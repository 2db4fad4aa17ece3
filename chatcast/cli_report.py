"""``chatcast report``: what customers said (feedback: sentiment and themes per product and per campaign)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from assistant.feedback import FeedbackGroup, report
from chatcast.console import out, run, state
from storage import db

report_app = typer.Typer(help="Reports: what customers said (feedback); funnels and A/B arrive with analytics.",
                         no_args_is_help=True)  # fmt: skip


@report_app.command("feedback")
def feedback(
    ctx: typer.Context,
    days: Annotated[int | None, typer.Option(min=1, help="Only the last N days (default: all).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Feedback per product and per campaign: how much, how it feels, what people praise and complain about."""
    settings = state(ctx).settings
    since = datetime.now(UTC) - timedelta(days=days) if days else None

    async def go() -> dict[str, list[FeedbackGroup]]:
        async with db.database(settings.db_url):
            return await report(since=since)

    groups = run(ctx, go())
    if as_json:
        out.print_json(json.dumps({k: [asdict(g) for g in v] for k, v in groups.items()}))
        return
    if not any(groups.values()):
        out.print("No feedback yet: it comes from answers to the feedback question after an order, and from replies"
                  " to campaign messages.")  # fmt: skip
        return
    for kind, title in (("products", "product (SKU)"), ("campaigns", "campaign")):
        if not groups[kind]:
            continue
        table = Table(title=f"Feedback per {title}")
        for column in (title, "messages", "mean sentiment", "positive", "negative", "themes (praise / complaints)"):
            table.add_column(column, justify="right" if column in ("messages", "positive", "negative") else "left")
        for group in groups[kind]:
            themes = "; ".join(f"{t.theme} {t.praise}/{t.complaints}" for t in group.themes[:4]) or "-"
            table.add_row(escape(group.key), str(group.count), f"{group.mean_sentiment:+.2f}", str(group.positive),
                          str(group.negative), escape(themes))  # fmt: skip
        out.print(table)
        for group in groups[kind][:5]:
            for theme in group.themes[:2]:
                for quote in theme.examples:
                    out.print(f"  {escape(group.key)} · {escape(theme.theme)}: “{escape(quote)}”")
