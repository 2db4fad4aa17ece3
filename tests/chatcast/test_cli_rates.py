"""``chatcast config rates``: the shop's exchange rates set one by one or from a file, listed and removed, every
mistake one clear line, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from storage import db
from tests.fakes.cli import invoke
from tests.fakes.databases import truncate


async def _emptied(url: str) -> None:
    async with db.database(url):
        if url.startswith("postgres"):
            await truncate()


def test_chatcast_config_rates_keeps_the_rates(backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    monkeypatch.setenv("CHATCAST_SHOP_CURRENCY", "EUR")
    asyncio.run(_emptied(backend))
    assert "no exchange rates: revenue in a currency other than EUR" in invoke.ok("config", "rates", "list")
    assert invoke.ok("config", "rates", "set", "usd", "0.92").strip() == "1 USD = 0.92 EUR"
    (isolated / "rates.csv").write_text("currency,rate\nGBP,1.17\nJPY,0.0061\nUSD,0.93\n", encoding="utf-8")
    assert invoke.ok("config", "rates", "import", "rates.csv").strip() == "3 exchange rates into EUR set"
    listed = invoke.ok("config", "rates", "list")
    assert "Exchange rates into EUR" in listed and "1 unit in EUR" in listed
    assert re.findall(r"\b([A-Z]{3})\W+([0-9.]+)\W+20", listed) == [("GBP", "1.17"), ("JPY", "0.0061"), ("USD", "0.93")]
    code, said = invoke("config", "rates", "set", "EUR", "1")
    assert code == 1 and "EUR is the shop's currency" in said
    code, said = invoke("config", "rates", "set", "XYZ", "1")
    assert code == 1 and "'XYZ' is not an ISO 4217 currency code" in said
    (isolated / "bad.csv").write_text("currency,rate\nCHF,1.05\nGBP,-1\n", encoding="utf-8")
    code, said = invoke("config", "rates", "import", "bad.csv")
    assert code == 1 and "line 3: the rate of GBP must be a positive number" in said
    assert invoke.ok("config", "rates", "remove", "jpy").strip() == "the rate of JPY is removed"
    code, said = invoke("config", "rates", "remove", "JPY")
    assert code == 1 and "no rate of JPY to remove" in said
    assert "CHF" not in invoke.ok("config", "rates", "list")  # the bad file set nothing


@pytest.mark.parametrize("command", [[], ["list"], ["set"], ["import"], ["remove"]])
def test_every_rates_command_has_help(command: list[str]) -> None:
    code, output = invoke("config", "rates", *command, "--help")
    assert code == 0 and "Usage:" in output and len(output.strip().splitlines()) > 3
