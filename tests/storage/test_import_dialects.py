"""Files as spreadsheets write them: semicolon and tab delimiters, byte-order marks, UTF-16, Windows-1252, decimal
commas and dotted dates, on both databases."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.importers import SourceError, import_file
from storage.models import Customer, Order, Product

# A German Excel "CSV UTF-8 (durch Trennzeichen getrennt)": semicolons, a byte-order mark, decimal commas
GERMAN_PRODUCTS = "\ufeffsku;name;category;price;currency\nLS-1;Laufschuh „Föhn“;Schuhe;89,90;EUR\n"
GERMAN_PRODUCTS += 'UHR-2;"GPS-Uhr; Titan";Uhren;1.249,00;EUR\nSO-3;Socke;Socken;9.5;EUR\n'


async def test_a_german_excel_export_reads_semicolons_bom_and_decimal_commas(database: str, tmp_path: Path) -> None:
    path = tmp_path / "artikel.csv"
    path.write_text(GERMAN_PRODUCTS, encoding="utf-8")
    report = await import_file("products", path)
    assert (report.rows, report.imported, report.bad) == (3, 3, 0), report.errors
    assert report.read_as == "semicolon-separated, decimal commas accepted"
    prices = {p.sku: (p.name, p.price) for p in await Product.all()}
    assert prices == {"LS-1": ("Laufschuh „Föhn“", 89.9), "UHR-2": ("GPS-Uhr; Titan", 1249.0), "SO-3": ("Socke", 9.5)}


async def test_an_ambiguous_thousands_dot_is_refused_and_a_decimal_comma_needs_semicolons(
    database: str, tmp_path: Path
) -> None:
    (tmp_path / "semi.csv").write_text("sku;name;price\nA;Uhr;1.249\nB;Gel;2,5\n", encoding="utf-8")
    report = await import_file("products", tmp_path / "semi.csv")
    assert [(e.row, e.column) for e in report.errors] == [(1, "price")]
    assert "'1.249' is ambiguous in a semicolon-separated file: write 1249 if you mean 1249" in report.errors[0].reason
    assert (await Product.get(sku="B")).price == 2.5
    (tmp_path / "comma.csv").write_text('sku,name,price\nC,Gel,"2,5"\n', encoding="utf-8")
    report = await import_file("products", tmp_path / "comma.csv")
    assert report.errors[0].reason == "'2,5' has a decimal comma, read only in semicolon-separated files: write 2.5"
    assert not await Product.filter(sku="C").exists()


async def test_tab_separated_and_utf16_files_as_excel_saves_unicode_text(database: str, tmp_path: Path) -> None:
    tabbed = "external_id\tname\tlanguage\tattr_note\nC1\tJürgen Groß\tde\ta, b; c\n"
    (tmp_path / "tab.csv").write_text(tabbed, encoding="utf-8")
    report = await import_file("customers", tmp_path / "tab.csv")
    assert report.bad == 0 and report.read_as == "tab-separated"
    jurgen = await Customer.get(external_id="C1")
    assert jurgen.name == "Jürgen Groß" and jurgen.attributes == {"note": "a, b; c"}
    (tmp_path / "unicode.csv").write_bytes(tabbed.replace("C1", "C2").encode("utf-16"))  # with its BOM
    report = await import_file("customers", tmp_path / "unicode.csv")
    assert report.bad == 0 and report.read_as == "tab-separated, UTF-16"
    assert (await Customer.get(external_id="C2")).name == "Jürgen Groß"


async def test_a_windows_1252_file_is_refused_naming_the_byte_and_line_until_its_encoding_is_given(
    database: str, tmp_path: Path
) -> None:
    text = "external_id;name;language\nC1;Ada;en\nC2;Jürgen Groß;de\nC3;Zoë;fr\n"
    path = tmp_path / "kunden.csv.gz"
    path.write_bytes(gzip.compress(text.encode("cp1252")))
    with pytest.raises(SourceError) as caught:
        await import_file("customers", path)
    message = str(caught.value)
    assert "line 3: byte 0xFC ('ü' in Windows-1252) is not UTF-8" in message
    assert "Save it as 'CSV UTF-8'" in message and "--encoding cp1252" in message
    assert await Customer.all().count() == 0  # refused before anything was written
    report = await import_file("customers", path, encoding="cp1252")
    assert report.bad == 0 and report.read_as == "semicolon-separated, Windows-1252, decimal commas accepted"
    assert sorted(c.name for c in await Customer.all()) == ["Ada", "Jürgen Groß", "Zoë"]
    with pytest.raises(SourceError, match="unknown encoding 'klingon'"):
        await import_file("customers", path, encoding="klingon")


async def test_a_forced_delimiter_wins_and_a_wrong_one_says_what_the_header_looks_like(
    database: str, tmp_path: Path
) -> None:
    # as many commas as semicolons in the header: the sniff reads commas; the shop knows better
    path = tmp_path / "c.csv"
    path.write_text("external_id;attr_size, cm;attr_width, cm\nC1;42,5;10\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"line 1 \(header\): unknown column 'external_id;attr_size'"):
        await import_file("customers", path)
    report = await import_file("customers", path, delimiter=";")
    assert report.bad == 0 and (await Customer.get(external_id="C1")).attributes == {
        "size, cm": "42,5",
        "width, cm": 10,
    }
    path.write_text("external_id;name\nC1;Ada, Countess of Lovelace\n", encoding="utf-8")
    with pytest.raises(SourceError, match=r"is the file separated by ';'\? try --delimiter ';'"):
        await import_file("customers", path, delimiter=",")
    report = await import_file("customers", path, delimiter=";")
    assert report.bad == 0 and (await Customer.get(external_id="C1")).name == "Ada, Countess of Lovelace"
    tabbed = tmp_path / "t.csv"
    tabbed.write_text("external_id\tname\nC2\tBo;b\n", encoding="utf-8")
    assert (await import_file("customers", tabbed, delimiter="tab")).bad == 0
    assert (await Customer.get(external_id="C2")).name == "Bo;b"
    with pytest.raises(SourceError, match=r"unknown delimiter '\|' \(choose ',', ';' or 'tab'\)"):
        await import_file("customers", path, delimiter="|")
    (tmp_path / "c.jsonl").write_text('{"external_id": "C3"}\n', encoding="utf-8")
    with pytest.raises(SourceError, match="--delimiter is for CSV files"):
        await import_file("customers", tmp_path / "c.jsonl", delimiter=";")


async def test_orders_with_dotted_dates_and_decimal_commas(database: str, tmp_path: Path) -> None:
    await Customer.create(external_id="K1", name="Lena")
    await Product.create(sku="LS-1", name="Laufschuh", price=89.9, currency="EUR")
    text = "order_id;customer_id;ordered_at;sku;quantity;unit_price;currency\n"
    text += "B-1;K1;01.04.2027 09:30;LS-1;2;89,90;EUR\nB-2;K1;31.02.2027;LS-1;1;89,90;EUR\n"
    (tmp_path / "bestellungen.csv").write_text(text, encoding="utf-8-sig")
    report = await import_file("orders", tmp_path / "bestellungen.csv")
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (2, "ordered_at", "'31.02.2027' is not a date (day.month.year)")
    ]
    order = await Order.get(external_id="B-1")
    assert order.ordered_at == datetime(2027, 4, 1, 9, 30, tzinfo=UTC) and order.total == pytest.approx(179.8)
