"""``chatcast config``: the settings Chatcast reads, as it reads them; the exchange rates the shop keeps."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from chatcast.console import UserError, fail, out, run, state

if TYPE_CHECKING:
    from storage.money import Rate

config_app = typer.Typer(
    help="Show the configuration Chatcast reads from the environment and .env; keep the exchange rates.",
    no_args_is_help=True,
)


@config_app.command("show")
def config_show(ctx: typer.Context) -> None:
    """Print every setting, with secrets masked and passwords removed from URLs."""
    from rich.table import Table

    table = Table("setting", "value", "environment variable")
    for name, value in state(ctx).settings.public_view().items():
        table.add_row(name, value, f"CHATCAST_{name.upper()}")
    out.print(table)


rates_app = typer.Typer(
    help="Exchange rates into the shop's currency (CHATCAST_SHOP_CURRENCY), for revenue added up across currencies.",
    no_args_is_help=True,
)
config_app.add_typer(rates_app, name="rates")


@rates_app.command("list")
def rates_list(ctx: typer.Context) -> None:
    """Print every rate: what 1 unit of each currency is worth in the shop's currency, and when it was set."""
    from rich.table import Table

    from storage import db
    from storage.money import stored_rates

    settings = state(ctx).settings

    async def go() -> list[Rate]:
        async with db.database(settings.db_url):
            return await stored_rates()

    stored = run(ctx, go())
    shop = settings.shop_currency
    if not stored:
        out.print(f"no exchange rates: revenue in a currency other than {shop} is reported in its own currency")
        return
    table = Table("currency", f"1 unit in {shop}", "set at", title=f"Exchange rates into {shop}", title_justify="left")
    for rate in stored:
        table.add_row(rate.currency, f"{rate.per_unit:g}", f"{rate.updated_at:%Y-%m-%d %H:%M} UTC")
    out.print(table)


@rates_app.command("set")
def rates_set(
    ctx: typer.Context,
    currency: Annotated[str, typer.Argument(help="An ISO 4217 code, e.g. EUR.")],
    rate: Annotated[str, typer.Argument(help="What 1 unit of it is worth in the shop's currency, e.g. 1.08.")],
) -> None:
    """Set one rate: chatcast config rates set EUR 1.08 (in a USD shop: 1 EUR is 1.08 USD)."""
    from storage import db
    from storage.money import set_rates

    settings = state(ctx).settings

    async def go() -> dict[str, float]:
        async with db.database(settings.db_url):
            return await set_rates({currency: rate}, settings.shop_currency)  # type: ignore[dict-item]

    [(code, value)] = run(ctx, go()).items()
    out.print(f"1 {code} = {value:g} {settings.shop_currency}")


@rates_app.command("import")
def rates_import(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="A CSV file with the columns currency and rate.")],
) -> None:
    """Set the rates of a CSV file (columns currency, rate: 1 unit in the shop's currency), all or none."""
    from storage import db
    from storage.money import read_rates, set_rates

    settings = state(ctx).settings

    async def go() -> dict[str, float]:
        if not file.is_file():
            raise UserError(f"{file}: no such file")
        given = read_rates(file.read_text(encoding="utf-8"), settings.shop_currency)
        async with db.database(settings.db_url):
            return await set_rates(given, settings.shop_currency)

    stored = run(ctx, go())
    out.print(f"{len(stored):,} exchange rate{'' if len(stored) == 1 else 's'} into {settings.shop_currency} set")


@rates_app.command("remove")
def rates_remove(
    ctx: typer.Context, currency: Annotated[str, typer.Argument(help="An ISO 4217 code, e.g. EUR.")]
) -> None:
    """Forget one rate: revenue in that currency is reported in its own again."""
    from storage import db
    from storage.money import remove_rate

    settings = state(ctx).settings

    async def go() -> bool:
        async with db.database(settings.db_url):
            return await remove_rate(currency)

    if not run(ctx, go()):
        fail(f"no rate of {currency.strip().upper()} to remove")
    out.print(f"the rate of {currency.strip().upper()} is removed")
