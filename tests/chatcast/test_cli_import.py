"""A German shop's Excel exports through ``chatcast import``, from an empty database, on SQLite and PostgreSQL:
semicolons, a byte-order mark, Windows-1252, decimal commas and dotted dates; every mistake one clear line."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage import db
from storage.models import Customer, Order, Product, Review
from tests.fakes.cli import invoke
from tests.fakes.databases import truncate


async def empty(url: str) -> None:
    async with db.database(url):
        if url.startswith("postgres"):
            await truncate()


async def stored(url: str) -> tuple[list[tuple[str, str]], dict[str, float], list[tuple[str, datetime, float]], list]:
    async with db.database(url):
        customers = sorted(await Customer.all().values_list("external_id", "name"))
        prices = dict(await Product.all().values_list("sku", "price"))
        orders = sorted(await Order.all().values_list("external_id", "ordered_at", "total"))
        ratings = await Review.all().values_list("rating", flat=True)
    return customers, prices, orders, ratings


def test_a_german_excel_export_imports_after_one_clear_hint(
    backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    asyncio.run(empty(backend))
    # Excel's "CSV (Trennzeichen-getrennt)": semicolons, Windows-1252
    kunden = "external_id;name;language;timezone\r\nK1;Jürgen Groß;de;Europe/Berlin\r\nK2;Zoë Weiß;de;Europe/Vienna\r\n"
    (isolated / "kunden.csv").write_bytes(kunden.encode("cp1252"))
    code, output = invoke("import", "customers", "kunden.csv")
    lines = [line for line in output.splitlines() if line.startswith("error:")]
    assert code == 1 and len(lines) == 1 and "Traceback" not in output
    assert " ".join(output.split()).endswith(
        "error: kunden.csv: line 2: byte 0xFC ('ü' in Windows-1252) is not UTF-8: the file is in another encoding,"
        " such as the Windows-1252 of Excel's 'CSV' export. Save it as 'CSV UTF-8' (Excel: Save As, CSV UTF-8) or"
        " import it with --encoding cp1252"
    )
    code, output = invoke("import", "customers", "kunden.csv", "--encoding", "cp1252")
    assert code == 0 and "2 rows read, 2 imported, 0 bad" in output
    assert "read as: semicolon-separated, Windows-1252, decimal commas accepted" in output

    # Excel's "CSV UTF-8": semicolons and a byte-order mark; prices with decimal commas
    artikel = "sku;name;price;currency\nLS-1;Laufschuh;89,90;EUR\nUHR-2;GPS-Uhr;1.249,00;EUR\nGEL-3;Gel;1.249;EUR\n"
    (isolated / "artikel.csv").write_text(artikel, encoding="utf-8-sig")
    code, output = invoke("import", "products", "artikel.csv")
    assert code == 0 and "3 rows read, 2 imported, 1 bad" in output
    assert "artikel.csv row 3 (line 4), column 'price': '1.249' is ambiguous" in " ".join(output.split())
    bestellungen = "order_id;customer_id;ordered_at;sku;quantity;unit_price;currency\n"
    bestellungen += "B-1;K1;01.04.2027 09:30;LS-1;2;89,90;EUR\nB-2;K2;15.03.2027;UHR-2;1;1.249,00;EUR\n"
    (isolated / "bestellungen.csv").write_text(bestellungen, encoding="utf-8-sig")
    code, output = invoke("import", "orders", "bestellungen.csv", "--delimiter", ";")
    assert code == 0 and "2 rows read, 2 imported, 0 bad" in output
    (isolated / "bewertungen.csv").write_text("sku\ttext\trating\nLS-1\tBequem und leicht\t4,5\n", encoding="utf-8")
    code, output = invoke("import", "reviews", "bewertungen.csv", "--delimiter", "tab")
    assert code == 0 and "1 rows read, 0 imported, 1 bad" in output  # a decimal comma needs semicolons
    assert "'4,5' has a decimal comma, read only in semicolon-separated files: write 4.5" in " ".join(output.split())
    (isolated / "bewertungen.csv").write_text("sku;text;rating\nLS-1;Bequem und leicht;4,5\n", encoding="utf-8")
    assert invoke("import", "reviews", "bewertungen.csv")[0] == 0

    code, output = invoke("import", "orders", "bestellungen.csv", "--delimiter", "|")
    assert code == 1 and " ".join(output.split()).endswith(
        "error: bestellungen.csv: unknown delimiter '|' (choose ',', ';' or 'tab')"
    )
    customers, prices, orders, ratings = asyncio.run(stored(backend))
    assert customers == [("K1", "Jürgen Groß"), ("K2", "Zoë Weiß")]
    assert prices == {"LS-1": 89.9, "UHR-2": 1249.0}
    # dotted dates are the shop's own time (UTC here): 09:30 on 1 April
    assert orders == [
        ("B-1", datetime(2027, 4, 1, 9, 30, tzinfo=UTC), pytest.approx(179.8)),
        ("B-2", datetime(2027, 3, 15, tzinfo=UTC), pytest.approx(1249.0)),
    ]
    assert ratings == [4.5]


def test_every_bad_timezone_is_a_bad_row_named_and_the_others_are_imported(
    backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch, zone_files: str
) -> None:
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    asyncio.run(empty(backend))
    names = ["America", "Nope/Nope", "", "../etc/passwd", "UTC", "Europe/Berlin"]
    rows = "".join(f"Z{n},Name {n},{zone}\n" for n, zone in enumerate(names, 1))
    (isolated / "zones.csv").write_text("external_id,name,timezone\n" + rows, encoding="utf-8")
    code, output = invoke("import", "customers", "zones.csv")
    flat = " ".join(output.split())
    assert code == 0 and "Traceback" not in output and "6 rows read, 3 imported, 3 bad" in flat
    for row, zone in ((1, "America"), (2, "Nope/Nope"), (4, "../etc/passwd")):
        assert (
            f"zones.csv row {row} (line {row + 1}), column 'timezone': unknown timezone {zone!r} (use an IANA name"
            " such as Europe/Berlin)"
        ) in flat

    async def zones() -> list[tuple[str, str | None]]:
        async with db.database(backend):
            return sorted(await Customer.all().values_list("external_id", "timezone"))

    assert asyncio.run(zones()) == [("Z3", None), ("Z5", "UTC"), ("Z6", "Europe/Berlin")]  # an empty cell: no zone


def test_a_key_repeated_within_one_file_is_reported_the_later_row_wins_and_strict_refuses_the_file(
    backend: str, isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #26: a second row with the same external_id silently won; now the summary names both rows."""
    monkeypatch.setenv("CHATCAST_DATABASE_URL", backend)
    asyncio.run(empty(backend))
    rows = "C1,Ann\nC2,Bob\nC1,Ann Smith\nC3,Cy\nC2,Bob Jones\nC1,Ann Lee\n"
    (isolated / "twice.csv").write_text("external_id,name\n" + rows, encoding="utf-8")
    code, output = invoke("import", "customers", "twice.csv", "--strict")
    assert code == 1 and output.strip().splitlines()[-1] == (
        "error: twice.csv row 3 (line 4): repeats the external_id of row 1: with --strict a key may appear once"
        " in a file (without it, the later row wins)"
    )
    assert asyncio.run(stored(backend))[0] == []  # strict: nothing written
    code, output = invoke("import", "customers", "twice.csv", "--batch-size", "2")  # the repeats span batches
    lines = [" ".join(line.split()) for line in output.strip().splitlines() if "━" not in line]  # no progress bar
    assert code == 0 and "6 rows read, 6 imported, 0 bad" in lines[0]
    assert lines[1:] == [
        "3 rows repeat the external_id of an earlier row; the later row won (--strict refuses such a file):",
        "repeated twice.csv row 3 (line 4) repeats row 1",
        "repeated twice.csv row 5 (line 6) repeats row 2",
        "repeated twice.csv row 6 (line 7) repeats row 1",
    ]
    assert asyncio.run(stored(backend))[0] == [("C1", "Ann Lee"), ("C2", "Bob Jones"), ("C3", "Cy")]
