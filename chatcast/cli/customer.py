"""``chatcast customer``: a customer's data on request - exported as JSON, or erased (GDPR-style); their
order notices switched on or off; their complaints listed and resolved."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.markup import escape
from rich.table import Table

from chatcast.console import UserError, fail, out, run, state

if TYPE_CHECKING:
    from storage import complaints
    from storage.models import Customer

customer_app = typer.Typer(
    help="A customer's data on request (export, erase); order notices (on, off); complaints (list, resolve).",
    no_args_is_help=True,
)
IdArgument = Annotated[str, typer.Argument(help="The customer's id in the shop (its external id).")]
T = TypeVar("T")


def _on_customer(ctx: typer.Context, customer: str, action: Callable[[Customer], Awaitable[T]]) -> T:
    """Run ``action`` on the customer the shop knows as ``customer``; one line of error when there is none."""
    from storage import db, privacy

    settings = state(ctx).settings

    async def go() -> T:
        async with db.database(settings.db_url):
            found = await privacy.find(customer)
            if found is None:
                raise UserError(f"no customer {customer!r}")
            return await action(found)

    return run(ctx, go())


@customer_app.command("export")
def export_command(
    ctx: typer.Context,
    customer: IdArgument,
    to: Annotated[Path | None, typer.Option("--out", help="Write the JSON to this file (default: print it).")] = None,
) -> None:
    """Everything stored about one customer, as JSON: profile, consent, chats, orders, messages, events, feedback."""
    from storage import privacy

    data = _on_customer(ctx, customer, privacy.export)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if to is None:
        out.print_json(text)
        return
    try:
        to.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {to}: {exc.strerror or exc}")
    out.print(f"Wrote {to}")


@customer_app.command("erase")
def erase_command(
    ctx: typer.Context,
    customer: IdArgument,
    yes: Annotated[bool, typer.Option("--yes", help="Erase without asking.")] = False,
) -> None:
    """Erase one customer: contacts, chats and texts removed, consent withdrawn; orders kept only as anonymous
    sales (the shop's own books keep its order records); counts kept anonymously."""
    from storage import privacy

    if not yes and not typer.confirm(f"Erase customer {customer}? This cannot be undone.", default=False):
        raise typer.Exit(1)
    changed = _on_customer(ctx, customer, privacy.erase)
    summary = ", ".join(f"{n} {what}" for what, n in changed.items() if n)
    out.print(f"Erased customer {customer}: {summary or 'no related rows'}; the anonymous row keeps counts.")


@customer_app.command("notices")
def notices_command(
    ctx: typer.Context,
    customer: IdArgument,
    switch: Annotated[str, typer.Argument(help="on or off.", metavar="on|off")],
) -> None:
    """Turn one customer's order notices (paid, shipped, delayed, delivered, refunded) on or off; marketing
    consent is not touched. Customers can do the same in the chat with STOP NOTICES / START NOTICES."""
    from storage import notices

    if switch not in ("on", "off"):
        raise typer.BadParameter("say on or off", param_hint="on|off")

    async def change(found: Customer) -> bool:
        return await notices.set_notices(found.id, switch == "on", datetime.now(UTC))

    changed = _on_customer(ctx, customer, change)
    state_word = "on" if switch == "on" else "off"
    out.print(f"Order notices for customer {customer} are {state_word}{'' if changed else ' (they already were)'}.")


@customer_app.command("complaints")
def complaints_command(ctx: typer.Context) -> None:
    """Open complaints, oldest first: while one is open the customer gets no promotions."""
    from storage import complaints, db

    settings = state(ctx).settings

    async def go() -> list[complaints.OpenComplaint]:
        async with db.database(settings.db_url):
            return await complaints.open_list()

    found = run(ctx, go())
    if not found:
        out.print("No open complaints.")
        return
    table = Table(title="Open complaints")
    for column in ("customer", "name", "opened", "from", "what they said"):
        table.add_column(column)
    for c in found:
        # customers' words are data: rich markup in them ("[bold]") is shown as written
        table.add_row(
            escape(c.external_id), escape(c.name), f"{c.opened_at:%Y-%m-%d %H:%M}", c.source, escape(c.text[:80])
        )
    out.print(table)


@customer_app.command("resolve")
def resolve_command(ctx: typer.Context, customer: IdArgument) -> None:
    """Mark the customer's complaint resolved: what they said before now no longer suppresses promotions."""
    from storage import complaints

    async def resolve(found: Customer) -> int:
        return await complaints.resolve(found.id, at=datetime.now(UTC), how="cli")

    closed = _on_customer(ctx, customer, resolve)
    what = f"{closed} open complaint{'s' if closed != 1 else ''} resolved" if closed else "no complaint was open"
    out.print(f"Customer {customer}: {what}; promotions may reach them again.")
