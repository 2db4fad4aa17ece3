"""``chatcast demo``: the main job on the embedded defaults (the sample shop in the default database, when free)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chatcast.cli.imports import DEFAULT_BATCH, import_with_progress, print_report
from chatcast.cli.segments import print_counts
from chatcast.console import UserError, fail, out, run, state

if TYPE_CHECKING:
    from chatcast.demo_campaign import DemoRun
    from chatcast.demo_database import Target
    from segments import audience
    from storage import stats

SAMPLE_SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
DEMO_CAMPAIGN = SAMPLE_SHOP / "campaigns" / "spring-sale.yaml"
IMPORT_ORDER = (("products", "products.csv"), ("customers", "customers.csv"), ("orders", "orders.csv"))


@dataclass
class Loaded:
    """The shop the demo loaded: its summary, persona and segment counts and their moment, a customer to explain."""

    summary: stats.ShopSummary
    counts: tuple[int, list[audience.Count]] | None = None
    as_of: datetime | None = None
    customer: str | None = None


async def load_shop(url: str, shop: Path, tz: str) -> Loaded:
    """Create the database at ``url``, import the shop's CSV files, assign personas; summarise it all."""
    from bots.registry import names
    from chatcast.demo_database import mark
    from segments import audience
    from segments.definitions import load
    from segments.refresh import refresh
    from storage import db, demo_mark, stats
    from storage.sql import fetch

    missing = [name for _, name in IMPORT_ORDER if not (shop / name).is_file()]
    if missing:
        raise UserError(f"{shop}: not a shop folder (missing {', '.join(missing)})")
    async with db.database(url):
        await demo_mark.put(mark(shop), finished=False)  # the demo's, before anything: a broken run can be redone
        for kind, name in IMPORT_ORDER:
            report = await import_with_progress(
                kind, shop / name, fmt=None, strict=False, batch_size=DEFAULT_BATCH, tz=tz
            )
            print_report(report)
        loaded = Loaded(await stats.shop_summary())
        await demo_mark.put(mark(shop), finished=True)
        if not (shop / "segments.yaml").is_file():
            return loaded
        defs = load(shop / "segments.yaml", names())
        # the sample shop's history ends at its last order: evaluate "days since" and windows from there, so
        # the demo shows the same personas whenever it runs
        rows = await fetch('SELECT MAX(ordered_at) FROM "order"')
        last = rows[0][0]
        as_of = datetime.fromisoformat(last) if isinstance(last, str) else last or datetime.now(UTC)
        await refresh(defs, dialect=db.dialect(), as_of=as_of)
        first = await fetch("SELECT external_id FROM customer ORDER BY id LIMIT 1")
        loaded.counts, loaded.as_of = await audience.counts(defs, db.dialect(), as_of), as_of
        loaded.customer = str(first[0][0]) if first else None
        return loaded


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
        Path | None,
        typer.Option(
            help="SQLite file for the demo (default: the configured database, <data dir>/chatcast.sqlite3);"
            " never one that holds data of your own."
        ),
    ] = None,
    campaign: Annotated[Path, typer.Option(help="The campaign to launch through the sandboxes.")] = DEMO_CAMPAIGN,
    send: Annotated[bool, typer.Option("--send/--no-send", help="Launch the campaign (or only load the shop).")] = True,
) -> None:
    """Run Chatcast on its defaults: the sample shop in the default database, a campaign through both sandboxes."""
    from chatcast.demo_database import DatabaseTaken, choose, clear, shown

    settings = state(ctx).settings
    try:
        target = choose(settings, database)
    except DatabaseTaken as exc:
        fail(str(exc))
    clear(target.path)
    where = " (the default database)" if target.default else ""
    out.print(f"Creating {shown(target.path)}{where} and importing the sample shop from {shop} ...")
    loaded = run(ctx, load_shop(target.url, shop, settings.timezone))
    print_summary(loaded.summary)
    if loaded.counts is not None and loaded.as_of is not None:
        total, rows = loaded.counts
        print_counts(total, rows, f"Personas and segments (as of the shop's last order, {loaded.as_of:%Y-%m-%d})")
    launched = None
    if send and loaded.as_of is not None and (shop / "segments.yaml").is_file():
        launched = run_campaign(ctx, target.url, shop, campaign, loaded.as_of)
    print_next(target, campaign, launched, loaded.as_of, loaded.customer)


def print_next(
    target: Target, campaign: Path, launched: str | None, as_of: datetime | None, customer: str | None
) -> None:
    """The commands to run next on the demo's data, each as it works when typed here."""
    from chatcast.demo_database import shown

    lines = []
    if launched is not None:
        lines += [
            ("where the campaign stands", f"campaign status {launched}"),
            ("its funnel, variants and lift", f"report campaign {launched}"),
            ("the file, checked against the shop", f"campaign validate {shlex.quote(shown(campaign))}"),
        ]
    others = sorted(p for p in campaign.parent.glob("*.yaml") if p.resolve() != campaign.resolve())
    previewed = others[0] if launched is not None and others else campaign
    lines.append(("each persona's message, sending nothing", f"campaign preview {shlex.quote(shown(previewed))}"))
    if as_of is not None:
        day = f"{as_of:%Y-%m-%d}"
        lines.append(("personas and segments", f"segments show --as-of {day}"))
        if customer is not None:
            lines.append(("why a customer has their persona", f"segments explain {customer} --as-of {day}"))
    out.print("Explore it with the commands you will use on your own shop:")
    for what, args in lines:
        out.print(f"  {escape(target.command(args))}  [dim]# {what}[/]", soft_wrap=True)


def run_campaign(ctx: typer.Context, url: str, shop: Path, campaign: Path, as_of: datetime) -> str:
    """Launch the demo campaign through every channel's sandbox and print its funnel; the campaign's id."""
    from bots.registry import find, names, titles
    from chatcast.demo_campaign import run_demo_campaign
    from chatcast.demo_database import mark
    from chatcast.engine import build_assistant, build_writer
    from segments.definitions import load
    from storage import db, demo_mark

    settings = state(ctx).settings
    defs = load(shop / "segments.yaml", names())
    writer = build_writer(settings)
    mode = f"the model {settings.openai_model}" if settings.openai_api_key else "the template writer"
    out.print(f"Launching {campaign.name} through the {titles()} sandboxes, written by {mode} ...")

    knowledge = shop / "knowledge.yaml"
    shop_settings = settings.model_copy(update={"knowledge_file": knowledge}) if knowledge.is_file() else settings

    async def go() -> DemoRun:
        async with db.database(url):
            assistant = build_assistant(shop_settings, {}, None)
            done = await run_demo_campaign(
                campaign,
                defs,
                writer,
                as_of=as_of,
                shop_name=settings.shop_name,
                shop_url=settings.shop_url,
                assistant=assistant,
            )
            await demo_mark.put(mark(shop), finished=True)  # the shop as the demo leaves it: later imports show
            return done

    result = run(ctx, go())
    out.print(
        f"{result.opted_in} customers opted in through the shop's links; {result.blocked} had blocked the bot;"
        f" readers clicked {result.clicked} links or buttons and pressed Not now {result.snoozed} times."
    )
    table = Table("stage", "customers", title=f"Funnel of {result.campaign}", title_justify="left")
    order = ["targeted", "holdout", "sent", "failed", "unknown", "clicked", "snoozed", "opted_out"]
    for key in order + sorted(k for k in result.funnel if k not in order):
        if key in result.funnel:
            table.add_row(key, f"{result.funnel[key]:,}")
    out.print(table)
    if result.chat:
        kind = f"the model {settings.openai_model}" if settings.openai_api_key else "offline"
        out.print(f"A customer chats with the shop assistant ({kind}) on {find(result.chat_channel).title}:")
        for question, answer in result.chat:
            out.print(f"  [bold]customer:[/] {escape(question)}")
            out.print(f"  [bold]shop:[/] {escape(answer)}".replace("\n", "\n        "))
    return result.campaign
