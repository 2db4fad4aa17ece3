"""``chatcast products``: write product descriptions, review the drafts, export the approved ones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from chatcast.console import UserError, fail, out, run, state

if TYPE_CHECKING:
    from assistant.descriptions.service import Written
    from storage.models import ProductCopy

products_app = typer.Typer(
    help="Product descriptions from the catalog and the reviews: write, review, export.", no_args_is_help=True
)
SkuOpt = Annotated[list[str] | None, typer.Option("--sku", help="A product's SKU (repeat for more).")]
LanguageOpt = Annotated[
    list[str] | None, typer.Option("--language", help="A language code (repeat; default: the shop's languages).")
]


@products_app.command("describe")
def describe(
    ctx: typer.Context,
    sku: SkuOpt = None,
    category: Annotated[str | None, typer.Option(help="Every active product of this category.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every active product.")] = False,
    language: LanguageOpt = None,
) -> None:
    """Write a description (and a short one for chat) per product and language, kept as a draft for review."""
    from assistant.descriptions.service import describe_products
    from assistant.descriptions.writer import Describer
    from assistant.descriptions.writer_openai import OpenAIDescriber
    from chatcast.engine import load_knowledge, openai_client
    from storage import db, descriptions

    if not (sku or category or every):
        fail("say which products: --sku S, --category C or --all", code=2)
    settings = state(ctx).settings
    shop = load_knowledge(settings).shop.languages if settings.knowledge_file.is_file() else ["en"]
    languages = list(dict.fromkeys(language or shop or ["en"]))
    client = openai_client(settings)
    writer = OpenAIDescriber(client, settings.openai_model) if client is not None else None
    describer = Describer(writer, banned=tuple(settings.banned_phrases))

    def shown(w: Written) -> None:
        d = w.description
        note = f" [yellow]({escape(d.note)})[/]" if d.note else ""
        out.print(f"{escape(f'{w.sku} [{d.language}] {d.source}: {d.short}')}{note}")

    async def go() -> int:
        async with db.database(settings.db_url):
            products = await descriptions.catalog(skus=sku or (), category=category)
            missing = sorted(set(sku or ()) - {p.sku for p in products})
            if missing:
                raise UserError(f"no active product {missing[0]!r}")
            if not products:
                raise UserError("no active product to describe")
            return len(await describe_products(describer, products, languages, shown))

    written = run(ctx, go())
    fallbacks = f", {describer.stats.fallbacks} fell back to the template" if describer.stats.fallbacks else ""
    out.print(f"{written} draft(s) written{fallbacks}; see them with: chatcast products review")


@products_app.command("review")
def review(
    ctx: typer.Context,
    approve: Annotated[list[str] | None, typer.Option("--approve", help="Approve this SKU's drafts (repeat).")] = None,
    reject: Annotated[list[str] | None, typer.Option("--reject", help="Reject this SKU's drafts (repeat).")] = None,
    approve_all: Annotated[bool, typer.Option("--approve-all", help="Approve every draft.")] = False,
    language: Annotated[str | None, typer.Option(help="Only drafts in this language.")] = None,
    interactive: Annotated[bool, typer.Option("--interactive", "-i", help="Ask about each draft in turn.")] = False,
) -> None:
    """Show the drafts beside the current text; approve or reject them (by SKU, all, or one by one)."""
    from storage import db, descriptions

    settings = state(ctx).settings
    now = datetime.now(UTC)

    async def go() -> None:
        async with db.database(settings.db_url):
            decided = 0
            if both := sorted(set(approve or ()) & set(reject or ())):
                raise UserError(f"{both[0]} is both --approve and --reject: choose one")
            if reject:  # first: --approve-all --reject X approves every draft but X's
                decided += await descriptions.decide(approve=False, at=now, skus=reject, language=language)
            if approve_all or approve:
                decided += await descriptions.decide(approve=True, at=now, skus=approve or (), language=language)
            if approve_all or approve or reject:
                if not decided and not approve_all:
                    named = ", ".join([*(approve or []), *(reject or [])])
                    raise UserError(f"no draft of {named} to decide (see them with: chatcast products review)")
                out.print(f"{decided} draft(s) decided")
                return
            drafts = [d for d in await descriptions.drafts() if language in (None, d.language)]
            if not drafts:
                out.print("No drafts to review: write some with chatcast products describe.")
                return
            for draft in drafts:
                current = await descriptions.current(draft.product_id, draft.language)
                _show(draft, current)
                if interactive:
                    answer = typer.prompt("approve, reject or skip? [a/r/s]", default="s").strip().lower()[:1]
                    if answer in ("a", "r"):
                        sku = [draft.product.sku]
                        await descriptions.decide(approve=answer == "a", at=now, skus=sku, language=draft.language)

    run(ctx, go())


def _show(draft: ProductCopy, current: ProductCopy | None) -> None:
    title = f"{draft.product.sku} [{draft.language}] {draft.product.name}: draft by {draft.source}"
    table = Table("", "current", "draft", title=escape(title), title_justify="left", show_lines=True)
    table.add_row("long", escape(current.long if current else draft.product.description or "-"), escape(draft.long))
    table.add_row("short", escape(current.short if current else "-"), escape(draft.short))
    out.print(table)
    if draft.note:
        out.print(f"  note: {escape(draft.note)}")


@products_app.command("export")
def export_command(
    ctx: typer.Context,
    out_file: Annotated[Path, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    language: Annotated[str | None, typer.Option(help="Only this language.")] = None,
) -> None:
    """Write the approved descriptions (sku, language, name, description, short_description) for the shop."""
    from assistant.descriptions.service import export
    from storage import db, descriptions

    if fmt not in ("csv", "jsonl"):
        fail(f"--format: {fmt!r} is not csv or jsonl", code=2)
    settings = state(ctx).settings

    async def go() -> list[ProductCopy]:
        async with db.database(settings.db_url):
            return await descriptions.approved(language)

    rows = run(ctx, go())
    try:
        count = export(rows, fmt, out_file)
    except OSError as exc:
        fail(f"cannot write {out_file}: {exc.strerror or exc}")
    out.print(f"Wrote {count} approved description(s) to {out_file}")
