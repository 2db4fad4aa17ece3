"""Imports on both databases: counts, upserts, idempotency, row-exact errors, strict mode, references."""

from __future__ import annotations

import csv
import json
from functools import partial
from pathlib import Path

import pytest
from tortoise import connections

from chatcast.channels import identity_columns
from storage import importers
from storage.importers import ImportAborted, SourceError
from storage.models import ChannelIdentity, Customer, Order, OrderItem, Product
from storage.stats import TABLES
from tests.fakes.environment import reference_file

# customers files link chat identities through the registry's columns, as the CLI imports them
import_file = partial(importers.import_file, identities=identity_columns())

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


async def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, for "nothing changed" comparisons."""
    conn = connections.get("default")
    result = {}
    for table in TABLES:
        _, rows = await conn.execute_query(f'SELECT * FROM "{table}" ORDER BY 1')
        result[table] = [tuple(dict(r).values()) for r in rows]
    return result


CUSTOMERS = """
external_id,name,email,language,timezone,country,tags,opted_in_at,telegram_chat_id,slack_user,attr_tier
C1,Ada Lovelace,ADA@example.com,en,Europe/London,GB,vip;newsletter,2026-01-02T10:00:00Z,1001,,gold
C2,Bruno Díaz,bruno@example.com,es,Europe/Madrid,ES,,,,T01/U02,
C3,Chen Wei,chen@example.com,zh,Asia/Shanghai,CN,,2026-03-01 09:00:00,1003,T01/U03,silver
"""


async def test_customers_are_upserted_with_identities_and_attributes(database: str, tmp_path: Path) -> None:
    report = await import_file("customers", write(tmp_path / "c.csv", CUSTOMERS))
    assert (report.rows, report.imported, report.bad) == (3, 3, 0)
    assert report.created == {"customer": 3, "channel_identity": 4}
    ada = await Customer.get(external_id="C1")
    assert ada.email == "ada@example.com" and ada.tags == ["vip", "newsletter"]
    assert ada.attributes == {"tier": "gold"} and ada.opted_in_at is not None
    assert ada.opted_in_at.isoformat() == "2026-01-02T10:00:00+00:00"
    chen = await Customer.get(external_id="C3")
    assert chen.opted_in_at is not None and chen.opted_in_at.hour == 9  # naive = shop timezone (UTC here)
    addresses = {(i.channel, i.address) for i in await ChannelIdentity.filter(customer=chen)}
    assert addresses == {("telegram", "1003"), ("slack", "T01:U03")}

    changed = CUSTOMERS.replace("Ada Lovelace", "Ada King").replace("1003,T01/U03", "1003,")
    report = await import_file("customers", write(tmp_path / "c2.csv", changed))
    assert report.created == {"customer": 0, "channel_identity": 0}
    assert (await Customer.get(external_id="C1")).name == "Ada King"


async def test_identity_columns_are_whatever_the_channels_declare(database: str, tmp_path: Path) -> None:
    pigeon = importers.IdentityColumn("pigeon_loft", "pigeon", int, lambda loft: f"loft-{loft}")
    path = write(tmp_path / "p.csv", "external_id,pigeon_loft\nP1,7\nP2,seven\n")
    report = await importers.import_file("customers", path, identities=[pigeon])
    assert (report.imported, report.bad) == (1, 1) and "pigeon_loft" in str(report.errors[0])
    assert {(i.channel, i.address) for i in await ChannelIdentity.all()} == {("pigeon", "loft-7")}
    with pytest.raises(SourceError, match="unknown column 'telegram_chat_id'"):  # no channel declared it
        await importers.import_file("customers", write(tmp_path / "t.csv", "external_id,telegram_chat_id\nT1,1\n"))


async def test_a_partial_file_only_touches_its_own_columns(database: str, tmp_path: Path) -> None:
    await import_file("customers", write(tmp_path / "c.csv", CUSTOMERS))
    await import_file("customers", write(tmp_path / "names.csv", "external_id,name\nC1,Ada K.\n"))
    ada = await Customer.get(external_id="C1")
    assert (ada.name, ada.email, ada.timezone) == ("Ada K.", "ada@example.com", "Europe/London")


@pytest.mark.slow
async def test_the_sample_shop_loads_completely_and_a_second_import_changes_nothing(database: str) -> None:
    def rows(name: str) -> list[dict[str, str]]:
        with open(SHOP / name, encoding="utf-8") as f:
            return list(csv.DictReader(f))

    products, customers, lines = rows("products.csv"), rows("customers.csv"), rows("orders.csv")
    for kind in ("products", "customers", "orders"):
        report = await import_file(kind, SHOP / f"{kind}.csv")
        assert report.bad == 0, report.errors[:3]
    assert await Product.all().count() == len(products)
    assert await Customer.all().count() == len(customers)
    assert await Order.all().count() == len({r["order_id"] for r in lines})
    assert await OrderItem.all().count() == len(lines)
    returns = {r["order_id"] for r in lines if r["order_id"].startswith("R")}
    assert await Order.filter(is_return=True).count() == len(returns)
    expected = sum(int(r["quantity"]) * float(r["unit_price"]) for r in lines if r["order_id"] == "O0000001")
    assert (await Order.get(external_id="O0000001")).total == pytest.approx(expected)

    before = await snapshot()
    for kind in ("products", "customers", "orders"):
        report = await import_file(kind, SHOP / f"{kind}.csv")
        assert report.bad == 0 and set(report.created.values()) == {0}
    assert await snapshot() == before


BAD_CUSTOMERS = """
external_id,name,email,language,timezone
C1,Ada,ada@example.com,en,Europe/London
C2,Bob,not-an-email,en,Europe/London
,Nobody,x@example.com,en,UTC
C4,Dee,dee@example.com,en,Mars/Olympus
C5,"Eve, with a comma",eve@example.com,english,UTC
C6,Fay,fay@example.com,en,UTC,extra
C7,Gus,gus@example.com,de,Europe/Berlin
"""


async def test_bad_rows_are_reported_exactly_and_the_rest_imported(database: str, tmp_path: Path) -> None:
    report = await import_file("customers", write(tmp_path / "bad.csv", BAD_CUSTOMERS))
    assert (report.rows, report.imported, report.bad) == (7, 2, 5)
    found = [(e.row, e.line, e.column) for e in report.errors]
    assert found == [(2, 3, "email"), (3, 4, "external_id"), (4, 5, "timezone"), (5, 6, "language"), (6, 7, None)]
    text = [str(e) for e in report.errors]
    assert text[0].startswith("bad.csv row 2 (line 3), column 'email': 'not-an-email' is not an email")
    assert "required value is missing" in text[1]
    assert "unknown timezone 'Mars/Olympus'" in text[2]
    assert "has 6 fields, the header has 5" in text[4]
    assert sorted(c.external_id for c in await Customer.all()) == ["C1", "C7"]


async def test_strict_stops_at_the_first_bad_row_and_writes_nothing(database: str, tmp_path: Path) -> None:
    good = "external_id,name\n" + "".join(f"G{i},Name {i}\n" for i in range(30))
    path = write(tmp_path / "strict.csv", good + "G99,x,y\n")
    with pytest.raises(ImportAborted) as caught:
        await import_file("customers", path, strict=True, batch_size=10)
    assert caught.value.error.row == 31 and caught.value.error.line == 32
    assert await Customer.all().count() == 0


async def test_bad_headers_and_files_are_clear_errors(database: str, tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"line 1 \(header\): unknown column 'emial'"):
        await import_file("customers", write(tmp_path / "a.csv", "external_id,emial\nC1,x\n"))
    with pytest.raises(SourceError, match="missing required column 'price'"):
        await import_file("products", write(tmp_path / "p.csv", "sku,name\nS1,Shoe\n"))
    with pytest.raises(SourceError, match="no such file"):
        await import_file("customers", tmp_path / "missing.csv")
    with pytest.raises(SourceError, match="cannot tell the format"):
        await import_file("customers", write(tmp_path / "c.xlsx", "x"))
    with pytest.raises(SourceError, match="empty"):
        await import_file("customers", write(tmp_path / "e.csv", ""))
    (tmp_path / "h.csv").write_bytes(b"external_id,n\xe4me\nC1,J\xc3\xbcrgen\n")  # a broken header in UTF-8
    with pytest.raises(SourceError, match=r"line 1 \(header\): byte 0xE4 is not UTF-8"):
        await import_file("customers", tmp_path / "h.csv")
    (tmp_path / "broken.csv.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(SourceError, match="cannot read the file"):
        await import_file("customers", tmp_path / "broken.csv.gz")


async def test_a_broken_row_is_refused_and_the_rest_imported(database: str, tmp_path: Path) -> None:
    # a UTF-8 file (Zoë) with one row in another encoding (Jürgen in Latin-1): that row is refused, not the file
    text = "external_id,name\nC1,Zoë\n".encode() + b"C2,J\xfcrgen\nC3,Nul\x00Byte\nC4,Dee\nC5,Ring\x07\n"
    (tmp_path / "mixed.csv").write_bytes(text)
    report = await import_file("customers", tmp_path / "mixed.csv")
    assert [(e.row, e.line, e.column, e.reason) for e in report.errors] == [
        (2, 3, "name", "byte 0xFC is not UTF-8 text (save the file as UTF-8, or give its --encoding)"),
        (3, 4, "name", "contains a NUL character"),
        (5, 6, "name", "contains a control character (U+0007)"),
    ]
    assert sorted(c.external_id for c in await Customer.all()) == ["C1", "C4"]
    # JSON spells NUL and control characters as escapes; and it can nest deeper than Python recurses
    deep = '{"external_id": "J4", "attributes": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}"
    json_text = '{"external_id": "J1", "name": "a\\u0000b"}\n{"external_id": "J2"}\n' + deep + "\n"
    json_text += '{"external_id": "J3", "attributes": {"note": "\\u001b[31m"}}\n{"external_id": "J5", "name": "x"}\n'
    report = await import_file("customers", write(tmp_path / "nul.jsonl", json_text))
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (1, "name", "contains a NUL character"),
        (3, None, "nested deeper than 20 levels"),
        (4, "attributes.note", "contains a control character (U+001B)"),
    ]
    assert await Customer.filter(external_id__in=["J2", "J5"]).count() == 2


PRODUCTS = "sku,name,category,price,stock\nS1,Shoe,shoes,99.90,5\nS2,Sock,socks,9.5,\n"
ORDERS = """
order_id,customer_id,ordered_at,sku,quantity,unit_price,status,discount_code
O1,C1,2026-05-01T10:00:00Z,S1,1,99.90,paid,
O1,C1,2026-05-01T10:00:00Z,S2,3,9.50,paid,
O2,C9,2026-05-02T10:00:00Z,S1,1,99.90,paid,
O3,C2,2026-05-03T10:00:00Z,S404,1,5,paid,
O4,C2,2026-05-04T10:00:00Z,S2,0,9.50,paid,
R1,C1,2026-05-09T10:00:00Z,S2,-1,9.50,returned,
O5,C2,yesterday,S2,1,9.50,paid,
O6,C2,2026-05-06T10:00:00Z,S2,1,9.50,lost,
"""


async def test_orders_name_known_customers_and_products(database: str, tmp_path: Path) -> None:
    await import_file("customers", write(tmp_path / "c.csv", CUSTOMERS))
    await import_file("products", write(tmp_path / "p.csv", PRODUCTS))
    report = await import_file("orders", write(tmp_path / "o.csv", ORDERS))
    assert (report.rows, report.imported, report.bad) == (8, 3, 5)
    reasons = {(e.row, e.column): e.reason for e in report.errors}
    assert reasons[(3, "customer_id")] == "unknown customer 'C9'"
    assert reasons[(4, "sku")] == "unknown product 'S404'"
    assert reasons[(5, "quantity")] == "quantity must not be 0"
    assert (7, "ordered_at") in reasons and (8, "status") in reasons
    order = await Order.get(external_id="O1")
    assert order.total == pytest.approx(99.90 + 3 * 9.50) and not order.is_return
    returned = await Order.get(external_id="R1")
    assert returned.is_return and returned.total == pytest.approx(-9.50)
    assert await OrderItem.filter(order=order).count() == 2


async def test_jsonl_imports_like_csv(database: str, tmp_path: Path) -> None:
    lines = [
        {"external_id": "J1", "name": "Jo", "tags": ["a", "b"], "attributes": {"size": 42}, "telegram_chat_id": 7},
        "not json",
        ["a", "list"],
        {"external_id": "J2", "language": 5},
        {"external_id": "J3", "unknown_key": 1},
    ]
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n"
    report = await import_file("customers", write(tmp_path / "c.jsonl", text))
    assert (report.rows, report.imported, report.bad) == (5, 1, 4)
    assert [(e.line, e.column) for e in report.errors] == [(2, None), (3, None), (4, "language"), (5, "unknown_key")]
    assert "not valid JSON" in report.errors[0].reason
    jo = await Customer.get(external_id="J1")
    assert jo.tags == ["a", "b"] and jo.attributes == {"size": 42}
    assert await ChannelIdentity.filter(customer=jo, channel="telegram", address="7").exists()


async def test_gzipped_files_stream_too(database: str, tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "p.csv.gz"
    path.write_bytes(gzip.compress(PRODUCTS.encode()))
    seen: list[tuple[int, int, int]] = []
    report = await import_file("products", path, on_progress=lambda *a: seen.append(a))
    assert report.imported == 2 and await Product.filter(sku="S2", stock=None).exists()
    assert seen[-1] == (path.stat().st_size, path.stat().st_size, 2)


@pytest.mark.slow
async def test_uci_online_retail_loads_with_counts_matching_the_file(database: str) -> None:
    path = reference_file("data", "online_retail_uci_subset.csv")
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    invoices = {r["InvoiceNo"] for r in rows}
    report = await import_file("online-retail", path, fmt="csv")
    assert (report.rows, report.bad) == (len(rows), 0)
    assert await Customer.all().count() == len({r["CustomerID"] for r in rows})
    assert await Product.all().count() == len({r["StockCode"] for r in rows})
    assert await Order.all().count() == len(invoices)
    assert await OrderItem.all().count() == len(rows)
    cancelled = {i for i in invoices if i.startswith("C")}
    assert await Order.filter(is_return=True).count() == len(cancelled)
    assert await Order.filter(is_return=True, total__gt=0).count() == 0
    spend = sum(int(r["Quantity"]) * float(r["UnitPrice"]) for r in rows if r["InvoiceNo"] not in cancelled)
    conn = connections.get("default")
    _, result = await conn.execute_query('SELECT SUM(total) FROM "order" WHERE NOT is_return')
    assert float(result[0][0]) == pytest.approx(spend, rel=1e-9)
    again = await import_file("online-retail", path, fmt="csv")
    assert set(again.created.values()) == {0}


async def test_keys_repeated_within_a_file_are_reported_for_products_and_numbered_order_lines(
    database: str, tmp_path: Path
) -> None:
    products = "sku,name,price\nS1,Shoe,10\nS2,Sock,2\nS1,Shoe v2,11\n"
    report = await import_file("products", write(tmp_path / "p.csv", products))
    assert [(r.row, r.line, r.first_row) for r in report.repeated] == [(3, 4, 1)] and report.key_name == "sku"
    assert (await Product.get(sku="S1")).name == "Shoe v2"  # the later row won
    await import_file("customers", write(tmp_path / "c.csv", "external_id\nC1\n"))
    head = "order_id,customer_id,ordered_at,sku,quantity,unit_price"
    numbered = f"{head},line\nO1,C1,2027-01-01,S1,1,10,1\nO1,C1,2027-01-01,S2,1,2,2\nO1,C1,2027-01-01,S2,5,2,2\n"
    report = await import_file("orders", write(tmp_path / "o.csv", numbered))
    assert [(r.row, r.first_row) for r in report.repeated] == [(3, 2)] and report.key_name == "order_id and line"
    assert sorted(await OrderItem.all().values_list("line", "quantity")) == [(1, 1), (2, 5)]
    unnumbered = f"{head}\nO2,C1,2027-01-01,S1,1,10\nO2,C1,2027-01-01,S1,1,10\n"  # each row a line of its own
    assert (await import_file("orders", write(tmp_path / "o2.csv", unnumbered))).repeated == []
    with pytest.raises(ImportAborted, match=r"row 3 .*repeats the sku of row 1"):
        await import_file(
            "products", write(tmp_path / "p2.csv", products.replace("S1,Shoe v2,11", "S1,X,1")), strict=True
        )
    assert (await Product.get(sku="S1")).name == "Shoe v2"  # strict: nothing of that file written
