"""``chatcast demo``: the main job on the embedded defaults (a fresh SQLite file, the sample shop)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chatcast.cli_data import import_with_progress, print_report
from chatcast.cli_segments import print_counts
from chatcast.console import UserError, out, run, state
from chatcast.demo_campaign import DemoRun, run_demo_campaign
from chatcast.engine import build_assistant, build_writer
from segments import audience
from segments.definitions import load
from segments.refresh import refresh
from storage import db, stats
from storage.importers import DEFAULT_BATCH
from storage.sql import fetch

SAMPLE_SHOP = Path(__file__).resolve().parent.parent / "examples" / "shop"
DEMO_CAMPAIGN = SAMPLE_SHOP / "campaigns" / "spring-sale.yaml"
IMPORT_ORDER = (("products", "products.csv"), ("customers", "customers.csv"), ("orders", "orders.csv"))


async def load_shop(
    url: str, shop: Path, tz: str
) -> tuple[stats.ShopSummary, tuple[int, list[audience.Count]] | None, datetime | None]:
    """Create the database at ``url``, import the shop's CSV files, assign personas; summarise it all."""
    missing = [name for _, name in IMPORT_ORDER if not (shop / name).is_file()]
    if missing:
        raise UserError(f"{shop}: not a shop folder (missing {', '.join(missing)})")
    async with db.database(url):
        for kind, name in IMPORT_ORDER:
            report = await import_with_progress(
                kind, shop / name, fmt=None, strict=False, batch_size=DEFAULT_BATCH, tz=tz
            )
            print_report(report)
        summary = await stats.shop_summary()
        if not (shop / "segments.yaml").is_file():
            return summary, None, None
        defs = load(shop / "segments.yaml")
        # the sample shop's history ends at its last order: evaluate "days since" and windows from there, so
        # the demo shows the same personas whenever it runs
        rows = await fetch('SELECT MAX(ordered_at) FROM "order"')
        last = rows[0][0]
        as_of = datetime.fromisoformat(last) if isinstance(last, str) else last or datetime.now(UTC)
        await refresh(defs, dialect=db.dialect(), as_of=as_of)
        return summary, await audience.counts(defs, db.dialect(), as_of), as_of


def print_summary(summary: stats.ShopSummary) -> None:
    """The loaded shop, as a table."""
    table = Table("what", "how many", title="The shop Chatcast loaded", title_justify="left")
    table.add_row("customers", f"{summary.customers:,}")
    table.add_row("  opted in to marketing", f"{summary.opted_in:,}")
    for channel, n in summary.identities.items():
        table.add_row(f"  reachable on {channel}", f"{n:,}")
    table.add_row("  languages", ", ".join(f"{k} {v:,}" for k, v in summary.languages.items()))
    table.add_row("products", f"{summary.products:,} in {summary.categories} categories")
    table.add_row("orders", f"{summary.orders:,} ({summary.returns:,} returns)")
    table.add_row("revenue (returns excluded)", f"{summary.revenue:,.2f}")
    table.add_row("order dates", f"{summary.first_order} .. {summary.last_order}")
    out.print(table)


def demo_command(
    ctx: typer.Context,
    shop: Annotated[Path, typer.Option(help="A folder with products.csv, customers.csv, orders.csv.")] = SAMPLE_SHOP,
    database: Annotated[
        Path | None, typer.Option(help="SQLite file to create afresh (default: <data dir>/demo.sqlite3).")
    ] = None,
    campaign: Annotated[Path, typer.Option(help="The campaign to launch through the sandboxes.")] = DEMO_CAMPAIGN,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Launch the campaign (or only load the shop).")] = True,
) -> None:
    """Run Chatcast on its defaults: the sample shop in a fresh SQLite file, a campaign through both sandboxes."""
    settings = state(ctx).settings
    path = database or settings.data_dir / "demo.sqlite3"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    url = f"sqlite://{path.as_posix()}"
    out.print(f"Creating {path} and importing the sample shop from {shop} ...")
    summary, counts, as_of = run(ctx, load_shop(url, shop, settings.timezone))
    print_summary(summary)
    if counts is not None and as_of is not None:
        total, rows = counts
        print_counts(total, rows, f"Personas and segments (as of the shop's last order, {as_of:%Y-%m-%d})")
        out.print(
            f"Explain one customer: CHATCAST_DATABASE_URL={url} chatcast segments explain C000001"
            f" --file {shop / 'segments.yaml'} --as-of {as_of:%Y-%m-%d}"
        )
    if send and as_of is not None and (shop / "segments.yaml").is_file():
        run_campaign(ctx, url, shop, campaign, as_of)
    out.print(f"Done. Explore it with: CHATCAST_DATABASE_URL={url} chatcast campaign status {DEMO_CAMPAIGN.stem}")


def run_campaign(ctx: typer.Context, url: str, shop: Path, campaign: Path, as_of: datetime) -> None:
    """Launch the demo campaign through both sandboxes and print its funnel."""
    settings = state(ctx).settings
    defs = load(shop / "segments.yaml")
    writer = build_writer(settings)
    mode = f"the model {settings.openai_model}" if settings.openai_api_key else "the template writer"
    out.print(f"Launching {campaign.name} through the Telegram and Slack sandboxes, written by {mode} ...")

    knowledge = shop / "knowledge.yaml"
    shop_settings = settings.model_copy(update={"knowledge_file": knowledge}) if knowledge.is_file() else settings

    async def go() -> DemoRun:
        async with db.database(url):
            assistant = build_assistant(shop_settings, {}, None)
            return await run_demo_campaign(
                campaign,
                defs,
                writer,
                as_of=as_of,
                shop_name=settings.shop_name,
                shop_url=settings.shop_url,
                assistant=assistant,
            )

    result = run(ctx, go())
    out.print(
        f"{result.opted_in} customers opted in through the shop's links; {result.blocked} had blocked the bot;"
        f" readers pressed {result.clicked} buttons."
    )
    table = Table("stage", "customers", title=f"Funnel of {result.campaign}", title_justify="left")
    order = ["targeted", "holdout", "sent", "failed", "unknown", "clicked", "opted_out"]
    for key in order + sorted(k for k in result.funnel if k not in order):
        if key in result.funnel:
            table.add_row(key, f"{result.funnel[key]:,}")
    out.print(table)
    if result.chat:
        kind = f"the model {settings.openai_model}" if settings.openai_api_key else "offline"
        out.print(f"A customer chats with the shop assistant ({kind}) on Telegram:")
        for question, answer in result.chat:
            out.print(f"  [bold]customer:[/] {escape(question)}")
            out.print(f"  [bold]shop:[/] {escape(answer)}".replace("\n", "\n        "))
